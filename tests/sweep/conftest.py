"""Shared helpers for the sweep tests: small sweep configs built as TOML documents."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from riskoff.run.schema import RunTable
from riskoff.sweep import parse_sweep_config, plan_sweep
from riskoff.util.schema import table_keys

RUN_KEYS = table_keys(RunTable)


def make_doc(grid: dict[str, Any], *, strategy: dict[str, Any] | None = None, **keys: Any) -> dict[str, Any]:
    """A sweep document; ``keys`` of the run schema (assets, start, cash ...) go to [run], the rest to [sweep]."""
    run = {k: v for k, v in keys.items() if k in RUN_KEYS}
    sweep = {k: v for k, v in keys.items() if k not in RUN_KEYS}
    doc = {"run": {"name": "t", "assets": ["SPY", "BTC-USD"], "start": "2018-01-01", "end": "2026-03-31", **run},
           "sweep": {"metric": "sharpe", **sweep},
           "strategy": strategy or {"name": "ma", "rule": "ma_timing"},
           "grid": grid}
    return copy.deepcopy(doc)


def make_config(grid: dict[str, Any], **kw: Any):
    return parse_sweep_config(make_doc(grid, **kw), "test.toml")


#: fractional exposures (vol targeting) so that every overlay has something to do
OVERLAY_GRID = {
    "rule.window": [10, 60],
    "rule.target_vol": [0.1, 0.25],
    "overlays.hysteresis": [0.0, 0.15],
    "overlays.min_bars_out": [0, 5],
    "overlays.cooldown_bars": [0, 3],
    "overlays.trailing_stop": [0.0, 0.08],
}
OVERLAY_STRATEGY = {"name": "vt", "rule": "vol_target"}


@pytest.fixture(scope="session")
def overlay_plan(data_dir):
    cfg = make_config(OVERLAY_GRID, strategy=OVERLAY_STRATEGY)
    return plan_sweep(cfg, data_dir=data_dir)
