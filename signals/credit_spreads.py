"""High-yield credit spreads: fast widening of the ICE BofA US high-yield OAS is risk-off.

Reads BAMLH0A0HYM2 (ICE BofA US High Yield Index option-adjusted spread, percent, from 1996-12-31;
ICE's close is posted on FRED the next business day, so US bar t sees the spread of t-1). The
reading is the OAS level in percent. Extras: ``widening_bp`` (change over ``days`` bars, in basis
points, against the value the bar saw ``days`` bars earlier).

States:
    risk-off  widening_bp >= ``risk_off_bp`` (default 100 bp in 20 bars): credit is repricing
              default risk fast (2008-09, 2011-08, 2015-12, 2018-12, 2020-03: +482 bp in 20
              bars on the bar of 2020-03-17, 2022-06, 2025-04)
    caution   widening_bp >= ``caution_bp`` (default 50 bp), or the level >= ``level_caution``
              (default 6%: spreads already wide, the market priced for stress)
    risk-on   otherwise.

Defaults from practice and this data: high-yield spreads lead equities in many sell-offs
(Gilchrist and Zakrajsek 2012, "Credit Spreads and Business Cycle Fluctuations"); strategists read a
100 bp widening in a month as a credit event. On 1997-2026 a 20-bar widening of 100 bp is about
the worst 5% of days, 50 bp the worst 12%. The OAS median is 4.5%; it was above 6% in 1998-2003, 2008-2012,
2015-16 and 2020 only.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["BAMLH0A0HYM2"]
CALENDAR = "us"
PARAMS = [
    Param("days", 20, low=1, high=250, description="bars over which the widening is measured"),
    Param("caution_bp", 50.0, low=0.0, high=1000.0, description="widening (bp) at or above this = caution"),
    Param("risk_off_bp", 100.0, low=0.0, high=2000.0, description="widening (bp) at or above this = risk-off"),
    Param("level_caution", 6.0, low=0.0, high=30.0, description="OAS (%) at or above this = caution"),
]
WARMUP = "days"


def compute(data, days=20, caution_bp=50.0, risk_off_bp=100.0, level_caution=6.0):
    if risk_off_bp < caution_bp:
        raise ConfigError(f"signal credit_spreads: risk_off_bp ({risk_off_bp:g}) must be at least "
                          f"caution_bp ({caution_bp:g})")
    oas = data["BAMLH0A0HYM2"]
    widening = ((oas - oas.shift(days)) * 100).round(6)  # percent -> bp, without float dust at thresholds
    off = (widening >= risk_off_bp).to_numpy()
    warn = (widening >= caution_bp).to_numpy() | (oas >= level_caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(oas.isna() | widening.isna()).to_numpy()] = np.nan
    return signal_frame(oas, state, widening_bp=widening)
