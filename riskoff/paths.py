"""Where things live: the project root, plug-in folders, catalogs and the data dir.

The data dir is resolved in this order: an explicit ``--data-dir``, the ``RISKOFF_DATA_DIR``
environment variable, ``../shared/data`` beside the checkout when it exists, else ``data/cache/``.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CATALOG_FILE = PROJECT_ROOT / "data" / "catalog.toml"
WINDOWS_FILE = PROJECT_ROOT / "data" / "windows.toml"
CACHE_DIR = PROJECT_ROOT / "data" / "cache"
RESULTS_DIR = PROJECT_ROOT / "results"
SIGNALS_DIR = PROJECT_ROOT / "signals"
STRATEGIES_DIR = PROJECT_ROOT / "strategies"
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Return (data dir, how it was chosen) following the documented order."""
    if explicit:
        return Path(explicit).expanduser().resolve(), "--data-dir"
    env = os.environ.get("RISKOFF_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve(), "RISKOFF_DATA_DIR"
    if SHARED_DATA_DIR.is_dir():
        return SHARED_DATA_DIR.resolve(), "../shared/data beside the checkout"
    return CACHE_DIR.resolve(), "data/cache (no snapshot found)"
