"""Selection (riskoff.sweep.selection) on hand-built results tables: the rank direction of each kind of
metric, tested directly (max drawdown is a negative fraction, so the shallowest, the largest value,
ranks first, like Sharpe; volatility and trades rank lowest first), and the walk-forward pick and
out-of-sample percentile against a plain computation.

The out-of-sample percentile is the share of the asset's cells with an out-of-sample objective whose
objective is at most the picked cell's (the pick and ties count as not beaten; cells without one are
left out)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from riskoff.sweep import WalkForwardSpec, walk_forward
from riskoff.sweep.plan import Fold
from riskoff.sweep.selection import rank_results
from tests.sweep.conftest import make_config

WINDOWS = [10, 20, 30, 40, 50, 60]
ASSETS = ["SPY", "BTC-USD"]
NAN = float("nan")

#: +1: higher is better; -1: lower is better (written out here, not read from riskoff)
DIRECTION = {"sharpe": +1, "calmar": +1, "cagr": +1, "sortino": +1, "max_drawdown": +1, "volatility": -1,
             "trades": -1, "strategy_max_dd": +1, "drawdown_avoided": +1}

VALUES = {  # per metric: the six cells of SPY, then the six of BTC-USD
    "sharpe": [0.5, 0.9, NAN, 0.9, -0.2, 0.1] + [1.2, 0.4, 0.8, 0.8, 1.5, 0.0],
    "calmar": [0.5, 0.9, NAN, 0.9, -0.2, 0.1] + [1.2, 0.4, 0.8, 0.8, 1.5, 0.0],
    "max_drawdown": [-0.35, -0.12, -0.50, NAN, -0.12, -0.20] + [-0.80, -0.55, -0.60, -0.30, -0.75, -0.31],
    "volatility": [0.18, 0.11, 0.25, 0.11, NAN, 0.14] + [0.70, 0.52, 0.61, 0.58, 0.49, 0.66],
    "trades": [12, 4, 30, 4, 9, NAN] + [55, 80, 21, 34, 21, 40],
}


def _reference_ranks(values: list[float], sign: int) -> list[int]:
    """1 = best; ties by position (first one first); missing values last."""
    n = len(values)
    ranks = []
    for i, v in enumerate(values):
        if math.isnan(v):
            ranks.append(n - sum(1 for j in range(i + 1, n) if math.isnan(values[j])))
            continue
        better = sum(1 for w in values if not math.isnan(w) and sign * w > sign * v)
        earlier_ties = sum(1 for j in range(i) if values[j] == v)
        ranks.append(1 + better + earlier_ties)
    return ranks


def _table(metric_col: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"combo": list(range(6)) * 2, "asset": [a for a in ASSETS for _ in range(6)],
                         "rule.window": WINDOWS * 2, metric_col: values})


@pytest.mark.parametrize("metric", sorted(VALUES))
def test_rank_direction_of_each_metric(metric):
    cfg = make_config({"rule.window": WINDOWS}, assets=ASSETS, metric=metric)
    out = rank_results(cfg, _table(metric, VALUES[metric]))
    for k, asset in enumerate(ASSETS):
        vals = VALUES[metric][6 * k:6 * k + 6]
        assert list(out.loc[out.asset == asset, "rank"]) == _reference_ranks(vals, DIRECTION[metric]), metric


def test_max_drawdown_ranks_the_shallowest_first_and_volatility_the_lowest():
    cfg = make_config({"rule.window": WINDOWS}, assets=ASSETS, metric="max_drawdown")
    out = rank_results(cfg, _table("max_drawdown", VALUES["max_drawdown"]))
    btc = out[out.asset == "BTC-USD"].set_index("combo")["rank"]
    assert btc[3] == 1 and btc[0] == 6  # -30% beats -80%
    cfg = make_config({"rule.window": WINDOWS}, assets=ASSETS, metric="volatility")
    out = rank_results(cfg, _table("volatility", VALUES["volatility"]))
    btc = out[out.asset == "BTC-USD"].set_index("combo")["rank"]
    assert btc[4] == 1 and btc[0] == 6  # 49% a year beats 70%


def test_window_metric_strategy_max_dd_ranks_the_shallowest_first():
    cfg0 = make_config({"rule.window": WINDOWS}, assets=ASSETS)
    wid = next(iter(cfg0.windows))
    col = f"w.{wid}.strategy_max_dd"
    cfg = make_config({"rule.window": WINDOWS}, assets=ASSETS, metric=col)
    vals = VALUES["max_drawdown"]
    out = rank_results(cfg, _table(col, vals))
    for k, asset in enumerate(ASSETS):
        assert list(out.loc[out.asset == asset, "rank"]) == _reference_ranks(vals[6 * k:6 * k + 6], +1)


# ---------------------------------------------------------------- walk-forward

# in-sample and out-of-sample objective values of the 12 cells (SPY's six, then BTC-USD's six)
IS = {"sharpe": [0.5, 0.9, 0.9, 0.2, NAN, 0.7] + [0.1, 0.3, 1.1, 0.2, 0.9, 1.0],
      "volatility": [0.20, 0.12, 0.12, 0.30, NAN, 0.15] + [0.70, 0.52, 0.61, 0.58, 0.49, 0.66],
      "max_drawdown": [-0.30, -0.10, -0.10, -0.40, NAN, -0.20] + [-0.80, -0.55, -0.60, -0.30, -0.75, -0.31]}
OOS = {"sharpe": [0.4, 0.3, 0.6, 0.3, 0.1, NAN] + [0.2, 0.9, 0.7, NAN, 0.5, 0.7],
       "volatility": [0.22, 0.18, 0.10, 0.18, 0.30, NAN] + [0.65, 0.40, 0.66, NAN, 0.70, 0.58],
       "max_drawdown": [-0.25, -0.20, -0.05, -0.20, -0.40, NAN] + [NAN, -0.20, -0.65, -0.45, -0.50, -0.64]}

#: buy & hold's in-sample and out-of-sample objective, SPY and BTC-USD
BH = {"sharpe": ([0.6, 0.8], [0.35, 0.5]), "volatility": ([0.17, 0.65], [0.2, 0.6]),
      "max_drawdown": ([-0.34, -0.77], [-0.33, -0.7])}


def _reference_walk_forward(is_vals: list[float], oos_vals: list[float], sign: int) -> tuple[int, float, float]:
    """(picked cell, its out-of-sample objective, out-of-sample percentile) in plain Python."""
    pick = None
    for i, v in enumerate(is_vals):
        if not math.isnan(v) and (pick is None or sign * v > sign * is_vals[pick]):
            pick = i
    chosen = sign * oos_vals[pick]
    finite = [sign * v for v in oos_vals if not math.isnan(v)]
    return pick, chosen, sum(1 for v in finite if v <= chosen) / len(finite)


def _wf_inputs(objective: str):
    cfg = make_config({"rule.window": WINDOWS}, assets=ASSETS)
    spec = WalkForwardSpec(mode="rolling", objective=objective)
    fold = Fold("f1", (pd.Timestamp("2016-01-01"), pd.Timestamp("2019-12-31")),
                (pd.Timestamp("2020-01-01"), pd.Timestamp("2021-12-31")), (), ())
    plan = SimpleNamespace(config=cfg.with_walk_forward(spec), folds=(fold,))
    n = 12
    cagr = np.linspace(0.01, 0.12, n)
    results = pd.DataFrame({"combo": list(range(6)) * 2, "asset": [a for a in ASSETS for _ in range(6)],
                            "rule.window": WINDOWS * 2,
                            "p.f1_train.cagr": cagr, "p.f1_test.cagr": cagr[::-1],
                            "p.f1_test.sharpe": np.linspace(-0.5, 0.6, n),
                            "p.f1_test.max_drawdown": np.linspace(-0.5, -0.1, n)})
    results[f"p.f1_train.{objective}"] = IS[objective]
    results[f"p.f1_test.{objective}"] = OOS[objective]
    baseline = pd.DataFrame({"asset": ASSETS, "p.f1_train.cagr": [0.1, 0.5], "p.f1_test.cagr": [0.08, 0.3],
                             f"p.f1_train.{objective}": BH[objective][0], f"p.f1_test.{objective}": BH[objective][1]})
    return results, plan, baseline


@pytest.mark.parametrize("objective", sorted(IS))
def test_walk_forward_pick_and_out_of_sample_percentile(objective):
    results, plan, baseline = _wf_inputs(objective)
    wf = walk_forward(results, plan, baseline).set_index("asset")
    sign = DIRECTION[objective]
    for k, asset in enumerate(ASSETS):
        is_v, oos_v = IS[objective][6 * k:6 * k + 6], OOS[objective][6 * k:6 * k + 6]
        pick, chosen, pct = _reference_walk_forward(is_v, oos_v, sign)
        row = wf.loc[asset]
        assert row["combo"] == pick and row["rule.window"] == WINDOWS[pick]
        assert row["is_objective"] == pytest.approx(sign * is_v[pick])
        assert row["oos_objective"] == pytest.approx(chosen)
        assert row["oos_percentile"] == pytest.approx(pct, abs=1e-12), (objective, asset)
        assert row["degradation"] == pytest.approx(sign * is_v[pick] - chosen)
        assert row["oos_best_objective"] == pytest.approx(max(sign * v for v in oos_v if not math.isnan(v)))
        assert row["bh_is_objective"] == pytest.approx(sign * BH[objective][0][k])
        assert row["bh_oos_objective"] == pytest.approx(sign * BH[objective][1][k])


def test_walk_forward_percentiles_of_the_hand_built_table():
    """The numbers, spelled out: SPY picks cell 1 (first of two in-sample ties at Sharpe 0.9); out of
    sample it has 0.3, at least as good as 3 (0.3, 0.3, 0.1) of the 5 cells with a value (cell 5 has
    none). BTC-USD picks cell 2 (1.1), 0.7 out of sample: at least as good as 4 of 5 (0.2, 0.7, 0.5, 0.7)."""
    results, plan, baseline = _wf_inputs("sharpe")
    wf = walk_forward(results, plan, baseline).set_index("asset")
    assert wf.loc["SPY", "combo"] == 1 and wf.loc["SPY", "oos_percentile"] == pytest.approx(3 / 5)
    assert wf.loc["BTC-USD", "combo"] == 2 and wf.loc["BTC-USD", "oos_percentile"] == pytest.approx(4 / 5)
    # volatility is minimised: SPY picks cell 1 (12%, first of two in-sample ties), 18% out of sample,
    # at least as low as 4 of the 5 cells with a value (22%, 18%, 18%, 30%; not 10%)
    results, plan, baseline = _wf_inputs("volatility")
    wf = walk_forward(results, plan, baseline).set_index("asset")
    assert wf.loc["SPY", "combo"] == 1 and wf.loc["SPY", "oos_percentile"] == pytest.approx(4 / 5)
    assert wf.loc["SPY", "oos_objective"] == pytest.approx(-0.18)
    # max drawdown is a negative fraction, the shallowest the best: BTC-USD picks cell 3 (-30% in
    # sample), -45% out of sample, at least as shallow as 4 of 5 (-45%, -50%, -64%, -65%; not -20%)
    results, plan, baseline = _wf_inputs("max_drawdown")
    wf = walk_forward(results, plan, baseline).set_index("asset")
    assert wf.loc["BTC-USD", "combo"] == 3 and wf.loc["BTC-USD", "oos_percentile"] == pytest.approx(4 / 5)
    assert wf.loc["BTC-USD", "oos_objective"] == pytest.approx(-0.45)


def test_walk_forward_percentile_is_nan_when_the_pick_has_no_out_of_sample_value():
    results, plan, baseline = _wf_inputs("sharpe")
    results.loc[1, "p.f1_test.sharpe"] = NAN  # SPY's pick
    wf = walk_forward(results, plan, baseline).set_index("asset")
    assert wf.loc["SPY", "combo"] == 1 and np.isnan(wf.loc["SPY", "oos_percentile"])
    assert wf.loc["BTC-USD", "oos_percentile"] == pytest.approx(4 / 5)
