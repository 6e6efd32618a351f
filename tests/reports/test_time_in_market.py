"""Tearsheet Time in Market (riskoff.reports.tearsheets) with partial exposures: any held weight above
1e-6 is in the market (a rule at 60% or 30% is invested), as the run's own ``time_in_market`` stat
counts it; only a flat (or dust) position is out. The other tearsheet tests use 0/1 exposures only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.engine.metrics import segment_stats
from riskoff.reports.tearsheets import tearsheet_job, time_in_market

IDX = pd.bdate_range("2024-01-01", periods=10)
#              in   in   out  in   in   out   in    out (dust)  in    in
EXPOSURE = [1.0, 0.6, 0.0, 0.3, 0.6, 0.0, 1e-3, 1e-7, 0.999, 0.6]


def _reference(exposure: list[float]) -> float:
    return sum(1 for x in exposure if x > 1e-6) / len(exposure)


def test_partial_exposure_counts_as_in_the_market():
    eq = pd.Series(np.linspace(1.0, 1.1, 10), index=IDX)
    ex = pd.Series(EXPOSURE, index=IDX)
    assert _reference(EXPOSURE) == 0.7
    assert time_in_market(ex, eq) == pytest.approx(0.7)
    assert time_in_market(pd.Series(0.6, index=IDX), eq) == 1.0
    assert time_in_market(pd.Series(0.0, index=IDX), eq) == 0.0
    assert np.isnan(time_in_market(None, eq))


def test_time_in_market_is_on_the_assets_own_bars():
    # a US asset on a union calendar: the NaN-equity days are not its bars; a missing exposure is out
    idx = pd.date_range("2024-01-01", periods=14, freq="D")
    eq = pd.Series(np.linspace(1.0, 1.13, 14), index=idx)
    eq[idx.dayofweek >= 5] = np.nan
    ex = pd.Series(0.6, index=idx)
    ex[idx.dayofweek >= 5] = 0.0  # flat at weekends: must not count, they are not bars
    ex.iloc[2] = np.nan            # Wednesday 3 Jan: no exposure recorded = out
    bars = [d for d in idx if d.dayofweek < 5]
    expected = sum(1 for d in bars if not np.isnan(ex[d]) and ex[d] > 1e-6) / len(bars)
    assert expected == pytest.approx(9 / 10)
    assert time_in_market(ex, eq) == pytest.approx(expected)


def test_tearsheet_job_carries_the_partial_time_in_market_and_agrees_with_the_run_stat():
    eq = pd.Series(np.cumprod(np.r_[1.0, np.full(9, 1.01)]), index=IDX)
    ex = pd.Series(EXPOSURE, index=IDX)
    job = tearsheet_job("half", "SPY", eq, eq, 252, exposure=ex, bh_exposure=pd.Series(1.0, index=IDX))
    assert job.time_in_market == pytest.approx((1.0, 0.7))
    # the run's figure: segment_stats counts bars whose held weight (position value / equity) > 1e-6
    stat = segment_stats(eq.to_numpy(), (ex * eq).to_numpy(), np.zeros(10, np.int64), np.ones(10), 252)
    assert stat["time_in_market"] == pytest.approx(0.7)
