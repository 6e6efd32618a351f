"""A sweep's [run] is the run schema: the run's own [series] entries reach the sweep's assets and signals."""
from __future__ import annotations

import numpy as np

from riskoff.sweep import parse_sweep_config, plan_sweep, run_sweep


def test_series_declared_in_the_run_serve_as_sweep_assets_and_signal_inputs(myspy_project):
    root, plugins = myspy_project
    doc = {"run": {"name": "mine", "start": "2019-01-01", "end": "2021-12-31", "assets": ["MYSPY", "SPY"],
                   "plugin_dirs": [str(plugins)]},
           "series": {"MYSPY": {"family": "prices"}},
           "sweep": {"metric": "sharpe"},
           "strategy": {"name": "t", "rule": "any_off", "signals": ["my_trend"]},
           "grid": {"signal.my_trend.window": [50, 100, 200]}}
    res = run_sweep(plan_sweep(parse_sweep_config(doc, "mine.toml"), data_dir=root)).results
    mine = res[res["asset"] == "MYSPY"].sort_values("combo")
    spy = res[res["asset"] == "SPY"].sort_values("combo")
    assert len(mine) == len(spy) == 3
    for col in ("sharpe", "cagr", "max_drawdown", "trades"):
        np.testing.assert_allclose(mine[col].to_numpy(), spy[col].to_numpy(), rtol=0, atol=1e-12)
    assert mine["cagr"].nunique() == 3   # the window matters: the signal really ran on MYSPY
