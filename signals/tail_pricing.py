"""Tail pricing: a bid for crash protection (CBOE SKEW, put/call ratios) is caution; a put-buying panic is risk-off.

Reads CBOE SKEW (from 1990: the price of far out-of-the-money S&P 500 puts relative to at-the-money
options, 100 = normal tails) and, where the data has them (from 2019-10), the CBOE total and equity
put/call volume ratios (``PUTCALL.total``, ``PUTCALL.equity``; published after the 16:15 close,
usable on the same US bar). The reading is SKEW. Extras: ``pc_total`` and ``pc_equity`` (the
``smooth``-bar means of the two ratios; NaN before 2019-10).

States:
    risk-off  SKEW >= ``skew_risk_off`` (default 155: "tails got bid" hard), or the smoothed equity
              put/call >= ``pc_risk_off`` (default 0.85): investors are buying single-stock
              and ETF puts in a panic (2020-03, 2022-01/05, 2025-04).
    caution   SKEW >= ``skew_caution`` (default 145), or smoothed equity put/call >= ``pc_caution``
              (default 0.75).
    risk-on   otherwise.

Defaults from practice and this data: SKEW's 2010-2026 median is 129, its 90th percentile 148 and
its 95th 153; CBOE notes SKEW between 100 and 150 is the usual range. The equity-only put/call
(median 0.58 since 2019-10) above 0.75 is its 90th percentile and above 0.85 its 96th; technicians
use a 5-day mean of the equity ratio (e.g. McMillan, "Options as a Strategic Investment") because
the daily print is noisy. SKEW is a known weak timer (it often falls during crashes as at-the-money
volatility jumps): keep it for the "tails are bid" reading, not as a crash alarm.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["SKEW"]
OPTIONAL_INPUTS = ["PUTCALL.total", "PUTCALL.equity"]
CALENDAR = "us"
PARAMS = [
    Param("skew_caution", 145.0, low=100.0, high=200.0, description="SKEW at or above this = caution"),
    Param("skew_risk_off", 155.0, low=100.0, high=250.0, description="SKEW at or above this = risk-off"),
    Param("pc_caution", 0.75, low=0.1, high=5.0, description="smoothed equity put/call at or above this = caution"),
    Param("pc_risk_off", 0.85, low=0.1, high=5.0, description="smoothed equity put/call at or above this = risk-off"),
    Param("smooth", 5, low=1, high=60, description="bars in the put/call means"),
]
WARMUP = 0  # SKEW itself; the put/call means join once `smooth` prints exist


def compute(data, skew_caution=145.0, skew_risk_off=155.0, pc_caution=0.75, pc_risk_off=0.85, smooth=5):
    if skew_risk_off < skew_caution or pc_risk_off < pc_caution:
        raise ConfigError("signal tail_pricing: each risk_off threshold must be at least its caution threshold "
                          f"(skew {skew_caution:g}/{skew_risk_off:g}, put/call {pc_caution:g}/{pc_risk_off:g})")
    skew = data["SKEW"]
    nan = skew * np.nan
    pc_total = data["PUTCALL.total"].rolling(smooth, min_periods=smooth).mean() if "PUTCALL.total" in data else nan
    pc_equity = data["PUTCALL.equity"].rolling(smooth, min_periods=smooth).mean() if "PUTCALL.equity" in data else nan
    off = (skew >= skew_risk_off).to_numpy() | (pc_equity >= pc_risk_off).to_numpy()
    warn = (skew >= skew_caution).to_numpy() | (pc_equity >= pc_caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[skew.isna().to_numpy()] = np.nan
    return signal_frame(skew, state, pc_total=pc_total, pc_equity=pc_equity)
