"""BTC perpetual funding, annualised: crowded longs are caution, deeply negative funding is risk-off.

Reads the Binance BTCUSDT perpetual's daily mean funding rate (``BINANCE-BTCUSDT.mean``: the mean
of that UTC day's three 8-hourly prints, usable once the day is over) and, where the data has them,
the same for Bybit, Gate, HTX, KuCoin and MEXC (their archives end 2023-12). Funding is what longs
pay shorts each 8 hours to keep the perp on spot; annualised = rate per 8h x 3 x 365, in percent.
The reading is the annualised Binance funding averaged over the last ``smooth`` days.

States:
    risk-off  reading <= ``negative`` (default -10%/yr): shorts are paying longs, the perp trades
              below spot while leveraged longs are being liquidated: deleveraging in progress
              (2020-03-13..20, June-July 2021 after the mining ban, 2022-11-10 FTX). Contrarians read the end of such a state as a
              bottom, so strategies typically re-risk when it clears.
    caution   reading >= ``crowded`` (default 30%/yr): a crowded, leveraged long market that is
              fragile to a liquidation cascade (most of Q1 2021, early 2024).
    risk-on   otherwise (the Binance baseline 0.01% per 8h is 10.95%/yr).

Extra columns: ``funding_ann`` (unsmoothed daily annualised Binance funding, %), ``venue_spread``
(cross-venue spread: max minus min of the venues' daily means, annualised, in percentage points,
only on days with at least two venues; wide spreads mean fragmented, dislocated leverage) and
``venues`` (how many venues reported that day).

Defaults from practice: 30%/yr (about 0.027% per 8h, nearly three times the baseline) is a common
"overheated funding" line on crypto dashboards; -10%/yr needs persistent negative prints rather than
one slightly negative settlement; a 3-day mean (nine prints) keeps a single print from flipping
the state.
"""
import numpy as np
import pandas as pd

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["BINANCE-BTCUSDT.mean"]
OPTIONAL_INPUTS = ["BYBIT-BTCUSDT.mean", "GATE-BTCUSDT.mean", "HTX-BTCUSDT.mean", "KUCOIN-BTCUSDT.mean",
                   "MEXC-BTCUSDT.mean"]
CALENDAR = "utc"
PARAMS = [
    Param("smooth", 3, low=1, high=30, description="days averaged into the reading"),
    Param("crowded", 30.0, low=0.0, high=500.0, description="annualised funding (%) at or above this = caution"),
    Param("negative", -10.0, low=-500.0, high=0.0, description="annualised funding (%) at or below this = risk-off"),
]
WARMUP = lambda smooth, **_: smooth - 1  # noqa: E731
ANNUALISE = 3 * 365 * 100  # per-8h fraction -> percent per year


def compute(data, smooth=3, crowded=30.0, negative=-10.0):
    if negative >= crowded:
        raise ConfigError(f"signal funding_spreads: negative ({negative:g}) must be below crowded ({crowded:g})")
    daily = data["BINANCE-BTCUSDT.mean"] * ANNUALISE
    reading = daily.rolling(smooth, min_periods=smooth).mean()
    venues = data[[c for c in [*INPUTS, *OPTIONAL_INPUTS] if c in data]] * ANNUALISE
    n = venues.notna().sum(axis=1).astype(float)
    spread = (venues.max(axis=1) - venues.min(axis=1)).where(n >= 2)
    state = np.where(reading <= negative, RISK_OFF, np.where(reading >= crowded, CAUTION, RISK_ON)).astype(float)
    state[reading.isna().to_numpy()] = np.nan
    return signal_frame(reading, state, funding_ann=daily, venue_spread=pd.Series(spread, index=data.index),
                        venues=n)
