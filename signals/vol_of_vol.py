"""Vol of vol: VVIX spikes (the price of VIX options) are risk-off; VVIX bid while VIX is low is caution.

Reads CBOE VVIX (the 30-day implied volatility of VIX options, from 2006; 16:15 New York print,
usable on the same US bar) and, optionally, the VIX close for the VVIX/VIX ratio. The reading is
the VVIX level. Extras: ``ratio`` (VVIX / VIX; NaN without VIX) and ``vvix_z`` (z-score of VVIX
against its trailing ``window`` bars, population sd, causal).

States:
    risk-off  VVIX >= ``risk_off`` (default 140): hedgers are paying up for VIX calls, the
              market is pricing a volatility shock (2018-02-05 close 177, 2020-03-16 close 208).
    caution   VVIX >= ``caution`` (default 115), or the VVIX/VIX ratio >= ``ratio_caution``
              (default 9): "vol of vol perked up" while spot VIX is still low, i.e. tails are
              being bought in a calm tape (January 2018 before Volmageddon, summer 2024).
    risk-on   otherwise.

Defaults from practice and this data: VVIX has a long-run median near 93 (2010-2026); 115 is about
its 90th percentile, 140 about the 98.5th, reached only in vol shocks: 62 bars since 2010, in 2010, 2015,
2018, 2020-2022 and 2024-2026 (none in 2011-2014, 2016-2017, 2019, 2023). CBOE and practitioner notes (e.g. Park 2015, "Information
in and out of VIX derivatives") read VVIX above ~120 as stress in the VIX complex. The VVIX/VIX
ratio has a median of 5.6 and is naturally high when VIX is low (around 9 through calm 2017); above
9 (its 98th percentile) VIX options are rich even for a sleepy VIX.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["VVIX"]
OPTIONAL_INPUTS = ["VIX.close"]
CALENDAR = "us"
PARAMS = [
    Param("caution", 115.0, low=50.0, high=300.0, description="VVIX at or above this = caution"),
    Param("risk_off", 140.0, low=50.0, high=400.0, description="VVIX at or above this = risk-off"),
    Param("ratio_caution", 9.0, low=2.0, high=30.0, description="VVIX/VIX at or above this = caution"),
    Param("window", 60, low=5, high=500, description="bars in the VVIX z-score (extra column)"),
]
WARMUP = 0  # the reading is the level itself; the z-score extra joins after `window` bars


def compute(data, caution=115.0, risk_off=140.0, ratio_caution=9.0, window=60):
    if risk_off < caution:
        raise ConfigError(f"signal vol_of_vol: risk_off ({risk_off:g}) must be at least caution ({caution:g})")
    vvix = data["VVIX"]
    ratio = vvix / data["VIX.close"] if "VIX.close" in data else vvix * np.nan
    roll = vvix.rolling(window, min_periods=window)
    z = (vvix - roll.mean()) / roll.std(ddof=0)
    off = (vvix >= risk_off).to_numpy()
    warn = (vvix >= caution).to_numpy() | (ratio >= ratio_caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[vvix.isna().to_numpy()] = np.nan
    return signal_frame(vvix, state, ratio=ratio, vvix_z=z)
