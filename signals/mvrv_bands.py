"""Bitcoin MVRV bands: overheated above ~3.5 and a fresh break below 1.0 are risk-off for a long-BTC holder.

Reads BTC-MVRV (market value / realized value, CryptoQuant methodology) on UTC days; a day's
value is usable only after that UTC day ends, which the loader enforces (the UTC bar of 2020-03-13
sees the 2020-03-12 print). The reading is the MVRV ratio itself. The extra ``zscore`` column is
the z-score of log(MVRV) against its own history up to that bar (expanding window, at least
``z_min_periods`` days): point in time, never full-sample. The classic "MVRV Z-score" divides by
the full-history sd of market cap, which a backtest cannot know in advance.

States, from the point of view of someone holding BTC:
    risk-off  overheated: MVRV >= ``overheated`` (market cap far above the aggregate cost basis:
              the 2013, 2017 and early-2021 cycle tops; a distribution zone), or
              a fresh breakdown: MVRV below ``floor`` (1.0) while it was still at or above the floor
              within the last ``break_days`` days. Price falling through the aggregate cost basis
              turns holders' paper gains into losses and has preceded further forced selling
              (2014-10, 2018-11, 2022-06; 2020-03-13 was the break and also the low).
    caution   MVRV below the floor for longer than ``break_days`` (capitulation: the risk is
              already realised, the deep-value zone where selling mostly locks in the lows, so
              caution rather than risk-off), or the log-MVRV z-score >= ``z_caution`` (hot relative
              to its own history, the run-up to a top: 2013, 2017, 2021).
    risk-on   otherwise.

Defaults from practice: 3.5 is the widely used "red band" for MVRV (tops 2013 ~5.9, 2017 ~4.9,
2021 ~4.0; 2024-25 stayed below 2.8, so no overheated call); 1.0 is the cost-basis line; 30 days
separates a break from a capitulation base. A log-MVRV z-score of 0.75 (on the whole history from
2009) flags 40-130 days in each cycle-top year (2013, 2017, 2021), 21 days around the March 2024
high and none in 2022-2023 or 2025. Risk-off never fires in 2016, 2019, 2023-2025.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, Param, signal_frame

INPUTS = ["BTC-MVRV"]
CALENDAR = "utc"
PARAMS = [
    Param("overheated", 3.5, low=1.5, high=20.0, description="MVRV at or above this = overheated (risk-off)"),
    Param("floor", 1.0, low=0.5, high=1.5, description="the cost-basis line (MVRV = 1)"),
    Param("break_days", 30, low=1, high=365, description="days after a break below floor that stay risk-off"),
    Param("z_caution", 0.75, low=0.0, high=5.0, description="log-MVRV z-score at or above this = caution"),
    Param("z_min_periods", 730, low=90, high=3000, description="days of history before the z-score is used"),
]
WARMUP = 0  # the reading is the ratio itself; the z-score joins once it has z_min_periods days


def compute(data, overheated=3.5, floor=1.0, break_days=30, z_caution=0.75, z_min_periods=730):
    mvrv = data["BTC-MVRV"]
    log_m = np.log(mvrv.where(mvrv > 0))
    z = (log_m - log_m.expanding(z_min_periods).mean()) / log_m.expanding(z_min_periods).std()
    recent_max = mvrv.rolling(break_days, min_periods=1).max()  # includes today: the day of the break
    below = mvrv < floor
    fresh_break = below & (recent_max >= floor)
    risk_off = (mvrv >= overheated) | fresh_break
    caution = below | (z >= z_caution)
    state = np.where(risk_off, RISK_OFF, np.where(caution, CAUTION, RISK_ON)).astype(float)
    state[mvrv.isna().to_numpy()] = np.nan
    return signal_frame(mvrv, state, zscore=z, fresh_break=fresh_break.astype(float).where(mvrv.notna()))
