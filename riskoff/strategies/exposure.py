"""The strategy driver: config -> signals -> rule -> overlays, for one asset.

:func:`build_exposure` runs one config on one asset: the asset's native catalog calendar is the
decision calendar, signals are computed with :func:`riskoff.signals.evaluate.run_signal` on that calendar
(cached in ``signal_cache`` under ``(signal, resolved params, calendar, None, end)``), the rule and overlays run over all history up to ``end`` (so the
state at ``start`` is warmed up, and a window's run is the slice of the full run), and the result
is sliced to ``start .. end``.

Stateful overlays (:class:`riskoff.strategies.overlays.Overlays`: idle exposure, hysteresis, minimum time
out, cooldown, trailing stop, max leverage) run after the rule, bar by bar; their semantics and the
shared per-bar step live in :mod:`riskoff.strategies.overlays`. The exposure at bar t is decided at t's
decision time; the engine fills it at t+1 (nothing here shifts it).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskoff.data.context import DataContext
from riskoff.engine.annualisation import periods_per_year
from riskoff.signals.contract import STATE_NAMES
from riskoff.strategies.config import StrategyConfig, validate_config
from riskoff.strategies.contract import StrategyContext, StrategyRegistry, run_rule
from riskoff.strategies.overlays import Overlays, apply_overlays
from riskoff.util.config_helpers import freeze
from riskoff.util.errors import ConfigError, DataError, PluginError

__all__ = ["StrategyRun", "asset_calendar", "build_exposure", "exposure_events", "idle_filled"]


def idle_filled(target: np.ndarray, overlays: Overlays) -> np.ndarray:
    """NaN (the rule has no opinion) -> ``idle_exposure`` (what the overlay step's clip does first)."""
    if overlays.idle_exposure == 0.0:
        return target
    return np.where(np.isnan(target), overlays.idle_exposure, target)


# --------------------------------------------------------------------------------------------
# Composition: config -> signals -> rule -> overlays
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrategyRun:
    """One strategy on one asset: exposure decided at bar t (the engine fills it at t+1)."""

    exposure: pd.Series
    states: pd.DataFrame
    readings: pd.DataFrame
    calendar: str
    asset: str = ""
    target: pd.Series | None = None   # the rule's raw target before overlays
    close: pd.Series | None = None    # the asset close the rule saw

    def events(self) -> pd.DataFrame:
        return exposure_events(self.exposure, self.states)


def asset_calendar(asset: str, catalog: Mapping | None = None) -> str:
    """The asset's decision clock: its catalog calendar ("us" or "utc"), or its bar ("1h", "5m")
    for an intraday bar series."""
    from riskoff.data.calendars import clock_of
    from riskoff.data.catalog import get_spec, load_catalog
    spec = get_spec(asset, catalog if catalog is not None else load_catalog())
    if spec.calendar not in ("us", "utc"):
        raise ConfigError(f"asset {asset}: calendar {spec.calendar!r} cannot be traded; expected 'us' or 'utc'")
    return clock_of(spec)


def _ts(x):
    return None if x is None else pd.Timestamp(x)


def build_exposure(cfg: StrategyConfig, asset: str, *, start=None, end=None, data: DataContext | None = None,
                   data_dir=None, signal_cache: dict | None = None, strategies: StrategyRegistry | None = None,
                   signals=None, catalog: Mapping | None = None, stale: str | None = None) -> StrategyRun:
    """Run one strategy config on one asset between start and end (inclusive).

    ``data`` is the command's data context (data dir, catalog with the run's own ``[series.ID]``
    entries, signal cache); ``data_dir``, ``catalog`` and ``signal_cache`` are the older keywords
    and override it (default: the resolved data dir, data/catalog.toml and a fresh cache).

    The calendar is the asset's clock (its catalog calendar, or its bar for intraday bar series);
    time spans in the config are converted to bars of that clock first. Signals are computed with
    ``run_signal(spec, params, start=None, end=end, calendar=<asset calendar>)`` over all history
    (so rules and overlays are warmed up before ``start``) and cached in ``signal_cache`` under
    ``(signal name, resolved params, calendar, None, end)``; the result is sliced to start..end.

    ``stale``: "raise" (the default when ``end`` is given: a series that cannot cover the span is a
    DataError) or "allow" (past a series' staleness bound its cells are NaN and its signals read
    no opinion; ``riskoff now`` reads past the run's end this way).
    """
    from riskoff.data.align import load
    from riskoff.data.calendars import bar_clock, clock_parts, last_bar
    from riskoff.signals.evaluate import run_signal

    data = DataContext.of(data, data_dir=data_dir, catalog=catalog)
    calendar = asset_calendar(asset, data.catalog)  # the asset's clock: "us", "utc" or its bar ("1h")
    cal_bar = clock_parts(calendar)
    cfg = cfg.on_clock(cal_bar[1], strategies=strategies, signals=signals)  # time spans -> bars
    spec, params, resolved = validate_config(cfg, strategies=strategies, signals=signals)
    owner = f"strategy {cfg.name} (rule {cfg.rule})"
    start, end = _ts(start), _ts(end)
    col = f"{asset}.close"
    stale = stale if stale is not None else ("raise" if end is not None else "allow")
    frame = load([asset], None, end, calendar=calendar, data_dir=data.data_dir, catalog=data.catalog,
                 stale=stale)
    if col not in frame.columns:
        raise ConfigError(f"{owner}: asset {asset} has no close column (columns: {list(frame.columns)})")
    close = frame[col].astype("float64")
    close.name = col
    idx = close.index
    state_cols, reading_cols = {}, {}
    cache = signal_cache if signal_cache is not None else data.cache
    for ref, sspec, sparams in resolved:
        # a frame read past the staleness bound differs from one that raised: its own cache entry
        key = (sspec.name, freeze(sparams), calendar, None, end) + (() if stale == "raise" else (stale,))
        if key not in cache:
            cache[key] = run_signal(sspec, sparams, start=None, end=end, calendar=calendar, data=data,
                                    stale=stale)
        out = cache[key]
        state_cols[ref.label] = out["state"].reindex(idx)
        reading_cols[ref.label] = out["reading"].reindex(idx)
    states = pd.DataFrame(state_cols, index=idx, columns=list(cfg.labels), dtype="float64")
    readings = pd.DataFrame(reading_cols, index=idx, columns=list(cfg.labels), dtype="float64")
    ctx = StrategyContext(asset=asset, close=close, states=states, readings=readings, calendar=calendar,
                          periods_per_year=periods_per_year(*cal_bar))
    raw = run_rule(spec, ctx, params, owner=owner)
    # over all history up to end (warm-up included) a rule that never decides is faulty; on a
    # short synthetic frame (run_rule alone) all-NaN can be a legitimate warm-up
    if len(raw) and raw.isna().all() and states.notna().any().any():
        raise PluginError(f"{owner} ({spec.origin}): target returned NaN on all {len(raw)} bars of {asset} "
                          "although its signals have states: the rule never decides")
    exposure = apply_overlays(raw, close, cfg.overlays)
    lo = start if start is not None else idx[0]
    hi = idx[-1] if end is None else (end if cal_bar[1] == "1d" else last_bar(end, bar_clock(calendar)))
    exposure = exposure.loc[lo:hi]
    if exposure.empty:
        raise DataError(f"{owner}: {asset} has no bars between {lo:%Y-%m-%d} and {hi:%Y-%m-%d}", series=asset)
    return StrategyRun(exposure=exposure, states=states.loc[lo:hi], readings=readings.loc[lo:hi],
                       calendar=calendar, asset=asset, target=raw.loc[lo:hi], close=close.loc[lo:hi])


def exposure_events(exposure: pd.Series, states: pd.DataFrame) -> pd.DataFrame:
    """Every exposure change: date, old and new exposure, and every signal's state at that bar.

    The exposure before the first bar is 0 (cash), so an initial entry is an event.
    """
    x = exposure.astype("float64").fillna(0.0)
    prev = x.shift(1, fill_value=0.0)
    changed = ~np.isclose(x.to_numpy(), prev.to_numpy(), rtol=0.0, atol=1e-12)
    dates = x.index[changed]
    st = states.reindex(dates)
    labels = list(states.columns)

    def describe(row) -> str:
        return ", ".join(f"{lab}={STATE_NAMES.get(int(v), str(v)) if pd.notna(v) else 'no-opinion'}"
                         for lab, v in zip(labels, row))

    out = pd.DataFrame({"date": dates, "old": prev.to_numpy()[changed], "new": x.to_numpy()[changed],
                        "states": [describe(r) for r in st.itertuples(index=False)]})
    for lab in labels:
        if lab in out.columns:
            continue
        out[lab] = [STATE_NAMES.get(int(v), str(v)) if pd.notna(v) else "no-opinion" for v in st[lab]]
    return out
