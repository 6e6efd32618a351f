"""The money-market rate that uninvested cash earns.

SOFR from its first print (2018-04-03), EFFR before that: both are overnight rates published the
next business day, so the point-in-time value at bar t is the rate for the night ending at t.
A bar where neither is available (before EFFR's history, or past the bounded staleness) earns 0.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskoff.data.align import load
from riskoff.data.context import DataContext

CASH_SERIES = ("SOFR", "EFFR")


def money_market_rate(index: pd.DatetimeIndex, calendar: str, *, data: DataContext | None = None,
                      data_dir: Path | None = None, source: str = "money_market") -> pd.Series:
    """Annual rate in percent on ``index`` bars: SOFR, falling back to EFFR; "none" gives zeros.

    Args:
        index: the asset's bars.
        calendar: "us", "utc" or a bar clock such as "1h" (how the bars' decision times are placed).
        source: "money_market" (SOFR then EFFR), "SOFR", "EFFR" or "none".
        data: the command's data context (``data_dir`` overrides its folder).
    """
    if source == "none":
        return pd.Series(0.0, index=index, name="cash_rate")
    ids = cash_series(source)
    data = DataContext.of(data, data_dir=data_dir)
    frame = load(ids, index[0], index[-1], calendar=index if calendar == "us" else calendar,
                 data_dir=data.data_dir, catalog=data.catalog, stale="allow").reindex(index)
    return combine_rates(frame, ids)


def cash_series(source: str) -> list[str]:
    """The series behind a cash source, in order of preference ("none" -> [])."""
    return [] if source == "none" else list(CASH_SERIES) if source == "money_market" else [source]


def combine_rates(frame: pd.DataFrame, ids: list[str]) -> pd.Series:
    """The first available rate of ``ids`` on each bar of an as-of frame (NaN where none is)."""
    rate = frame[ids[0]]
    for other in ids[1:]:
        rate = rate.fillna(frame[other])
    return rate.rename("cash_rate")
