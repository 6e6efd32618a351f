"""US stress on the crypto clock: the VIX close and SPY's close-to-close move, seen by an hourly rule.

Reads ``VIX.close`` and ``SPY.close`` on the hourly UTC clock. Each arrives when it is published:
SPY's close at 16:00 New York (20:00 UTC in summer, 21:00 in winter), VIX at 16:15 (20:15 / 21:15),
so an hourly BTC rule sees a US sell-off the same evening instead of at the next UTC day. The
reading is SPY's latest close-to-close return (the last published close over the one before);
``vix`` is the latest VIX close.

States:
    risk-off  SPY move <= ``spy_risk_off`` (-2.5%) or VIX >= ``vix_risk_off`` (30)
    caution   SPY move <= ``spy_caution`` (-1.5%) or VIX >= ``vix_caution`` (25)
    risk-on   otherwise; each state holds until the next US close (weekends included).

Evidence: on Friday 2025-10-10 SPY closed -2.7% (tariff threat) at 20:00 UTC; the hourly clock
sees it on the bar closing 20:00 and is risk-off from then, an hour before BTC's 21:00-21:20
crash to 102,000 (a daily UTC rule sees it only at 00:00 UTC). On 2026-02-05 SPY's move was
milder and VIX stayed below 25: US stress did not lead that crypto-only sell-off.
"""
import numpy as np
import pandas as pd

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

CALENDAR = "1h"
INPUTS = ["VIX.close", "SPY.close"]
PARAMS = [
    Param("spy_caution", -0.015, low=-0.5, high=0.0, description="SPY close-to-close move at or below this = caution"),
    Param("spy_risk_off", -0.025, low=-0.5, high=0.0, description="SPY close-to-close move at or below this = risk-off"),
    Param("vix_caution", 25.0, low=5.0, high=150.0, description="VIX close at or above this = caution"),
    Param("vix_risk_off", 30.0, low=5.0, high=150.0, description="VIX close at or above this = risk-off"),
]
WARMUP = 120  # hours until a second US close is seen (a long weekend is 4 days)


def close_to_close(step: pd.Series) -> pd.Series:
    """Return of the latest published value over the previous one, on a clock where it repeats."""
    new = step.notna() & step.ne(step.shift())
    changes = step[new]
    return (changes / changes.shift(1) - 1).reindex(step.index).ffill().where(step.notna())


def compute(data, spy_caution=-0.015, spy_risk_off=-0.025, vix_caution=25.0, vix_risk_off=30.0):
    if spy_risk_off > spy_caution or vix_risk_off < vix_caution:
        raise ConfigError("signal us_stress_hourly: the risk-off thresholds must be beyond the caution ones")
    move, vix = close_to_close(data["SPY.close"]), data["VIX.close"]
    off = (move <= spy_risk_off) | (vix >= vix_risk_off)
    warn = (move <= spy_caution) | (vix >= vix_caution)
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(move.isna() | vix.isna()).to_numpy()] = np.nan
    return signal_frame(move, state, vix=vix)
