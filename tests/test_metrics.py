"""riskoff.engine.metrics: the one numba implementation of the full-period and window figures, held to
quantstats' formulas (an independent library) and to plain pandas/numpy expressions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from riskoff.engine.metrics import (
    FULL_METRICS,
    WINDOW_METRICS,
    Metric,
    WindowMetric,
    segment_stats,
    window_stats_nb,
)


def _curve(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2020-01-01", periods=n)
    eq = pd.Series(np.cumprod(1 + rng.normal(0.0004, 0.015, n)), idx)
    weight = pd.Series(np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.2, 1.0, n)), idx)
    growth = pd.Series(1 + rng.uniform(0.0, 0.05, n) / 100 / 360, idx)
    fills = (rng.random(n) < 0.05).astype(np.int64)
    return eq, weight, growth, fills


@pytest.mark.parametrize("seed, ppy", [(1, 252), (2, 365), (3, 8760)])
def test_segment_stats_equal_quantstats_on_excess_returns(seed, ppy):
    eq, weight, growth, fills = _curve(seed)
    got = segment_stats(eq.to_numpy(), (weight * eq).to_numpy(), fills, growth.to_numpy(), ppy)
    rets = eq.pct_change().iloc[1:]
    excess = rets - (growth.iloc[1:] - 1.0)
    assert got["total_return"] == pytest.approx(eq.iloc[-1] / eq.iloc[0] - 1, rel=1e-12)
    assert got["cagr"] == pytest.approx(qs.stats.cagr(rets, periods=ppy), rel=1e-9)
    assert got["volatility"] == pytest.approx(qs.stats.volatility(rets, periods=ppy), rel=1e-9)
    assert got["sharpe"] == pytest.approx(qs.stats.sharpe(excess, periods=ppy), rel=1e-9)
    assert got["sortino"] == pytest.approx(qs.stats.sortino(excess, periods=ppy), rel=1e-9)
    assert got["max_drawdown"] == pytest.approx(qs.stats.max_drawdown(eq), rel=1e-12)
    assert got["calmar"] == pytest.approx(got["cagr"] / abs(got["max_drawdown"]), rel=1e-12)
    assert got["time_in_market"] == pytest.approx((weight > 1e-6).mean(), abs=0)
    assert got["trades"] == fills.sum()


def test_cash_return_lowers_sharpe_of_a_cash_heavy_curve():
    """A curve that only earns the cash rate has no excess return: Sharpe 0, not a large number."""
    n = 500
    growth = np.full(n, 1 + 5.0 / 100 / 360)
    growth[0] = 1.0
    eq = np.cumprod(growth) * (1 + np.random.default_rng(0).normal(0, 1e-6, n))
    zero_rf = segment_stats(eq, np.zeros(n), np.zeros(n, np.int64), np.ones(n), 365)
    with_rf = segment_stats(eq, np.zeros(n), np.zeros(n, np.int64), growth, 365)
    assert zero_rf["sharpe"] > 50 and abs(with_rf["sharpe"]) < 5


def test_slots_are_declared_once_in_order():
    assert [m.name.lower() for m in Metric] == list(FULL_METRICS)
    assert [m.name.lower() for m in WindowMetric] == list(WINDOW_METRICS)


def test_window_stats_against_pandas():
    eq, weight, _, _ = _curve(4)
    v = eq.to_numpy()
    pv = (weight * eq).to_numpy()
    out = np.empty(len(WINDOW_METRICS))
    window_stats_nb(v, pv, 100, 105, 180, 150, -0.2, out)
    span = eq.iloc[105:181]
    mdd = float((span / span.cummax() - 1).min())
    assert out[WindowMetric.STRATEGY_RETURN] == pytest.approx(v[180] / v[100] - 1, rel=1e-12)
    assert out[WindowMetric.STRATEGY_MAX_DD] == pytest.approx(mdd, rel=1e-12)
    assert out[WindowMetric.DRAWDOWN_AVOIDED] == pytest.approx(mdd + 0.2, rel=1e-12)
    assert out[WindowMetric.EXPOSURE_AT_TROUGH] == pytest.approx(weight.iloc[150], rel=1e-12)
    window_stats_nb(v, pv, -1, 105, 180, -1, -0.2, out)
    assert np.isnan(out[WindowMetric.STRATEGY_RETURN]) and np.isnan(out[WindowMetric.EXPOSURE_AT_TROUGH])


def test_block_edges_cut_like_numpy_array_split():
    from riskoff.engine.metrics import block_edges

    for n in (0, 5, 16, 17, 100, 2847):
        for s in (1, 4, 16):
            parts = np.array_split(np.arange(n), s)
            assert list(np.diff(block_edges(n, s))) == [len(p) for p in parts], (n, s)
