"""Shared fixtures: the real data snapshot, read in place (never copied into the repo)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskoff.paths import resolve_data_dir

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path, _ = resolve_data_dir()
    if not (path / "series").is_dir():
        pytest.fail(f"market data snapshot not found at {path}; set RISKOFF_DATA_DIR (see README)")
    return path
