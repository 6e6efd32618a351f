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
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.calendars import (
    NYSE_START,
    availability_times,
    bar_clock,
    bar_range,
    decision_times,
    us_business_days,
)
from riskoff.data.catalog import SeriesSpec, get_spec, load_catalog
from riskoff.data.sanity import drop_filler_rows, enforce
from riskoff.data.sources import read_series
from riskoff.util.errors import ConfigError, DataError
from riskoff.util.paths import resolve_data_dir

_DAY_NS = 86_400 * 10**9
CALENDAR_REFERENCE = ("SPY", "SPX")


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
        data_dir: folder with ``series/``; default from ``riskoff.util.paths.resolve_data_dir``.
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
