"""Point-in-time alignment: one frame on a decision calendar, each value as published by that bar.

Decision calendars:
    "us"   NYSE sessions from exchange_calendars' XNYS (from 1990-01-01; the same dates as SPY's
           history, and a calendar cut at t agrees with the full one up to t). Bar t is decided at
           17:00 New York on t (after the 16:00 close, the 16:15 VIX print and the evening breadth
           figures).
    "utc"  every UTC calendar day. Bar t is decided at 00:00 UTC on t+1, when that UTC day is over.
    "1h", "5m", ... (a bar clock) 24/7 UTC bars of that length, indexed by their OPEN time; bar T is
           decided at its close T + bar, seeing every value published by then (the bar's own close
           included; orders fill later, on the next bar).
    or any DatetimeIndex (treated like "us": decided at 17:00 New York).

Rules, applied per series from its catalog entry:
    availability  the value observed on date d is usable from ``d + lag_days`` (US business days or
                  calendar days) at ``publish_time`` in ``publish_tz``. A bar sees a value only if it
                  was available strictly by the bar's decision time (as-of join, never a backfill).
    non-sessions  some US series carry rows dated on days the NYSE was closed (VIX has 33 such rows
                  since 1990, S5TH 25, NEW-HIGHS 3: CBOE open on an NYSE holiday, vendor rows on
                  holidays). They never create a bar; like any value published between two bars,
                  such a row is visible from the next session's decision, unless a later row of the
                  same series supersedes it by then.
    staleness     a value is carried forward at most ``max_stale_days`` calendar days after it became
                  available; past that the cell is NaN. There is no other fill.
    funding       intraday prints are summed, averaged and counted per UTC day (a print stamped
                  00:00 belongs to the day it opens); a day's aggregate is available when the UTC day
                  ends, so no bar sees a print settled after its decision time. On a bar clock
                  the prints themselves are used (``ID.rate``, usable at settlement).
    bars          an intraday bar series (catalog ``bar``) is usable at its close, open time + bar.
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
from riskoff.durations import span
from riskoff.data.sanity import drop_filler_rows, enforce
from riskoff.data.sources import cached_array, read_series
from riskoff.errors import ConfigError, DataError
from riskoff.paths import resolve_data_dir

US_DECISION_TIME = "17:00"
US_TZ = "America/New_York"
_DAY_NS = 86_400 * 10**9
CALENDAR_REFERENCE = ("SPY", "SPX")
NYSE_START, NYSE_END = "1990-01-01", "2040-12-31"


@lru_cache(maxsize=1)
def _us_holidays() -> np.ndarray:
    """US federal holidays: the settlement calendar of SOFR, EFFR and Treasury yields."""
    from pandas.tseries.holiday import USFederalHolidayCalendar
    return USFederalHolidayCalendar().holidays("1950-01-01", "2040-12-31").to_numpy(dtype="datetime64[D]")


@lru_cache(maxsize=1)
def nyse_sessions() -> pd.DatetimeIndex:
    """Every NYSE session from :data:`NYSE_START` to :data:`NYSE_END` (exchange_calendars' XNYS).

    XNYS is built with an explicit start because its default window begins only 20 years back.
    The library carries the holiday rules and the unscheduled closures (9/11, Hurricane Sandy,
    national days of mourning); between 1995 and 2026-06-05 its sessions are exactly SPY's dates.
    """
    from importlib.metadata import version

    def build() -> np.ndarray:
        import exchange_calendars as xcals
        cal = xcals.get_calendar("XNYS", start=NYSE_START, end=NYSE_END)
        sessions = cal.sessions.tz_localize(None) if cal.sessions.tz is not None else cal.sessions
        return sessions.as_unit("ns").to_numpy()

    # kept on disk per library version: importing exchange_calendars and building the sessions
    # costs ~0.6 s in every process, reading them back ~1 ms
    key = f"nyse-sessions-{version('exchange_calendars')}-{NYSE_START}-{NYSE_END}"
    return pd.DatetimeIndex(cached_array(key, build), name="date").as_unit("ns")


@lru_cache(maxsize=1)
def nyse_holidays() -> np.ndarray:
    """Weekdays the NYSE is closed between NYSE_START and NYSE_END (from :func:`nyse_sessions`), as
    datetime64[D] for numpy's ``busday_*`` functions (the sanity rules count sessions with them)."""
    weekdays = pd.bdate_range(NYSE_START, NYSE_END)
    return np.asarray(weekdays.difference(nyse_sessions()).to_numpy().astype("datetime64[D]"))


def us_business_days(start, end) -> pd.DatetimeIndex:
    """NYSE sessions between ``start`` and ``end`` inclusive (see :func:`nyse_sessions`)."""
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if lo < pd.Timestamp(NYSE_START) or hi > pd.Timestamp(NYSE_END):
        raise ConfigError(f"US calendar requested for {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}; NYSE sessions are built "
                          f"for {NYSE_START} .. {NYSE_END}")
    sessions = nyse_sessions()
    return sessions[(sessions >= lo) & (sessions <= hi)]


def bar_clock(calendar: str | pd.DatetimeIndex) -> pd.Timedelta | None:
    """The bar length of an intraday clock ("1h" -> 1 hour), None for "us", "utc" and explicit indexes."""
    if not isinstance(calendar, str) or calendar in ("us", "utc"):
        return None
    try:
        return span(calendar)
    except ConfigError:
        raise ConfigError(f"calendar = {calendar!r}; expected 'us', 'utc', a bar clock such as '1h' or '5m', "
                          "or a DatetimeIndex") from None


def clock_of(spec: SeriesSpec) -> str:
    """The decision clock an asset trades on: its bar ("1h") for intraday bar series, else its calendar."""
    return spec.bar if spec.is_bar_series else spec.calendar


def clock_parts(clock: str) -> tuple[str, str]:
    """(calendar, bar) of a clock for ``riskoff.annualisation``: "us" -> ("us", "1d"), "1h" -> ("utc", "1h")."""
    return (clock, "1d") if clock in ("us", "utc") else ("utc", clock)


def last_bar(end, step: pd.Timedelta) -> pd.Timestamp:
    """The last bar (open time) a run ending at ``end`` has on a clock of ``step``: a date-only
    ``end`` (midnight) means that whole UTC day."""
    hi = pd.Timestamp(end)
    return hi.normalize() + pd.Timedelta(days=1) - step if hi == hi.normalize() else hi.floor(step)


def bar_range(start, end, step: pd.Timedelta) -> pd.DatetimeIndex:
    """Bar open times on a 24/7 UTC clock of ``step`` from ``start`` to ``end`` (see :func:`last_bar`)."""
    return pd.date_range(pd.Timestamp(start).floor(step), last_bar(end, step), freq=step, name="time")


def trading_calendar(calendar: str | pd.DatetimeIndex, start, end, data_dir: Path,
                     catalog: Mapping[str, SeriesSpec]) -> pd.DatetimeIndex:
    """The decision bars between start and end (inclusive) for ``calendar``.

    "us" bars are NYSE sessions (:func:`nyse_sessions`); before :data:`NYSE_START` they are the
    dates of the reference price series (SPY, SPX) in the data dir. ``data_dir`` and ``catalog``
    serve only that early stretch.
    """
    step = bar_clock(calendar)
    if step is not None:
        return bar_range(start, end, step)
    if isinstance(calendar, pd.DatetimeIndex):
        idx = calendar
        return pd.DatetimeIndex(idx[(idx >= start) & (idx <= end)], name="date")
    if calendar == "utc":  # daily bars are dates, even when the span comes from intraday stamps
        return pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D", name="date")
    if calendar != "us":
        raise ConfigError(f"calendar = {calendar!r}; expected 'us', 'utc' or a DatetimeIndex")
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    first = pd.Timestamp(NYSE_START)
    early = pd.DatetimeIndex([], name="date")
    if lo < first:
        for sid in CALENDAR_REFERENCE:
            if sid in catalog and (Path(data_dir) / catalog[sid].relpath()).exists():
                early = early.union(read_series(catalog[sid], data_dir).index)
        early = early[(early >= lo) & (early <= min(hi, first - pd.Timedelta(days=1)))]
    late = us_business_days(max(lo, first), hi) if hi >= first else early[:0]
    return pd.DatetimeIndex(early.append(late), name="date")


def decision_times(index: pd.DatetimeIndex, calendar: str | pd.DatetimeIndex) -> np.ndarray:
    """UTC nanosecond timestamps at which each bar's decision is taken."""
    if isinstance(calendar, str) and calendar == "utc":
        return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS
    step = bar_clock(calendar)
    if step is not None:
        return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + step.value
    return _localize(index.to_numpy(dtype="datetime64[D]"), US_DECISION_TIME, US_TZ)


def _localize(days: np.ndarray, hhmm: str, tz: str) -> np.ndarray:
    h, m = (int(x) for x in hhmm.split(":"))
    naive = days.astype("datetime64[ns]") + np.timedelta64(h * 60 + m, "m")
    if tz == "UTC":
        return naive.astype(np.int64)
    local = pd.DatetimeIndex(naive).tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns").asi8


def availability_times(obs: pd.DatetimeIndex, spec: SeriesSpec, *, prints: bool = False) -> np.ndarray:
    """UTC nanosecond timestamps at which each observation becomes usable.

    ``prints``: ``obs`` are a funding series' own settlement stamps (usable at settlement), not
    its daily aggregates.
    """
    if spec.is_bar_series:  # an intraday bar is known when it closes
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + spec.bar_delta.value
    if spec.calendar == "intraday" and prints:
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS * spec.lag_days
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
    prints = bar_clock(calendar) is not None  # funding prints are used as printed on bar clocks
    observed = [(s, _observations(s, data_dir, prints)) for s in specs]
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
    if prints:
        bars = trading_calendar(calendar, lo, hi, data_dir, catalog)
    else:
        bars = trading_calendar(calendar, lo.normalize(), hi.normalize(), data_dir, catalog)
    when = decision_times(bars, calendar)
    blocks = {}
    for spec, obs in observed:
        avail = availability_times(obs.index, spec, prints=prints)
        pos = np.searchsorted(avail, when, side="right") - 1
        ok = pos >= 0
        age_ns = when - avail[np.maximum(pos, 0)]
        ok &= age_ns <= spec.max_stale_days * _DAY_NS
        vals = obs.to_numpy(dtype=np.float64)[np.maximum(pos, 0)]
        vals[~ok] = np.nan
        names = spec.frame_columns() if spec.calendar == "intraday" and not prints else (
            [spec.id] if list(obs.columns) == ["value"] else [f"{spec.id}.{c}" for c in obs.columns])
        for j, name in enumerate(names):
            blocks[name] = vals[:, j]
    return pd.DataFrame(blocks, index=bars)


def _observations(spec: SeriesSpec, data_dir: Path, prints: bool = False) -> pd.DataFrame:
    obs = drop_filler_rows(spec, read_series(spec, data_dir), Path(data_dir) / spec.relpath())
    return daily_funding(obs) if spec.calendar == "intraday" and not prints else obs


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
