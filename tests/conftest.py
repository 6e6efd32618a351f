"""Shared fixtures: the real data snapshot, read in place (never copied into the repo)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskoff.util.paths import resolve_data_dir

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path, _ = resolve_data_dir()
    if not (path / "series").is_dir():
        pytest.fail(f"market data snapshot not found at {path}; set RISKOFF_DATA_DIR (see README)")
    return path


# One run of the default job (backtests/selloffs.toml) per test session, shared by the README
# findings test and the compare tests, plus the same config with one parameter changed.
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "backtests" / "selloffs.toml"
CHANGED_PARAMETER = ("vix_or_breadth", "min_bars_out", 7)  # strategy, overlay, new value (default 5)


def _write_default(tmp_path_factory, data_dir, doc, name):
    from riskoff.run.config import parse_config
    from riskoff.run.runner import simulate_config, write_run

    cfg = parse_config(doc, "backtests/selloffs.toml")
    result = simulate_config(cfg, data_dir=data_dir)
    return write_run(result, tmp_path_factory.mktemp("default") / name, tearsheets=False, report=False)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory, data_dir) -> Path:
    """A fresh run folder of the default config (CSV files, summary.json, findings.md; no pages)."""
    from riskoff.util.tomlfile import read_toml

    return _write_default(tmp_path_factory, data_dir, read_toml(DEFAULT_CONFIG, "config file"), "selloffs")


@pytest.fixture(scope="session")
def default_run_changed(tmp_path_factory, data_dir) -> Path:
    """The default config with one overlay parameter changed (:data:`CHANGED_PARAMETER`)."""
    import copy

    from riskoff.util.tomlfile import read_toml

    doc = copy.deepcopy(read_toml(DEFAULT_CONFIG, "config file"))
    strategy, key, value = CHANGED_PARAMETER
    next(s for s in doc["strategies"] if s["name"] == strategy)["overlays"][key] = value
    return _write_default(tmp_path_factory, data_dir, doc, "selloffs-changed")


@pytest.fixture
def myspy_project(data_dir, tmp_path) -> tuple[Path, Path]:
    """(data dir, plug-in folder): the snapshot mirrored by symlinks plus MYSPY, a copy of SPY that
    only a run's own ``[series.MYSPY]`` declares, and a signal module ``my_trend`` reading it."""
    root = tmp_path / "data"
    for src in (data_dir / "series").rglob("*.csv"):
        dst = root / src.relative_to(data_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, dst)
    (root / "series/prices/MYSPY.csv").write_text((data_dir / "series/prices/SPY.csv").read_text())
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "my_trend.py").write_text(
        '"""MYSPY below its moving average is risk-off."""\n'
        "from riskoff import RISK_OFF, RISK_ON, Param, signal_frame\n"
        'INPUTS = ["MYSPY.close"]\n'
        'PARAMS = [Param("window", 100, low=5, high=400)]\n'
        'WARMUP = "window"\n'
        "def compute(data, window=100):\n"
        '    c = data["MYSPY.close"]\n'
        "    ma = c.rolling(window).mean()\n"
        "    return signal_frame(c / ma - 1, (c < ma).map({True: RISK_OFF, False: RISK_ON}).where(ma.notna()))\n")
    return root, plugins
