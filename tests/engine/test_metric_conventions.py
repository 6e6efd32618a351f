"""Conventions of riskoff.engine.metrics that a reference library does not share (see its docstring):
a ratio over a risk of zero is NaN. Sortino with no losing bar (in excess of cash) is NaN, as in
quantstats 0.0.86, where empyrical gives inf; Calmar of a curve that never falls is NaN, as in
empyrical, where quantstats 0.0.86 gives inf. Hand-built curves; quantstats is called for the record."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from riskoff.engine.metrics import segment_stats
from riskoff.sweep.selection import rank_results
from tests.sweep.conftest import make_config

IDX = pd.bdate_range("2024-01-01", periods=8)
CASH = np.r_[1.0, np.full(7, 1.0 + 0.05 / 360)]  # 5% a year, ACT/360, one day per bar


def _stats(returns: list[float]) -> dict[str, float]:
    eq = np.cumprod(1.0 + np.r_[0.0, returns])
    return segment_stats(eq, eq, np.zeros(len(eq), np.int64), CASH[:len(eq)], 252)


def _excess(returns: list[float]) -> pd.Series:
    return pd.Series(np.array(returns) - (CASH[1:len(returns) + 1] - 1.0), index=IDX[1:len(returns) + 1])


UP = [0.004, 0.01, 0.002, 0.0003, 0.02, 0.001, 0.003]  # every bar beats cash (0.014% a day)


def test_sortino_without_a_losing_bar_is_nan_like_quantstats():
    assert all(r > c - 1 for r, c in zip(UP, CASH[1:]))
    got = _stats(UP)
    assert math.isnan(got["sortino"])
    assert math.isfinite(got["sharpe"]) and got["sharpe"] > 0  # the curve is fine, only the ratio is undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(qs.stats.sortino(_excess(UP), periods=252))  # quantstats 0.0.86 agrees
    # empyrical's convention, mean / downside deviation with a zero deviation, would be inf:
    ex = _excess(UP).to_numpy()
    with np.errstate(divide="ignore"):
        assert np.float64(ex.mean()) / np.float64(0.0) * np.sqrt(252) == np.inf


def test_one_losing_bar_makes_sortino_finite_with_the_plain_formula():
    rets = UP[:3] + [-0.004] + UP[4:]
    ex = _excess(rets).to_numpy()
    down = math.sqrt(sum(e * e for e in ex if e < 0) / len(ex))  # over all bars, quantstats' denominator
    expected = ex.mean() / down * math.sqrt(252)
    got = _stats(rets)["sortino"]
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(qs.stats.sortino(_excess(rets), periods=252), rel=1e-9)
    # a bar that exactly matches cash is not a loss
    flat = UP[:2] + [float(CASH[3] - 1.0)] + UP[3:]
    assert math.isnan(_stats(flat)["sortino"])


def test_calmar_of_a_curve_that_never_falls_is_nan_unlike_quantstats():
    got = _stats(UP)
    assert got["max_drawdown"] == 0.0 and got["cagr"] > 0
    assert math.isnan(got["calmar"])
    rets = pd.Series(UP, index=IDX[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert qs.stats.calmar(rets, periods=252) == np.inf  # quantstats 0.0.86 divides by zero
    # with a fall it is CAGR / |max drawdown|
    dip = UP[:3] + [-0.01] + UP[4:]
    s = _stats(dip)
    assert s["max_drawdown"] == pytest.approx(-0.01) and s["calmar"] == pytest.approx(s["cagr"] / 0.01)


def test_an_undefined_ratio_ranks_last_in_a_sweep():
    cfg = make_config({"rule.window": [10, 20, 30]}, assets=["SPY"], metric="sortino")
    cells = [_stats(UP)["sortino"], _stats(UP[:3] + [-0.004] + UP[4:])["sortino"], _stats([-0.01] * 7)["sortino"]]
    df = pd.DataFrame({"combo": [0, 1, 2], "asset": "SPY", "rule.window": [10, 20, 30], "sortino": cells})
    assert math.isnan(cells[0]) and cells[1] > 0 > cells[2]
    assert list(rank_results(cfg, df)["rank"]) == [3, 1, 2]
