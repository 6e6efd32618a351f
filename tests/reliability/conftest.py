"""Fixtures for the reliability tests (helpers live in reliability_helpers.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import BASE, run_cli


@pytest.fixture
def run_base(data_dir, tmp_path, capsys):
    """Run the base config on a data dir; returns (exit code, stderr, the --out folder)."""
    def run(root: Path, *extra: str, config: Path = BASE, report: bool = False) -> tuple[int, str, Path]:
        out = tmp_path / "results" / "run"
        rc, _, err = run_cli(["run", str(config), "--data-dir", str(root), "--out", str(out), "--no-tearsheets",
                              *([] if report else ["--no-report"]), *extra], capsys)
        return rc, err, out
    return run
