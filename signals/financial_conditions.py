"""Chicago Fed National Financial Conditions Index: tighter than average is risk-off, fast tightening is caution.

Reads NFCI (weekly, for the week ending Friday, published the next Wednesday at 08:30 New York: the
catalog's 5-day lag, so the bar of Friday t never sees that week's value; it is visible from the
following Wednesday's bar). The reading is the NFCI (0 = average conditions since 1971, positive =
tighter than average). Extra: ``rise_4w`` (change against the value the bar saw 28 days earlier).

The FRED file is the latest vintage: the Chicago Fed re-estimates the whole index every week, so the
history here is smoother and sometimes earlier than what was printed in real time (REVISED).

States:
    risk-off  NFCI >= ``risk_off`` (default 0.0: tighter than the historical average; 2008-2009,
              2020-03-13..05-01 in this vintage; the weeks dated
              2020-03-13 onward are visible from the following Wednesday)
    caution   NFCI >= ``caution`` (default -0.25) while rising over 4 weeks, or a 4-week rise of at
              least ``rise_caution`` (default 0.15)
    risk-on   otherwise.

Defaults from the publisher: the Chicago Fed states that positive NFCI values have been historically
associated with tighter-than-average financial conditions. A 0.15 rise in four weeks is the worst 4%
of 4-week changes since 1990 (1990, 1998, 2007-08, 2010-05, 2011-08, 2020-03).
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import asof_ago

INPUTS = ["NFCI"]
CALENDAR = "us"
REVISED = True
PARAMS = [
    Param("risk_off", 0.0, low=-2.0, high=5.0, description="NFCI at or above this = risk-off"),
    Param("caution", -0.25, low=-2.0, high=5.0, description="NFCI at or above this while rising = caution"),
    Param("rise_caution", 0.15, low=0.0, high=5.0, description="4-week rise at or above this = caution"),
]
WARMUP = 20  # the 4-week change needs 28 calendar days: at most 20 US bars


def compute(data, risk_off=0.0, caution=-0.25, rise_caution=0.15):
    if caution > risk_off:
        raise ConfigError(f"signal financial_conditions: caution ({caution:g}) must not exceed risk_off ({risk_off:g})")
    nfci = data["NFCI"]
    rise = (nfci - asof_ago(nfci, 28)).round(6)
    off = (nfci >= risk_off).to_numpy()
    warn = ((nfci >= caution) & (rise > 0)).to_numpy() | (rise >= rise_caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(nfci.isna() | rise.isna()).to_numpy()] = np.nan
    return signal_frame(nfci, state, rise_4w=rise)
