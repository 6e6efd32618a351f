"""Net liquidity (Fed balance sheet - Treasury General Account - reverse repo): a sharp drain is risk-off.

Reads the weekly H.4.1 figures WALCL (Fed total assets, Wednesday level) and WTREGEN (Treasury
General Account, the average of the week to Wednesday), both in USD millions and published on
Thursday at 16:30 New York (the loader makes them visible from the Thursday bar, never the
Wednesday), and RRPONTSYD (overnight reverse repo take-up, USD billions, published ~13:15 the same
day). Net liquidity = WALCL - WTREGEN - 1,000 x RRPONTSYD, in USD millions, with the reverse repo
of the same Wednesday (the latest RRP print on or before the Wednesday of the H.4.1 week on view).
Before the ON RRP facility's test programme (2013-09-23) a missing RRP print counts as zero take-up.

The reading is net liquidity (USD millions). Extras: ``chg_short`` and ``chg_long`` (percent change
over ``short_weeks`` = 4 and ``long_weeks`` = 13 weeks, measured against the value the bar saw
that many weeks earlier) and ``tga_missing`` (1 where WALCL is on view but WTREGEN is not).

States:
    risk-off  a sharp drain: the 4-week change <= ``drain_short`` (-4%) or the 13-week change <=
              ``drain_long`` (-6%) (the 2022 QT + TGA rebuild + RRP surge: -7% in four weeks to
              2022-05-11, -9.6% in 13 weeks to 2022-06-22; the 2019 TGA rebuild before the repo
              spike; 2025-10 as the TGA refilled after the debt ceiling).
    caution   a slower drain: the 4-week change <= ``caution_short`` (-2.5%).
    risk-on   otherwise.

WTREGEN is carried at most 7 days (the catalog's ``max_stale_days``: one release to the next), so
a TGA figure never meets a newer week's WALCL. After WTREGEN ends (the snapshot's last week is
2026-08-05, visible from 2026-08-06) net liquidity, its changes and the state are NaN from the next
release bar (2026-08-13) on: no opinion, ``tga_missing`` = 1, never a stale TGA carried forward.
The same happens for one bar when a federal holiday on Thursday moves the release to Friday.

Defaults from practice and this data: the "net liquidity" line (popularised by market strategists
since 2020, e.g. the WALCL - TGA - RRP charts tracked against the S&P 500) is read through its
change, not its level. Since 2010 a 4-week fall of 4% or more is the worst 2% of weeks and a
13-week fall of 6% the worst 4%.
"""
import numpy as np
import pandas as pd

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import asof_ago

INPUTS = ["WALCL", "WTREGEN", "RRPONTSYD"]
CALENDAR = "us"
PARAMS = [
    Param("short_weeks", 4, low=1, high=26, description="weeks in the short change"),
    Param("long_weeks", 13, low=2, high=52, description="weeks in the long change"),
    Param("drain_short", -4.0, low=-50.0, high=0.0, description="short change (%) at or below this = risk-off"),
    Param("drain_long", -6.0, low=-50.0, high=0.0, description="long change (%) at or below this = risk-off"),
    Param("caution_short", -2.5, low=-50.0, high=0.0, description="short change (%) at or below this = caution"),
]
WARMUP = lambda long_weeks, **_: 5 * long_weeks  # noqa: E731 - at most 5 US bars a calendar week
RRP_FACILITY_START = pd.Timestamp("2013-09-23")


def wednesday_of_week_on_view(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The Wednesday of the H.4.1 week a bar sees: the latest Wednesday strictly before the bar
    (Thursday's 16:30 release is on view at that Thursday's 17:00 decision)."""
    back = (index.dayofweek - 3) % 7 + 1  # Thu -> 1 day, Fri -> 2, ..., Wed -> 7
    return index - pd.to_timedelta(back, unit="D")


def compute(data, short_weeks=4, long_weeks=13, drain_short=-4.0, drain_long=-6.0, caution_short=-2.5):
    if long_weeks <= short_weeks:
        raise ConfigError(f"signal net_liquidity: long_weeks ({long_weeks}) must exceed short_weeks ({short_weeks})")
    if caution_short < drain_short:
        raise ConfigError(f"signal net_liquidity: caution_short ({caution_short:g}) must be above "
                          f"drain_short ({drain_short:g})")
    idx = data.index
    rrp = data["RRPONTSYD"].where(~(data["RRPONTSYD"].isna() & (idx < RRP_FACILITY_START)), 0.0)
    pos = idx.searchsorted(wednesday_of_week_on_view(idx), side="right") - 1
    rrp_wed = np.where(pos >= 0, rrp.to_numpy()[np.maximum(pos, 0)], np.nan)
    net = data["WALCL"] - data["WTREGEN"] - 1000.0 * rrp_wed
    chg_short = (net / asof_ago(net, 7 * short_weeks) - 1) * 100
    chg_long = (net / asof_ago(net, 7 * long_weeks) - 1) * 100
    off = (chg_short <= drain_short).to_numpy() | (chg_long <= drain_long).to_numpy()
    warn = (chg_short <= caution_short).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(net.isna() | chg_long.isna()).to_numpy()] = np.nan
    tga_missing = (data["WALCL"].notna() & data["WTREGEN"].isna()).astype(float)
    return signal_frame(net, state, chg_short=chg_short, chg_long=chg_long, rrp_wednesday=rrp_wed,
                        tga_missing=tga_missing)
