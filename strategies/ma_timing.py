"""Baseline (Faber-style timing): invested while close > its ``window``-bar moving average.

Reads only the asset's close (no signals). The moving average is a simple mean of the last
``window`` closes (default 200 bars: 200 trading days on "us", 200 days on "utc"); exposure is
``on_exposure`` when close > MA, ``off_exposure`` otherwise, NaN while the MA warms up. With
``monthly`` the decision is refreshed only on the first bar of each calendar month (using that
bar's close and MA, which keeps it causal) and held in between, like Faber's monthly check.
"""
import numpy as np
import pandas as pd

from riskoff import Param

NEEDS_SIGNALS = False
PARAMS = [
    Param("window", 200, low=2, high=1000, description="moving-average length in bars"),
    Param("monthly", False, description="check only on the first bar of each month"),
    Param("on_exposure", 1.0, low=0.0, high=10.0, description="exposure when close > MA"),
    Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure when close <= MA"),
]


def target(ctx, window=200, monthly=False, on_exposure=1.0, off_exposure=0.0):
    close = ctx.close
    ma = close.rolling(window, min_periods=window).mean()
    x = pd.Series(np.where(close > ma, on_exposure, off_exposure), index=close.index, dtype="float64")
    x = x.where(ma.notna() & close.notna())
    if monthly:
        per = close.index.to_period("M")
        first = np.ones(len(per), dtype=bool)
        first[1:] = per[1:] != per[:-1]
        x = x.where(first).ffill()
    return x
