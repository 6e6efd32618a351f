"""Trend break: an index below its 50-day average is caution, below its 200-day average is risk-off.

Reads one close series, chosen by ``asset`` (default SPY). The plug-in contract declares inputs
statically, so SPY.close is the required input and the other choices are OPTIONAL_INPUTS: they are
loaded when the data dir has them, and asking for an asset whose file is missing raises a
ConfigError naming the column. The signal runs on US bars (17:00 New York); for BTC-USD/ETH-USD that
means the latest UTC daily close available by then (the previous UTC day) on each US trading day,
so the averages count US trading days (200 bars is about 9.5 months, not 200 calendar days).

The reading is the distance from the slow average, close / SMA(slow) - 1 (-0.05 = 5% below).
Extras: ``dist_fast`` (close / SMA(fast) - 1), ``ma_fast``, ``ma_slow``.

States:
    risk-off  close below its ``slow``-day simple moving average (200)
    caution   close below its ``fast``-day simple moving average (50) but above the slow one
    risk-on   otherwise.

Defaults from practice: the 200-day average is the most widely watched long-term trend line
(Faber's 10-month rule is its monthly cousin) and the 50-day the intermediate one; simple averages
on closes, no buffer, as in most published trend-following studies. Expect whipsaws: SPY spent
no day below its 200-day in 2017 or 2021 and 27 in 2019 (mostly January, the tail of the late-2018
sell-off); it is below through March 2020 and for most of 2022.
"""
import numpy as np
from ta.trend import sma_indicator

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

ASSETS = ("SPY", "QQQ", "IWM", "DIA", "RSP", "SPX", "NDX", "BTC-USD", "ETH-USD")
INPUTS = ["SPY.close"]
OPTIONAL_INPUTS = [f"{a}.close" for a in ASSETS if a != "SPY"]
CALENDAR = "us"
PARAMS = [
    Param("asset", "SPY", choices=ASSETS, description="which close to test (its file must be in the data dir)"),
    Param("fast", 50, low=5, high=250, description="fast simple moving average (bars): below = caution"),
    Param("slow", 200, low=20, high=500, description="slow simple moving average (bars): below = risk-off"),
]
WARMUP = lambda slow, **_: slow - 1  # noqa: E731


def compute(data, asset="SPY", fast=50, slow=200):
    if fast >= slow:
        raise ConfigError(f"signal ma_break: fast ({fast}) must be shorter than slow ({slow})")
    col = f"{asset}.close"
    if col not in data:
        raise ConfigError(f"signal ma_break: asset = {asset!r} needs column '{col}', which is not in the data "
                          "(is the series file in the data dir?)")
    close = data[col]
    ma_fast, ma_slow = sma_indicator(close, fast), sma_indicator(close, slow)
    state = np.where(close < ma_slow, RISK_OFF, np.where(close < ma_fast, CAUTION, RISK_ON)).astype(float)
    state[(ma_slow.isna() | close.isna()).to_numpy()] = np.nan
    return signal_frame(close / ma_slow - 1, state, dist_fast=close / ma_fast - 1, ma_fast=ma_fast, ma_slow=ma_slow)
