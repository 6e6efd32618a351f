"""Signals evaluated point in time.

:func:`evaluate` runs one signal's ``compute`` on a frame and checks its output (index, states,
finite readings); :func:`run_signal` loads the signal's inputs as published by each bar of its own
calendar and evaluates it; :func:`map_to_calendar` carries its readings onto another calendar
(a US reading reaches a UTC bar only once its decision instant, 17:00 New York, has passed, and
is carried at most ``CROSS_CALENDAR_STALE_DAYS``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskoff.data.context import DataContext
from riskoff.signals.contract import CAUTION, RISK_OFF, RISK_ON, SignalSpec
from riskoff.util.errors import PluginError, RiskoffError, shown

#: how long a reading is carried onto another calendar's bars (a Friday VIX reading covers the weekend)
CROSS_CALENDAR_STALE_DAYS = 5


def evaluate(spec: SignalSpec, data: pd.DataFrame, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run ``compute`` on an aligned frame and check its output; every failure is a PluginError
    naming the signal and its file: an exception, the time limit (riskoff.util.plugins.call_plugin),
    a wrong shape or index, a bad state, inf readings, or no opinion at all past the warm-up."""
    from riskoff.util.plugins import call_plugin

    where = f"signal {spec.name} ({spec.origin})"
    p = spec.resolve(params)
    cols = [c for c in spec.inputs + spec.optional_inputs if c in data.columns]
    missing = [c for c in spec.inputs if c not in data.columns]
    if missing:
        raise PluginError(f"{where}: input column(s) {missing} are not in the data frame")
    out = call_plugin(f"signal {spec.name}", spec.origin, spec.compute, data[cols].copy(), **p)
    if not isinstance(out, pd.DataFrame) or not {"reading", "state"} <= set(out.columns):
        raise PluginError(f"{where}: compute must return a frame with 'reading' and 'state' columns "
                          f"(use riskoff.signal_frame), not {type(out).__name__}")
    if not out.index.equals(data.index):
        raise PluginError(f"{where}: output index differs from the input calendar "
                          f"({len(out)} rows for {len(data)} bars)")
    state = pd.to_numeric(out["state"], errors="coerce").where(out["state"].notna(), np.nan)
    bad = out["state"][out["state"].notna() & ~state.isin([RISK_ON, CAUTION, RISK_OFF])]
    if len(bad):
        raise PluginError(f"{where}: state {shown(bad.iloc[0])} on {bad.index[0]:%Y-%m-%d} is not "
                          "RISK_ON (0), CAUTION (1), RISK_OFF (2) or NaN")
    reading = pd.to_numeric(out["reading"], errors="coerce")
    inf = reading[np.isinf(reading)]
    if len(inf):
        raise PluginError(f"{where}: reading {shown(inf.iloc[0])} on {inf.index[0]:%Y-%m-%d} is infinite; "
                          "return NaN where the signal has no value")
    # all-NaN is a fault only when the inputs had data past the warm-up (a short cut may not)
    usable = int(data[list(spec.inputs)].notna().all(axis=1).sum())
    if usable > spec.warmup(p) and state.isna().all() and reading.isna().all():
        raise PluginError(f"{where}: compute returned NaN on all {len(out)} bars although its inputs have "
                          f"{usable} complete bars (warm-up {spec.warmup(p)}): the signal never has an opinion")
    return out


def run_signal(spec: SignalSpec, params: Mapping[str, Any] | None = None, *, start=None, end=None,
               calendar: str | pd.DatetimeIndex = "us", data: DataContext | None = None, data_dir=None,
               catalog=None, stale: str | None = None) -> pd.DataFrame:
    """Point-in-time readings of one signal on ``calendar`` bars between start and end.

    The signal is computed on its own calendar over all history up to ``end`` (so warm-up never
    depends on ``start``), then each target bar takes the latest reading decided by its own
    decision time (a US reading reaches the UTC bar of the same day; a UTC reading reaches the
    next US bar). ``data`` is the command's data context (``data_dir``/``catalog`` override it).
    ``stale``: "raise" (default when ``end`` is given) or "allow" (stale cells are NaN, see
    :func:`riskoff.data.align.load`).
    """
    data = DataContext.of(data, data_dir=data_dir, catalog=catalog)
    stale = stale if stale is not None else ("raise" if end is not None else "allow")
    frame = load_signal_data(spec, None, end, data=data, stale=stale)
    out = evaluate(spec, frame, params)
    if not len(out):  # no data up to `end` (a series that starts later, like ETF flows): no readings
        return out
    if isinstance(calendar, str) and calendar == spec.calendar:
        target = out
    else:
        target = map_to_calendar(out, spec.calendar, calendar, start, end, data_dir=data.data_dir,
                                 catalog=data.catalog)
    from riskoff.data.calendars import bar_clock, last_bar

    step = bar_clock(calendar)
    lo = pd.Timestamp(start) if start is not None else target.index[0]
    hi = target.index[-1] if end is None else (pd.Timestamp(end) if step is None else last_bar(end, step))
    return target.loc[lo:hi]


def load_signal_data(spec: SignalSpec, start=None, end=None, *, data: DataContext | None = None, data_dir=None,
                     catalog=None, stale: str = "allow") -> pd.DataFrame:
    """The point-in-time frame ``compute`` reads: required inputs on the signal's calendar, plus the
    optional inputs the data has (aligned onto the same bars; a missing file leaves them out)."""
    from riskoff.data.align import load

    data = DataContext.of(data, data_dir=data_dir, catalog=catalog)
    data_dir, catalog = data.data_dir, data.catalog

    frame = load(spec.series_ids, start, end, calendar=spec.calendar, data_dir=data_dir, catalog=catalog,
                 stale=stale)
    extra = [s for s in spec.optional_series_ids if s not in spec.series_ids]
    if extra and not len(frame):
        # the required series do not reach this span (Binance bars start 2021): the bars come from
        # whichever optional series do, e.g. a signal reading another venue through a parameter
        present = [s for s in extra if _has_file(s, data_dir, catalog)]
        if present:
            return load([*spec.series_ids, *present], start, end, calendar=spec.calendar, data_dir=data_dir,
                        catalog=catalog, stale="allow")
    if not extra or not len(frame):
        return frame
    bars = frame.index if spec.calendar == "us" else spec.calendar

    def _load(ids):
        return load(ids, frame.index[0], frame.index[-1], calendar=bars, data_dir=data_dir, catalog=catalog,
                    stale="allow").reindex(frame.index)
    try:
        return frame.join(_load(extra))
    except RiskoffError:  # optional inputs are optional: a missing or unknown series is left out
        pass
    for sid in extra:
        try:
            frame = frame.join(_load([sid]))
        except RiskoffError:
            continue
    return frame


def _has_file(series_id: str, data_dir, catalog) -> bool:
    from riskoff.data.catalog import load_catalog
    from riskoff.data.sources import series_path
    from riskoff.util.paths import resolve_data_dir
    cat = catalog if catalog is not None else load_catalog()
    path = resolve_data_dir(data_dir)[0] if data_dir is None else data_dir
    return series_id in cat and series_path(cat[series_id], path).exists()


def map_to_calendar(frame: pd.DataFrame, src_calendar: str, dst: str | pd.DatetimeIndex, start=None, end=None,
                    max_stale_days: int = CROSS_CALENDAR_STALE_DAYS, *, data_dir=None, catalog=None) -> pd.DataFrame:
    """As-of map a frame of decided readings onto another calendar's bars (no look-ahead, bounded)."""
    from riskoff.data.align import trading_calendar
    from riskoff.data.calendars import decision_times
    from riskoff.data.catalog import load_catalog
    from riskoff.util.paths import resolve_data_dir

    if isinstance(dst, pd.DatetimeIndex):
        bars, cal = dst, "us"
    else:
        lo = frame.index[0] if start is None else min(pd.Timestamp(start), frame.index[0])
        hi = frame.index[-1] if end is None else pd.Timestamp(end)
        bars, cal = trading_calendar(dst, lo, hi, resolve_data_dir(data_dir)[0],
                                     catalog if catalog is not None else load_catalog()), dst
    src_t = decision_times(frame.index, src_calendar)
    dst_t = decision_times(bars, cal)
    pos = np.searchsorted(src_t, dst_t, side="right") - 1
    ok = (pos >= 0) & (dst_t - src_t[np.maximum(pos, 0)] <= max_stale_days * 86_400 * 10**9)
    vals = frame.to_numpy(dtype="float64")[np.maximum(pos, 0)]
    vals[~ok] = np.nan
    return pd.DataFrame(vals, index=bars, columns=frame.columns)
