"""Range/volume shock: an hourly bar whose range AND volume dwarf their trailing medians.

A liquidation-cascade proxy (the snapshot has no liquidation history): forced selling shows up as
a bar that is both unusually wide (high - low over open) and unusually heavy (volume in BTC).
Reads Binance BTCUSDT 1h bars on the hourly clock (bar T decided at its close). Each of the two
ratios divides the bar's value by its median over the previous ``baseline`` hours (this bar
excluded); the reading is the smaller of the two, so both must be extreme. Volume is venue
specific: do not use this on another venue's bars without re-checking the thresholds.

States:
    risk-off  reading >= ``risk_off`` (5: range and volume both 5x normal; 99.6th percentile)
    caution   reading >= ``caution`` (3: about the 97th percentile of 2021-2026 hours)
    risk-on   otherwise.

Evidence (7-day baseline): the 2025-10-10 20:00 bar (decided at 21:00 UTC, before the crash bar)
reads 7.9, risk-off; the 21:00 crash bar reads 26 (range 26x, volume 40x normal). On 2026-02-05
the afternoon bars read 2-3.5 (caution) and the 2026-02-06 00:00 bar, the 60,000 low, reads 6.3.
"""
import numpy as np
import pandas as pd

from riskoff import Param, signal_frame, states_from_levels

CALENDAR = "1h"
INPUTS = ["BINANCE-BTCUSDT-1H.open", "BINANCE-BTCUSDT-1H.high", "BINANCE-BTCUSDT-1H.low",
          "BINANCE-BTCUSDT-1H.volume"]
PARAMS = [
    Param("baseline", 168, low=24, high=24 * 90, description="hours in the trailing medians"),
    Param("caution", 3.0, low=1.0, high=100.0, description="min(range, volume) ratio at or above this = caution"),
    Param("risk_off", 5.0, low=1.0, high=100.0, description="min(range, volume) ratio at or above this = risk-off"),
]
WARMUP = "baseline"


def compute(data, baseline=168, caution=3.0, risk_off=5.0):
    rng = (data["BINANCE-BTCUSDT-1H.high"] - data["BINANCE-BTCUSDT-1H.low"]) / data["BINANCE-BTCUSDT-1H.open"]
    vol = data["BINANCE-BTCUSDT-1H.volume"]
    range_ratio = rng / rng.rolling(baseline, min_periods=baseline).median().shift(1)
    volume_ratio = vol / vol.rolling(baseline, min_periods=baseline).median().shift(1)
    reading = pd.Series(np.fmin(range_ratio, volume_ratio), index=data.index)
    reading[range_ratio.isna() | volume_ratio.isna()] = np.nan
    return signal_frame(reading, states_from_levels(reading, caution, risk_off), range_ratio=range_ratio,
                        volume_ratio=volume_ratio)
