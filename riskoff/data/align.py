"""Point-in-time alignment: one frame on a decision calendar, each value as published by that bar.

Decision calendars:
    "us"   New York trading days: the dates of SPY and SPX in the data dir, extended past their end
           by NYSE holiday rules (so a calendar cut at t agrees with the full one up to t). Bar t is decided at 17:00 New York on t
           (after the 16:00 close, the 16:15 VIX print and the evening breadth figures).
    "utc"  every UTC calendar day. Bar t is decided at 00:00 UTC on t+1, when that UTC day is over.
    or any DatetimeIndex (treated like "us": decided at 17:00 New York).

Rules, applied per series from its catalog entry:
    availability  the value observed on date d is usable from ``d + lag_days`` (US business days or
                  calendar days) at ``publish_time`` in ``publish_tz``. A bar sees a value only if it
                  was available strictly by the bar's decision time (as-of join, never a backfill).
    staleness     a value is carried forward at most ``max_stale_days`` calendar days after it became
                  available; past that the cell is NaN. There is no other fill.
    funding       intraday prints are summed, averaged and counted per UTC day (a print stamped
                  00:00 belongs to the day it opens); a day's aggregate is available when the UTC day
                  ends, so no bar sees a print settled after its decision time.
Output columns: ``ID`` for single-value series, ``ID.col`` for multi-column series (``SPY.close``),
``ID.sum|mean|count`` for funding.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.catalog import SeriesSpec, get_spec, load_catalog
from riskoff.data.sanity import drop_filler_rows, enforce
from riskoff.data.sources import read_series
from riskoff.errors import ConfigError, DataError
from riskoff.paths import resolve_data_dir

US_DECISION_TIME = "17:00"
US_TZ = "America/New_York"
_DAY_NS = 86_400 * 10**9
CALENDAR_REFERENCE = ("SPY", "SPX")


#: NYSE closures that no holiday rule predicts (storms, national days of mourning, 9/11).
NYSE_SPECIAL_CLOSURES = ("2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14", "2004-06-11", "2007-01-02",
                         "2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09")


@lru_cache(maxsize=1)
def _us_holidays() -> np.ndarray:
    """US federal holidays: the settlement calendar of SOFR, EFFR and Treasury yields."""
    from pandas.tseries.holiday import USFederalHolidayCalendar
    return USFederalHolidayCalendar().holidays("1950-01-01", "2040-12-31").to_numpy(dtype="datetime64[D]")


@lru_cache(maxsize=1)
def nyse_holidays() -> np.ndarray:
    """NYSE full-day holidays by rule, plus the known special closures (datetime64[D], 1990-2040)."""
    from pandas.tseries.holiday import (MO, AbstractHolidayCalendar, DateOffset, GoodFriday, Holiday,
                                        USLaborDay, USMemorialDay, USPresidentsDay, USThanksgivingDay,
                                        nearest_workday, sunday_to_monday)

    class NYSE(AbstractHolidayCalendar):
        rules = [Holiday("New Year", month=1, day=1, observance=sunday_to_monday),
                 Holiday("MLK", month=1, day=1, offset=DateOffset(weekday=MO(3)), start_date="1998-01-01"),
                 USPresidentsDay, GoodFriday, USMemorialDay,
                 Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
                 Holiday("Independence Day", month=7, day=4, observance=nearest_workday), USLaborDay,
                 USThanksgivingDay, Holiday("Christmas", month=12, day=25, observance=nearest_workday)]

    rule_days = NYSE().holidays("1990-01-01", "2040-12-31").to_numpy(dtype="datetime64[D]")
    return np.union1d(rule_days, np.array(NYSE_SPECIAL_CLOSURES, dtype="datetime64[D]"))


def us_business_days(start, end) -> pd.DatetimeIndex:
    """NYSE trading days by rule (the US calendar past the end of the reference price data)."""
    days = np.arange(np.datetime64(pd.Timestamp(start).date(), "D"), np.datetime64(pd.Timestamp(end).date(), "D") + 1)
    ok = np.is_busday(days, holidays=nyse_holidays())
    return pd.DatetimeIndex(days[ok].astype("datetime64[ns]"), name="date")


def trading_calendar(calendar: str | pd.DatetimeIndex, start, end, data_dir: Path,
                     catalog: Mapping[str, SeriesSpec]) -> pd.DatetimeIndex:
    """The decision bars between start and end (inclusive) for ``calendar``."""
    if isinstance(calendar, pd.DatetimeIndex):
        idx = calendar
        return pd.DatetimeIndex(idx[(idx >= start) & (idx <= end)], name="date")
    if calendar == "utc":
        return pd.date_range(start, end, freq="D", name="date")
    if calendar != "us":
        raise ConfigError(f"calendar = {calendar!r}; expected 'us', 'utc' or a DatetimeIndex")
    dates = []
    for sid in CALENDAR_REFERENCE:
        if sid in catalog and (Path(data_dir) / catalog[sid].relpath()).exists():
            dates.append(read_series(catalog[sid], data_dir).index)
    known = dates[0].union(dates[1]) if len(dates) == 2 else (dates[0] if dates else pd.DatetimeIndex([]))
    if len(known):
        tail = us_business_days(known[-1] + pd.Timedelta(days=1), max(end, known[-1])) if end > known[-1] else known[:0]
        known = known.append(tail)
    else:
        known = us_business_days(start, end)
    return pd.DatetimeIndex(known[(known >= start) & (known <= end)], name="date")


def decision_times(index: pd.DatetimeIndex, calendar: str | pd.DatetimeIndex) -> np.ndarray:
    """UTC nanosecond timestamps at which each bar's decision is taken."""
    if isinstance(calendar, str) and calendar == "utc":
        return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS
    return _localize(index.to_numpy(dtype="datetime64[D]"), US_DECISION_TIME, US_TZ)


def _localize(days: np.ndarray, hhmm: str, tz: str) -> np.ndarray:
    h, m = (int(x) for x in hhmm.split(":"))
    naive = days.astype("datetime64[ns]") + np.timedelta64(h * 60 + m, "m")
    if tz == "UTC":
        return naive.astype(np.int64)
    local = pd.DatetimeIndex(naive).tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns").asi8


def availability_times(obs: pd.DatetimeIndex, spec: SeriesSpec) -> np.ndarray:
    """UTC nanosecond timestamps at which each observation becomes usable."""
    if spec.calendar == "intraday":  # daily aggregates: usable when the UTC day is over
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS * (1 + spec.lag_days)
    days = obs.to_numpy(dtype="datetime64[D]")
    if spec.lag_days:
        if spec.lag_unit == "bday":
            days = np.busday_offset(days, spec.lag_days, roll="forward", holidays=_us_holidays())
        else:
            days = days + np.timedelta64(spec.lag_days, "D")
    return _localize(days, spec.publish_time, spec.publish_tz)


def daily_funding(prints: pd.DataFrame) -> pd.DataFrame:
    """Sum, mean and count of funding prints per UTC day (index = the UTC day)."""
    day = prints.index.floor("D")
    g = prints["rate"].groupby(day)
    out = pd.DataFrame({"sum": g.sum(), "mean": g.mean(), "count": g.count().astype(float)})
    out.index.name = "date"
    return out


def load(ids: Sequence[str], start=None, end=None, calendar: str | pd.DatetimeIndex = "us", *,
         data_dir: str | Path | None = None, catalog: Mapping[str, SeriesSpec] | None = None,
         stale: str = "raise") -> pd.DataFrame:
    """Point-in-time frame of several series on a decision calendar.

    Args:
        ids: catalog series IDs.
        start, end: first and last decision bar (default: the span of the loaded series).
        calendar: "us", "utc" or an explicit DatetimeIndex of bars.
        data_dir: folder with ``series/``; default from ``riskoff.paths.resolve_data_dir``.
        catalog: series specs (default: ``data/catalog.toml``).
        stale: "raise" (an explicit ``start``/``end`` that a series cannot cover raises
            DataError naming the file; with both given, the rows inside the span must also pass
            the sanity rules of riskoff.data.sanity) or "allow" (cells are simply NaN).
    Returns:
        Float frame indexed by bar date; see the module docstring for columns and rules.
    """
    catalog = catalog if catalog is not None else load_catalog()
    data_dir = resolve_data_dir(data_dir)[0] if data_dir is None else Path(data_dir)
    specs = [get_spec(i, catalog) for i in dict.fromkeys(ids)]
    observed = [(s, _observations(s, data_dir)) for s in specs]
    if start is None or end is None:
        firsts = [o.index[0] for _, o in observed if len(o)]
        lasts = [o.index[-1] for _, o in observed if len(o)]
    lo = pd.Timestamp(start) if start is not None else min(firsts)
    hi = pd.Timestamp(end) if end is not None else max(lasts)
    if stale == "raise":
        for spec, obs in observed:
            _check_coverage(spec, obs, data_dir, start, end)
            if start is not None and end is not None:  # a run span: its rows must pass the sanity rules
                enforce(spec, read_series(spec, data_dir), Path(data_dir) / spec.relpath(), start, end)
    bars = trading_calendar(calendar, lo.normalize(), hi.normalize(), data_dir, catalog)
    when = decision_times(bars, calendar)
    blocks = {}
    for spec, obs in observed:
        avail = availability_times(obs.index, spec)
        pos = np.searchsorted(avail, when, side="right") - 1
        ok = pos >= 0
        age_ns = when - avail[np.maximum(pos, 0)]
        ok &= age_ns <= spec.max_stale_days * _DAY_NS
        vals = obs.to_numpy(dtype=np.float64)[np.maximum(pos, 0)]
        vals[~ok] = np.nan
        names = spec.frame_columns() if spec.calendar == "intraday" else (
            [spec.id] if list(obs.columns) == ["value"] else [f"{spec.id}.{c}" for c in obs.columns])
        for j, name in enumerate(names):
            blocks[name] = vals[:, j]
    return pd.DataFrame(blocks, index=bars)


def _observations(spec: SeriesSpec, data_dir: Path) -> pd.DataFrame:
    obs = drop_filler_rows(spec, read_series(spec, data_dir), Path(data_dir) / spec.relpath())
    return daily_funding(obs) if spec.calendar == "intraday" else obs


def _check_coverage(spec: SeriesSpec, obs: pd.DataFrame, data_dir: Path, start, end) -> None:
    """An explicit run span that a series cannot cover is an error, not a column of NaN."""
    path = Path(data_dir) / spec.relpath()
    first, last = obs.index[0], obs.index[-1]
    if start is not None and last < pd.Timestamp(start):
        raise DataError(f"series ends {last:%Y-%m-%d}, before the run starts {pd.Timestamp(start):%Y-%m-%d}",
                        file=path, series=spec.id)
    if end is not None:
        end_day = pd.DatetimeIndex([pd.Timestamp(end).normalize()])
        # measured like the as-of join: from when the last value became public to the last decision
        age_days = (decision_times(end_day, "utc")[0] - availability_times(obs.index[-1:], spec)[0]) / _DAY_NS
        if age_days > spec.max_stale_days + 1:
            raise DataError(f"series is stale: last value {last:%Y-%m-%d}, the run needs data through "
                            f"{pd.Timestamp(end):%Y-%m-%d} (max staleness {spec.max_stale_days} days); "
                            "fetch newer data or end the run earlier", file=path, series=spec.id)
    if start is not None and end is not None and first > pd.Timestamp(end):
        raise DataError(f"series starts {first:%Y-%m-%d}, after the run ends {pd.Timestamp(end):%Y-%m-%d}",
                        file=path, series=spec.id)
