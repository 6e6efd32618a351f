"""S&P 500 breadth collapse: risk-off when participation craters, risk-on again on repair or a Zweig breadth thrust.

Reads S5FI and S5TH (% of S&P 500 members above their 50- and 200-day averages), NYSE advancing
and declining issues, and NYSE new 52-week highs and lows, all after the US close (usable on the
same US bar). The reading is S5FI.

Indicators:
    s5fi_change  S5FI now minus ``drop_days`` bars ago (points).
    mcclellan    McClellan oscillator: 19-day EMA minus 39-day EMA of advances minus declines;
                 ratio-adjusted (``ratio_adjusted``) it uses 1000 x (A - D) / (A + D), which keeps
                 the scale comparable as the number of listed issues changes.
    nh_nl        new highs minus new lows (issues).
    thrust       1 on bars where a Zweig breadth thrust holds: the 10-day EMA of A / (A + D) is above
                 ``thrust_high`` (0.615) and was below ``thrust_low`` (0.40) within the last
                 ``thrust_days`` (10) bars: a rush from oversold to broad buying, historically
                 the start of a new advance (found in this data on 2013-10-18, 2015-10-07,
                 2019-01-07, 2023-11-03, 2025-04-24).

States (path dependent, causal):
    risk-off  latched by a collapse: S5FI fell at least ``drop_points`` in ``drop_days`` bars and is
              at or below ``collapse_level``; held until a breadth thrust (the all-clear) or until
              S5FI repairs to ``repair_level``.
    caution   (not latched) most members below their 200-day (S5TH < ``th_caution``), or the
              McClellan oscillator at or below ``mc_caution`` with more new lows than new highs.
    risk-on   otherwise, and for ``thrust_hold`` bars after a thrust regardless of the caution tests.

Defaults from practice: a 30-point drop in two weeks down to 20% of members above their 50-day is
a washout (2008, 2010-05, 2011-08, 2015-08, 2018-02/10/12, 2020-02-27, 2022, 2025-04-07) rather than
rotation; 50% above the 50-day is the usual "breadth repaired" line; S5TH below 40 marks a market
where most stocks are in downtrends; McClellan -50 (ratio-adjusted) is a common oversold line.
The thrust rule is Zweig's original (10-day EMA, 0.40 -> 0.615 within 10 days); a thrust
keeps the all-clear for a month (21 bars). Calm years (2013, 2017, 2021) have no risk-off bars.
"""
import numpy as np
from ta.trend import ema_indicator

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import hysteresis

INPUTS = ["S5FI", "S5TH", "NYSE-ADV", "NYSE-DECL", "NEW-HIGHS", "NEW-LOWS"]
CALENDAR = "us"
PARAMS = [
    Param("drop_points", 30.0, low=5.0, high=90.0,
          description="S5FI fall (points) over drop_days that counts as a collapse"),
    Param("drop_days", 10, low=2, high=60, description="bars over which the S5FI fall is measured"),
    Param("collapse_level", 20.0, low=0.0, high=80.0, description="S5FI must be at or below this for a collapse"),
    Param("repair_level", 50.0, low=10.0, high=95.0, description="S5FI at or above this releases risk-off"),
    Param("th_caution", 40.0, low=0.0, high=100.0, description="S5TH below this = caution"),
    Param("mc_caution", -50.0, low=-500.0, high=0.0,
          description="McClellan at or below this (with NH-NL < 0) = caution"),
    Param("ratio_adjusted", True, choices=(True, False), description="ratio-adjusted McClellan oscillator"),
    Param("thrust_low", 0.40, low=0.2, high=0.5, description="Zweig thrust: EMA of A/(A+D) starts below this"),
    Param("thrust_high", 0.615, low=0.5, high=0.9, description="Zweig thrust: ... and rises above this"),
    Param("thrust_days", 10, low=2, high=30, description="Zweig thrust: within this many bars"),
    Param("thrust_hold", 21, low=0, high=252, description="bars a thrust keeps the state risk-on"),
]
WARMUP = "drop_days"


def compute(data, drop_points=30.0, drop_days=10, collapse_level=20.0, repair_level=50.0, th_caution=40.0,
            mc_caution=-50.0, ratio_adjusted=True, thrust_low=0.40, thrust_high=0.615, thrust_days=10,
            thrust_hold=21):
    if thrust_low >= thrust_high:
        raise ConfigError(f"signal breadth_collapse: thrust_low ({thrust_low:g}) must be below "
                          f"thrust_high ({thrust_high:g})")
    if repair_level <= collapse_level:
        raise ConfigError(f"signal breadth_collapse: repair_level ({repair_level:g}) must be above "
                          f"collapse_level ({collapse_level:g})")
    fi, th = data["S5FI"], data["S5TH"]
    adv, decl = data["NYSE-ADV"], data["NYSE-DECL"]
    change = fi - fi.shift(drop_days)
    net = 1000 * (adv - decl) / (adv + decl) if ratio_adjusted else adv - decl
    mcclellan = ema_indicator(net, 19) - ema_indicator(net, 39)
    nh_nl = data["NEW-HIGHS"] - data["NEW-LOWS"]
    ema10 = ema_indicator(adv / (adv + decl), 10)
    thrust = (ema10 > thrust_high) & (ema10.rolling(thrust_days, min_periods=1).min() < thrust_low)
    all_clear = thrust.astype(float).rolling(thrust_hold + 1, min_periods=1).max() > 0

    valid = fi.notna() & change.notna()
    collapse = (change <= -drop_points) & (fi <= collapse_level)
    latched = hysteresis(collapse & ~thrust, thrust | (fi >= repair_level), valid=valid) == 1
    caution = (th < th_caution) | ((mcclellan <= mc_caution) & (nh_nl < 0))
    state = np.where(latched, RISK_OFF, np.where(all_clear, RISK_ON, np.where(caution, CAUTION, RISK_ON)))
    state = state.astype(float)
    state[~valid.to_numpy()] = np.nan
    return signal_frame(fi, state, s5fi_change=change, mcclellan=mcclellan, nh_nl=nh_nl,
                        thrust=thrust.astype(float).where(ema10.notna()), collapse_latched=latched.astype(float))
