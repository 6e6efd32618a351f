"""The event-driven engine: series as events on publication time, each asset on its own clock.

Every series a run reads (the assets' prices, the cash rates) becomes a stream of events stamped
with the UTC instant it is published (:mod:`riskoff.data.events`). Each asset trades on its own clock:
NYSE sessions decided at 17:00 New York for US assets, UTC days decided at 00:00 UTC for daily
crypto, and 1h or 5m bars decided at each bar's close for intraday bar series. At each decision
instant t of an asset the engine takes exactly the events published by t (a point-in-time as-of
over the merged stream, with each series' bounded staleness): the asset's own bar (its close, and
its open for next-open fills) and the last published cash rate. The rule's target at t comes from
the strategy layer (declarative rules compiled, event-driven callback rules stepped in Python,
see :mod:`riskoff.strategies.event_rules`), and the fills, costs and cash interest are the engine's single
per-bar step (:func:`riskoff.engine.account.account_bar_nb`, through :func:`riskoff.engine.account.simulate`):
an order decided at t fills on the asset's next bar with a price, at its open or close
(``fill``), and cash accrues per bar on the elapsed time at the last published rate (ACT/360).

On the default daily config this gives the same equity as the frame-based path
(:func:`riskoff.run.runner.simulate_config`) to 1e-9 (tests/test_event_engine.py): two ways of
building the same point-in-time inputs, one engine step.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.align import trading_calendar
from riskoff.data.calendars import clock_of, decision_times
from riskoff.data.catalog import SeriesSpec, load_catalog
from riskoff.data.events import EventStream, event_stream
from riskoff.engine.account import simulate
from riskoff.engine.cash import cash_series, combine_rates
from riskoff.run.config import RunConfig
from riskoff.util.paths import resolve_data_dir

__all__ = ["AssetBars", "asset_bars", "EventPair", "simulate_events"]


@dataclass(frozen=True)
class AssetBars:
    """One asset's clock and what is known at each of its decision instants."""

    asset: str
    clock: str
    index: pd.DatetimeIndex
    decided_at: np.ndarray          # UTC ns of each bar's decision
    close: pd.Series
    open: pd.Series | None
    cash_rate: pd.Series


def asset_bars(stream: EventStream, spec: SeriesSpec, start, end, *, cash: str = "money_market",
               data_dir: Path | None = None, catalog: Mapping[str, SeriesSpec] | None = None) -> AssetBars:
    """The asset's bars between start and end on its own clock, each with the values published by
    its decision instant (the stream must hold the asset and the cash series)."""
    catalog = catalog if catalog is not None else load_catalog()
    path = resolve_data_dir(data_dir)[0] if data_dir is None else Path(data_dir)
    clock = clock_of(spec)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if clock in ("us", "utc"):
        start, end = start.normalize(), end.normalize()
    bars = trading_calendar(clock, start, end, path, catalog)
    when = decision_times(bars, clock)
    known = stream.asof_frame(when, bars, stale=True)
    ids = cash_series(cash)
    rate = combine_rates(known, ids) if ids else pd.Series(0.0, index=bars, name="cash_rate")
    opens = known.get(f"{spec.id}.open")
    return AssetBars(spec.id, clock, bars, when, known[f"{spec.id}.close"].rename(f"{spec.id}.close"),
                     None if opens is None else opens.rename(f"{spec.id}.open"), rate)


@dataclass
class EventPair:
    """One strategy on one asset, simulated by the event-driven engine."""

    strategy: str
    asset: str
    clock: str
    equity: pd.Series
    exposure: pd.Series
    target: pd.Series
    orders: pd.DataFrame


def simulate_events(cfg: RunConfig, end, *, data_dir: str | Path | None = None, signal_cache: dict | None = None
                    ) -> list[EventPair]:
    """Every strategy x asset of ``cfg`` from ``cfg.start`` to ``end`` on the event-driven path."""
    from riskoff.signals.contract import discover as discover_signals
    from riskoff.strategies.contract import discover_strategies
    from riskoff.strategies.exposure import build_exposure

    path = resolve_data_dir(data_dir)[0] if data_dir is None else Path(data_dir)
    catalog = load_catalog(extra={"series": dict(cfg.series)} if cfg.series else None)
    stream = event_stream([*cfg.assets, *cash_series(cfg.cash)], data_dir=path, catalog=catalog)
    signals, strategies = discover_signals(cfg.plugin_dirs), discover_strategies(cfg.plugin_dirs)
    cache = signal_cache if signal_cache is not None else {}
    out: list[EventPair] = []
    for asset in cfg.assets:
        spec = catalog[asset]
        bars = asset_bars(stream, spec, cfg.start, end, cash=cfg.cash, data_dir=path, catalog=catalog)
        strats = cfg.strategies_for(asset)
        targets = pd.DataFrame({s.name: build_exposure(s, asset, start=cfg.start, end=end, data_dir=path,
                                                       signal_cache=cache, strategies=strategies, signals=signals,
                                                       catalog=catalog).exposure.reindex(bars.index)
                                for s in strats})
        sim = simulate(bars.close, targets, open=bars.open if cfg.fill == "next_open" else None,
                       cash_rate=bars.cash_rate, costs=cfg.costs.get(spec.asset_class, cfg.costs.get("equity")),
                       fill=cfg.fill, engine=cfg.engine)
        for s in strats:
            orders = sim.orders[sim.orders["column"] == s.name] if len(sim.orders) else sim.orders
            out.append(EventPair(s.name, asset, bars.clock, sim.equity[s.name], sim.exposure[s.name],
                                 targets[s.name], orders))
    return out
