"""Bootstrap intervals: the arch resampler, quantstats' definitions, and arch's own intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from arch.bootstrap import StationaryBootstrap

from riskoff.significance.bootstrap import difference_intervals, resample_indices


def _returns(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-01", periods=n)
    bh = pd.Series(rng.standard_t(5, n) * 0.01 + 0.0003, index=idx)
    out = (rng.random((n, 2)) < 0.2)  # two rules out of the market 20% of the time
    strat = pd.DataFrame({"a": np.where(out[:, 0], 0.0001, bh), "b": np.where(out[:, 1], 0.0001, bh)}, index=idx)
    return strat, bh


def test_point_estimates_are_quantstats_differences():
    strat, bh = _returns()
    got = difference_intervals(strat, bh, ppy=252, reps=50, confidence=0.9, rng=np.random.default_rng(0))
    for col in strat:
        assert got.loc[col, "cagr_diff"] == pytest.approx(
            qs.stats.cagr(strat[col], periods=252) - qs.stats.cagr(bh, periods=252), rel=1e-9)
        assert got.loc[col, "sharpe_diff"] == pytest.approx(
            qs.stats.sharpe(strat[col], periods=252) - qs.stats.sharpe(bh, periods=252), rel=1e-9)


def test_intervals_equal_arch_percentile_intervals_with_the_same_seed():
    strat, bh = _returns()
    got = difference_intervals(strat, bh, ppy=252, reps=300, confidence=0.95, rng=np.random.default_rng(42))
    block = got["block_length"].iloc[0]
    data = np.column_stack([strat["a"], bh])

    def cagr_diff(x: np.ndarray) -> float:
        g = np.prod(1 + x, axis=0) ** (252 / len(x)) - 1
        return np.array([g[0] - g[1]])

    def sharpe_diff(x: np.ndarray) -> float:
        s = x.mean(axis=0) / x.std(axis=0, ddof=1) * np.sqrt(252)
        return np.array([s[0] - s[1]])

    for func, col in ((cagr_diff, "cagr_diff"), (sharpe_diff, "sharpe_diff")):
        bs = StationaryBootstrap(block, data, seed=np.random.default_rng(42))
        lo, hi = bs.conf_int(func, reps=300, method="percentile", size=0.95)[:, 0]
        assert got.loc["a", f"{col}_lo"] == pytest.approx(lo, rel=1e-9)
        assert got.loc["a", f"{col}_hi"] == pytest.approx(hi, rel=1e-9)
    assert got.loc["a", "cagr_diff_lo"] < got.loc["a", "cagr_diff"] < got.loc["a", "cagr_diff_hi"]


def test_resample_keeps_blocks_of_consecutive_bars():
    idx = resample_indices(2000, 20.0, 5, np.random.default_rng(1))
    assert idx.shape == (5, 2000) and idx.min() >= 0 and idx.max() < 2000
    runs = np.mean(np.diff(idx, axis=1) == 1)  # a block continues with probability 1 - 1/20
    assert 0.93 < runs < 0.97
