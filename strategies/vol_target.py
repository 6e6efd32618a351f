"""Baseline: volatility targeting, exposure = target_vol / trailing realised volatility.

Realised vol = standard deviation of the last ``window`` simple close-to-close returns, annualised
with ``ctx.periods_per_year`` (365 on the "utc" crypto calendar, 252 on "us"). Exposure is capped
at ``max_exposure`` and NaN while the window warms up (or when a return in it is missing).
"""
import numpy as np
import pandas as pd

from riskoff import Param

NEEDS_SIGNALS = False
PARAMS = [
    Param("target_vol", 0.15, low=0.01, high=5.0, description="annualised volatility target (0.15 = 15%)"),
    Param("window", 20, low=2, high=1000, description="bars of returns in the realised-vol estimate"),
    Param("max_exposure", 1.0, low=0.0, high=10.0, description="cap on the exposure"),
]


def target(ctx, target_vol=0.15, window=20, max_exposure=1.0):
    close = ctx.close
    ret = close / close.shift(1) - 1.0
    vol = ret.rolling(window, min_periods=window).std() * np.sqrt(ctx.periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.minimum(target_vol / vol.to_numpy(), max_exposure)
    return pd.Series(x, index=close.index, dtype="float64").where(vol.notna())
