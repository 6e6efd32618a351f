"""Walk-forward: parameters are chosen on in-sample data only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.sweep import (
    WalkForwardSpec,
    parse_sweep_config,
    plan_sweep,
    run_sweep,
    walk_forward,
)
from tests.sweep.conftest import make_doc

GRID = {"rule.window": [30, 60, 100, 150, 200, 250], "overlays.trailing_stop": [0.0, 0.05, 0.1, 0.2],
        "overlays.min_bars_out": [0, 10]}


def _plan(data_dir, *, assets=("SPY", "BTC-USD"), wf=None, end="2026-03-31"):
    doc = make_doc(GRID, assets=list(assets), start="2015-01-01", end=end)
    doc["walk_forward"] = wf if wf is not None else {}
    return plan_sweep(parse_sweep_config(doc, "wf.toml"), data_dir=data_dir)


def _oos_columns(plan, fold):
    cols = [c for c in plan.config.windows if c in fold.test_windows]
    return [f"w.{w}.{m}" for w in cols for m in ("strategy_return", "strategy_max_dd", "drawdown_avoided",
                                                  "exposure_at_trough")] + \
           [c for c in [f"p.{fold.name}_test.{m}" for m in ("total_return", "cagr", "volatility", "sharpe", "sortino",
                                                            "max_drawdown", "calmar", "time_in_market", "trades")]]


@pytest.mark.parametrize("wf", [{}, {"mode": "rolling", "train_years": 3, "test_years": 2, "objective": "calmar"},
                                {"mode": "anchored", "train_years": 4, "test_years": 2, "select": "stability"}])
def test_pick_ignores_out_of_sample_columns(data_dir, wf):
    plan = _plan(data_dir, wf=wf)
    res = run_sweep(plan)
    picks = res.walkforward.set_index(["fold", "asset"])["combo"]
    assert len(picks) == len(plan.folds) * 2
    rng = np.random.default_rng(1)
    for fold in plan.folds:
        scrambled = res.results.copy()
        base = res.baseline.copy()
        for c in _oos_columns(plan, fold):
            scrambled[c] = rng.normal(0, 1, len(scrambled))
            bc = c.replace(".strategy_max_dd", ".bh_max_dd")
            if bc in base:
                base[bc] = rng.normal(0, 1, len(base))
            if c in base:
                base[c] = rng.normal(0, 1, len(base))
        again = walk_forward(scrambled, plan, base).set_index(["fold", "asset"])
        for asset in plan.config.assets:
            assert again.loc[(fold.name, asset), "combo"] == picks.loc[(fold.name, asset)]
            assert again.loc[(fold.name, asset), "oos_objective"] != \
                res.walkforward.set_index(["fold", "asset"]).loc[(fold.name, asset), "oos_objective"]


def test_default_study_fits_before_2024_and_tests_2025_2026(data_dir):
    plan = _plan(data_dir, wf={})
    [fold] = plan.folds
    assert fold.train[1] == pd.Timestamp("2023-12-31") and fold.test[0] == pd.Timestamp("2025-01-01")
    assert "covid_312" in fold.train_windows and "q4_2018" in fold.train_windows
    assert set(fold.test_windows) == {"crypto_1010_2025", "oracle_blueowl_2025", "msft_capex_warsh_2026",
                                      "deleveraging_feb_2026"}
    res = run_sweep(plan)
    wf = res.walkforward.set_index("asset")
    spec = WalkForwardSpec()
    for asset in plan.config.assets:
        row = res.results[(res.results["asset"] == asset) & (res.results["combo"] == wf.loc[asset, "combo"])].iloc[0]
        dd = np.nanmean([row[f"w.{w}.drawdown_avoided"] for w in fold.train_windows])
        bh = res.baseline.set_index("asset").loc[asset, "p.wf_train.cagr"]
        expect = dd - spec.cost_weight * max(0.0, bh - row["p.wf_train.cagr"])
        assert np.isclose(wf.loc[asset, "is_objective"], expect, rtol=1e-12, atol=1e-12)
        # the pick is the in-sample best
        mine = res.results[res.results["asset"] == asset]["wf.wf.is_objective"]
        assert wf.loc[asset, "is_objective"] == mine.max()
        assert np.isclose(wf.loc[asset, "degradation"], wf.loc[asset, "is_objective"] - wf.loc[asset, "oos_objective"])


def _perturbed_data_dir(src, dst, asset: str, after: str):
    """A copy of the data dir (symlinks) where ``asset``'s prices after ``after`` follow another path."""
    for f in (src / "series").rglob("*"):
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(f)
    path = dst / "series" / "prices" / f"{asset}.csv"
    path.unlink()
    frame = pd.read_csv(src / "series" / "prices" / f"{asset}.csv", dtype={"date": str})
    late = frame["date"] > after
    rng = np.random.default_rng(0)
    factor = np.exp(np.cumsum(rng.normal(0.0, 0.04, late.sum())))
    for col in ("open", "high", "low", "close"):
        frame.loc[late, col] = frame.loc[late, col] * factor
    frame.to_csv(path, index=False, float_format="%.8f")


def test_changing_out_of_sample_data_does_not_change_the_pick(data_dir, tmp_path):
    _perturbed_data_dir(data_dir, tmp_path, "BTC-USD", "2024-12-31")
    a = run_sweep(_plan(data_dir, assets=("BTC-USD",))).walkforward.iloc[0]
    b = run_sweep(_plan(tmp_path, assets=("BTC-USD",))).walkforward.iloc[0]
    assert a["combo"] == b["combo"]
    assert a["is_objective"] == pytest.approx(b["is_objective"], rel=1e-12, abs=1e-12)
    assert a["oos_objective"] != pytest.approx(b["oos_objective"], rel=1e-6)
