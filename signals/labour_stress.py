"""Labour stress: jobless claims rising off their low and a Sahm-style unemployment rule; claims spikes are risk-off.

Reads weekly initial claims (ICSA, week ending Saturday, released the next Thursday 08:30 New York)
and continuing claims (CCSA, released with the following week's report, 12 days after its week),
and the monthly unemployment rate (UNRATE, released early the next month; the catalog's 38-day lag
from the first of the month measured). The loader makes each value visible only from its release
bar: the 2,914,000 initial claims of the week to 2020-03-21 appear on the bar of Thursday
2020-03-26, not before.

The reading is the rise of the 4-week average of initial claims off its ``weeks``-week low, as a
fraction (0.25 = 25% above the low). The 4-week average is the mean of the prints the bar saw 0, 7,
14 and 21 days earlier (exactly the last four weekly releases). Extras: ``claims_4w``,
``continuing_rise`` (the same rise for CCSA) and ``sahm`` (a Sahm-style rule on released data, in
percentage points: the unemployment rate on view averaged over the last 91 calendar days of bars,
about the last three monthly releases weighted by how long each was the latest, minus the lowest
value of that average over the trailing 365 days. Sahm (2019) averages the last three monthly
figures; release days wander with weekends, so a fixed "one month back" look-up would mix
releases, and the time-weighted average never does).

The FRED files are the latest vintage, not the first prints (initial claims for the week to
2020-03-21 read 2,914,000 here against a first print near 3.28 M; UNRATE is revised each January),
so the history reads somewhat differently from what was known in real time (REVISED).

States:
    risk-off  initial-claims rise >= ``risk_off_rise`` (0.35), or sahm >= ``sahm_risk_off`` (0.5,
              Sahm's own trigger: 2001, 2008, 2020, 2024-08/09 on this vintage)
    caution   initial- or continuing-claims rise >= ``caution_rise`` (0.20)
    risk-on   otherwise (all of 2019: the claims rise stays below 0.18).

Defaults from practice: "jobless claims creep higher" is read off the 4-week average because the
weekly print is noisy (holidays, seasonal adjustment); a 20% rise off the cycle low has preceded
each US recession since 1970, and 35% has only been reached in recessions and 2020.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import asof_ago

INPUTS = ["ICSA", "CCSA", "UNRATE"]
CALENDAR = "us"
REVISED = True
PARAMS = [
    Param("weeks", 52, low=8, high=260, description="weeks in the trailing window of the claims low"),
    Param("caution_rise", 0.20, low=0.0, high=10.0, description="claims rise off the low at or above this = caution"),
    Param("risk_off_rise", 0.35, low=0.0, high=10.0, description="initial-claims rise at or above this = risk-off"),
    Param("sahm_risk_off", 0.5, low=0.0, high=5.0, description="Sahm-rule reading (pp) at or above this = risk-off"),
]
WARMUP = lambda weeks, **_: 5 * max(weeks + 3, 66)  # noqa: E731 - claims window, or 91 + 365 days of UNRATE


def rise_off_low(weekly, weeks):
    """4-week average of a weekly series carried on daily bars and its rise off the trailing low."""
    avg = sum(asof_ago(weekly, 7 * k) for k in range(4)) / 4
    low = avg.rolling(f"{7 * weeks}D").min().where(asof_ago(avg, 7 * weeks - 1).notna())
    return avg, avg / low - 1


def compute(data, weeks=52, caution_rise=0.20, risk_off_rise=0.35, sahm_risk_off=0.5):
    if risk_off_rise < caution_rise:
        raise ConfigError(f"signal labour_stress: risk_off_rise ({risk_off_rise:g}) must be at least "
                          f"caution_rise ({caution_rise:g})")
    claims_4w, rise = rise_off_low(data["ICSA"], weeks)
    _, cont_rise = rise_off_low(data["CCSA"], weeks)
    unrate = data["UNRATE"]
    avg3 = unrate.rolling("91D").mean().where(asof_ago(unrate, 90).notna())
    sahm = (avg3 - avg3.rolling("365D").min().where(asof_ago(avg3, 364).notna())).round(6)
    off = (rise >= risk_off_rise).to_numpy() | (sahm >= sahm_risk_off).to_numpy()
    warn = (rise >= caution_rise).to_numpy() | (cont_rise >= caution_rise).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(rise.isna() | cont_rise.isna() | sahm.isna()).to_numpy()] = np.nan
    return signal_frame(rise, state, claims_4w=claims_4w, continuing_rise=cont_rise, sahm=sahm)
