"""2-year Treasury flight to safety: the 2-year yield falling fast is risk-off, until its volatility settles.

Reads DGS2, the 2-year constant-maturity Treasury yield (FRED H.15; published the next business
day, so US bar t sees the yield of the previous business day). The 2-year is the market's
read of the policy path: when it collapses within days, money is running to safety and pricing
emergency cuts (2007-08, 2008, March 2020, the March 2023 SVB failure, August 2024).

The reading is the change in the yield over the last ``days`` bars, in basis points. Extras:
``vol`` (sd of daily changes over ``vol_window`` bars, bp) and ``vol_ratio`` (that vol over its own
median across the previous ``vol_history`` bars, measured before the current window: a trailing
baseline, never full-sample).

States:
    risk-off  reading <= ``risk_off_bp`` (default -35 bp in 10 days)
    caution   reading <= ``caution_bp`` (-25 bp), or the aftermath of a flight: a risk-off reading
              within the last ``vol_window`` bars while vol_ratio is still >= ``vol_ratio``
              (the yield has not stabilised yet)
    risk-on   otherwise.

Defaults from practice: a 35 bp fall of the 2-year in two weeks is about a 3-sigma move outside
cutting cycles; in 2010-2018 it never happened, and it fires on 2020-03-02..17, 2023-03-14..27
(SVB) and 2024-08-05 (yen carry unwind). 25 bp is the size of a full policy cut being priced in.
Volatility at twice its trailing-year median is the usual "not normalised" line.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["DGS2"]
CALENDAR = "us"
PARAMS = [
    Param("days", 10, low=1, high=60, description="bars over which the yield change is measured"),
    Param("risk_off_bp", -35.0, low=-300.0, high=0.0, description="change (bp) at or below this = risk-off"),
    Param("caution_bp", -25.0, low=-300.0, high=0.0, description="change (bp) at or below this = caution"),
    Param("vol_window", 20, low=5, high=120, description="bars in the volatility of daily changes"),
    Param("vol_history", 250, low=60, high=1000, description="trailing bars of the volatility baseline (median)"),
    Param("vol_ratio", 2.0, low=1.0, high=10.0, description="vol / baseline at or above this = not stabilised"),
]
WARMUP = "days"


def compute(data, days=10, risk_off_bp=-35.0, caution_bp=-25.0, vol_window=20, vol_history=250, vol_ratio=2.0):
    if risk_off_bp > caution_bp:
        raise ConfigError(f"signal yield_stability: risk_off_bp ({risk_off_bp:g}) must be at or below "
                          f"caution_bp ({caution_bp:g})")
    y = data["DGS2"] * 100
    change = (y - y.shift(days)).round(6)  # bp; rounding removes float dust at the thresholds
    vol = y.diff().rolling(vol_window, min_periods=vol_window).std()
    base = vol.shift(vol_window).rolling(vol_history, min_periods=vol_history // 2).median()
    ratio = vol / base.where(base > 0)
    recent_flight = change.rolling(vol_window, min_periods=1).min() <= risk_off_bp
    caution = (change <= caution_bp) | (recent_flight & (ratio >= vol_ratio))
    state = np.where(change <= risk_off_bp, RISK_OFF, np.where(caution, CAUTION, RISK_ON)).astype(float)
    state[change.isna().to_numpy()] = np.nan
    return signal_frame(change, state, vol=vol, vol_ratio=ratio)
