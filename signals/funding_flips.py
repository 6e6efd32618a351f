"""Funding extremes and flips, on each 8-hourly Binance print as it settles (hourly clock).

Reads the Binance BTCUSDT perpetual's funding prints (``BINANCE-BTCUSDT.rate``: on a bar clock the
prints themselves, each usable from its settlement at 00:00, 08:00 and 16:00 UTC) on the hourly
clock. The reading is the latest print annualised (rate x 3 x 365, in percent). Unlike
``funding_spreads`` (daily means, known after the UTC day) it reacts within the hour of the print.

States:
    risk-off  reading <= ``negative`` (-10%/yr): shorts paying longs, leveraged longs liquidated
    caution   reading >= ``crowded`` (30%/yr, crowded longs), or the latest print flipped from
              positive to negative within the last ``flip_hours`` hours
    risk-on   otherwise (the 0.01%-per-8h baseline is 10.95%/yr).

Evidence: 14% of Binance prints since 2019 are negative, so a flip alone is only caution. On
2025-10-10 every print was positive (the crash came between prints); the 2025-10-12 16:00 print
(-11.9%/yr) is risk-off. On 2026-02-05 the 16:00 print flips to -5.5%/yr (caution from the
bar decided at 16:00, for 8 hours) and the 2026-02-06 08:00 print, -15%/yr, is risk-off. Extra: ``flip`` (1 on the bar
where a positive-to-negative flip settles).
"""
import numpy as np
import pandas as pd

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

CALENDAR = "1h"
INPUTS = ["BINANCE-BTCUSDT.rate"]
PARAMS = [
    Param("crowded", 30.0, low=0.0, high=500.0, description="annualised print (%) at or above this = caution"),
    Param("negative", -10.0, low=-500.0, high=0.0, description="annualised print (%) at or below this = risk-off"),
    Param("flip_hours", 8, low=0, high=24 * 7, description="hours a positive-to-negative flip stays caution"),
]
WARMUP = 0
ANNUALISE = 3 * 365 * 100  # per-8h fraction -> percent per year


def compute(data, crowded=30.0, negative=-10.0, flip_hours=8):
    if negative >= crowded:
        raise ConfigError(f"signal funding_flips: negative ({negative:g}) must be below crowded ({crowded:g})")
    reading = data["BINANCE-BTCUSDT.rate"] * ANNUALISE
    prev = reading.where(reading.ne(reading.shift())).shift(1).ffill()  # the print before the latest one
    flip = ((reading < 0) & (prev >= 0) & reading.ne(reading.shift())).astype(float)
    recent = flip.rolling(flip_hours, min_periods=1).max() > 0 if flip_hours else flip > 0
    state = np.where(reading <= negative, RISK_OFF,
                     np.where((reading >= crowded) | recent, CAUTION, RISK_ON)).astype(float)
    state[reading.isna().to_numpy()] = np.nan
    return signal_frame(reading, state, flip=pd.Series(flip, index=data.index).where(reading.notna()))
