"""Run configs: a backtest TOML file parsed into frozen, validated objects.

A config is data (TOML), never code. Layout (see ``backtests/selloffs.toml``)::

    [run]
    name = "selloffs"
    start = 2015-01-01
    end = "auto"                      # or a date; "auto" = last date every required series covers
    assets = ["SPY", "QQQ", "BTC-USD", "GLD"]
    fill = "next_close"               # or "next_open"
    cash = "money_market"             # SOFR, EFFR before 2018-04; or "SOFR" / "EFFR" / "none"
    engine = "vectorbt"               # the default; or "numba" (identical results, ~3x faster; the shipped configs use it)
    tearsheets = "all"                # "all", "none" or a list of strategy names
    workers = 2                       # processes rendering tearsheets
    plugin_dirs = []                  # extra folders with signal/strategy modules, relative to this file
    plugin_time_limit = 300           # seconds one plug-in call may take (0 = no limit)

    [costs.crypto]                    # override DEFAULT_COSTS per asset class
    fee_bps = 10
    slippage_bps = 5

    [baselines]                       # strategies every comparison includes
    rules = ["buy_and_hold", "ma_timing", "vol_target"]

    [signals_alone]                   # each signal alone as a de-risk rule
    signals = ["vix_mean_reversion", "mvrv_bands"]
    rule = "any_off"
    overlays = { min_bars_out = 2 }
    assets = { mvrv_bands = ["BTC-USD"] }   # optional per-signal asset restriction

    [[strategies]]                    # combined rules (riskoff.strategies.config.strategy_from_toml)
    ...

    [[portfolios]]                    # books: weights, rebalance, risk_off_into, strategies
    ...                               # (riskoff.strategies.books.parse_portfolios)

    [windows.my_window]               # extra sell-off windows (same fields as data/windows.toml)
    [null]                            # random-timing null: enabled, paths = 1000, seed = 0
    [bootstrap]                       # CAGR/Sharpe intervals: enabled, reps = 1000, confidence = 0.95, seed
                                      # (riskoff.significance.run)
    [series.MYETF]                    # extra catalog series (same fields as data/catalog.toml)
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskoff.engine.account import DEFAULT_COSTS, Costs
from riskoff.evaluation.windows import SellOffWindow, load_windows
from riskoff.significance.settings import SignificanceSettings, parse_significance
from riskoff.strategies.books import PortfolioConfig, parse_portfolios
from riskoff.strategies.config import StrategyConfig, strategy_from_toml
from riskoff.util.config_helpers import (
    check_choice,
    jsonable,
    parse_date,
)
from riskoff.util.errors import ConfigError, did_you_mean
from riskoff.util.files import path_name
from riskoff.util.tomlfile import read_toml


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, validated; ``raw`` keeps the parsed TOML for the run record."""

    name: str
    source: str
    start: pd.Timestamp
    end: pd.Timestamp | None
    assets: tuple[str, ...]
    strategies: tuple[StrategyConfig, ...]
    windows: Mapping[str, SellOffWindow]
    costs: Mapping[str, Costs]
    fill: str = "next_close"
    cash: str = "money_market"
    engine: str = "vectorbt"
    tearsheets: str | tuple[str, ...] = "all"
    workers: int = 2
    plugin_dirs: tuple[Path, ...] = ()
    plugin_time_limit: float = 300.0
    series: Mapping[str, Any] = field(default_factory=dict)
    significance: SignificanceSettings = field(default_factory=SignificanceSettings)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: an upper bound of the bars one asset has in the run span (see :func:`span_bars`), for size checks
    bars: int = 0
    #: books (``[[portfolios]]``, riskoff.strategies.books): several assets de-risked with one cash balance
    portfolios: tuple[PortfolioConfig, ...] = ()

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(jsonable(self.raw), sort_keys=True).encode()).hexdigest()

    def strategies_for(self, asset: str) -> list[StrategyConfig]:
        return [s for s in self.strategies if not s.assets or asset in s.assets]


FILLS = ("next_close", "next_open")
CASH_SOURCES = ("money_market", "SOFR", "EFFR", "none")


def check_assets(assets: Any, catalog: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Tradable price series from the catalog: a non-empty list of known IDs, each listed once."""
    if isinstance(assets, str):
        assets = [assets]
    if not isinstance(assets, (list, tuple)) or not assets or not all(isinstance(a, str) for a in assets):
        raise ConfigError(f"{key} = {assets!r}; expected a non-empty list like [\"SPY\", \"BTC-USD\"]")
    for a in assets:
        if a not in catalog:
            raise ConfigError(f"{key}: unknown asset '{a}'{did_you_mean(a, catalog)}")
        if catalog[a].family != "prices" and not catalog[a].is_bar_series:  # intraday bars trade on their clock
            raise ConfigError(f"{key}: '{a}' is a {catalog[a].family} series, not a tradable price")
    if len(set(assets)) != len(assets):
        raise ConfigError(f"{key} lists an asset twice: {list(assets)}")
    return tuple(assets)


def span_bars(start: pd.Timestamp, end: pd.Timestamp | None, assets: tuple[str, ...],
              catalog: Mapping[str, Any]) -> int:
    """An upper bound of the bars one asset has between ``start`` and ``end`` (today when None):
    the calendar days of the span times the bars a day of the finest clock among ``assets``
    (1 for daily series, 24 for hourly bars). Size limits are checked against it before any data is read."""
    last = end if end is not None else pd.Timestamp.now().normalize()
    days = max((last - start).days + 1, 1)
    day = pd.Timedelta(days=1)
    per_day = max((max(day // catalog[a].bar_delta, 1) if catalog[a].bar_delta is not None else 1) for a in assets)
    return days * per_day


def parse_costs(tables: Mapping[str, Any]) -> dict[str, Costs]:
    """DEFAULT_COSTS overlaid with a config's ``[costs.<asset class>]`` tables (validated
    :class:`~riskoff.run.schema.CostsTable`; a key left out keeps the class's default)."""
    costs = dict(DEFAULT_COSTS)
    for cls, table in tables.items():
        given = {k: v for k, v in table.model_dump().items() if v is not None}
        costs[cls] = Costs(**{**costs.get(cls, Costs()).__dict__, **given})
    return costs


def load_config(path: str | Path) -> RunConfig:
    """Parse and validate a run config file; every problem is a ConfigError naming file and key.
    Relative paths in it (``plugin_dirs``) are read from the file's own folder."""
    return parse_config(read_toml(path, "config file"), str(path), base=Path(path).expanduser().resolve().parent)


def parse_config(doc: Mapping[str, Any], source: str, *, baseline_required: bool = True,
                 base: Path | None = None) -> RunConfig:
    """Validate a parsed run config document (see the module docstring).

    ``baseline_required=False`` is for configs whose strategies come from elsewhere (a sweep's
    ``[run]`` and its ``[strategy]``): the run schema is the same, but no buy_and_hold baseline is needed.
    ``base``: the folder of the file that names the config's relative paths (``plugin_dirs``); None
    reads them from the working directory (a document that comes from no file).
    """
    from riskoff.data.catalog import check_series_ids, load_catalog
    from riskoff.run.schema import RunDocument
    from riskoff.signals.contract import discover as discover_signals
    from riskoff.strategies.contract import discover_strategies
    from riskoff.util.schema import check

    check_series_ids(doc.get("series", {}), source)
    typed = check(RunDocument, doc, source)  # types, ranges and allowed keys of every table
    run = typed.run
    name = path_name(run.name if run.name is not None else Path(source).stem, f"{source}: run.name")
    start = parse_date(run.start, f"{source}: run.start")
    end = None if run.end == "auto" else parse_date(run.end, f"{source}: run.end")
    if end is not None and end <= start:
        raise ConfigError(f"{source}: run.end {end:%Y-%m-%d} is not after run.start {start:%Y-%m-%d}")
    catalog = load_catalog(extra={"series": doc["series"]} if "series" in doc else None, origin=source)
    assets = check_assets(run.assets, catalog, f"{source}: run.assets")
    fill = check_choice(run.fill, FILLS, f"{source}: run.fill")
    cash = check_choice(run.cash, CASH_SOURCES, f"{source}: run.cash")
    engine = check_choice(run.engine, ("vectorbt", "numba"), f"{source}: run.engine")
    tearsheets = run.tearsheets
    plugin_dirs = tuple((base / p).resolve() if base is not None else Path(p) for p in run.plugin_dirs)

    costs = parse_costs(typed.costs)

    strategies: list[StrategyConfig] = []
    sig_registry = discover_signals(plugin_dirs)
    strat_registry = discover_strategies(plugin_dirs)
    for rule in typed.baselines.rules:
        strategies.append(strategy_from_toml({"name": rule, "rule": rule}, f"{source}: baselines.rules",
                                             strategies=strat_registry, signals=sig_registry))
    alone = doc.get("signals_alone", {})
    alone_assets = typed.signals_alone.assets
    for sig in typed.signals_alone.signals:
        table = {"name": sig, "rule": alone.get("rule", "any_off"), "signals": [sig],
                 "params": alone.get("params", {}), "overlays": alone.get("overlays", {})}
        if sig in alone_assets:
            table["assets"] = alone_assets[sig]
        strategies.append(strategy_from_toml(table, f"{source}: signals_alone.{sig}",
                                             strategies=strat_registry, signals=sig_registry))
    for i, table in enumerate(doc.get("strategies", [])):
        strategies.append(strategy_from_toml(table, f"{source}: strategies[{i}]",
                                             strategies=strat_registry, signals=sig_registry))
    names = [s.name for s in strategies]
    for t in (tearsheets if isinstance(tearsheets, list) else []):
        if t not in names:
            raise ConfigError(f"{source}: run.tearsheets: unknown strategy '{t}'{did_you_mean(str(t), names)}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: strategy name(s) {dupes} used twice; names label the outputs")
    if baseline_required and "buy_and_hold" not in names:
        raise ConfigError(f"{source}: the comparison needs the buy_and_hold baseline; add it to [baselines].rules")
    for s in strategies:
        for a in s.assets:
            if a not in assets:
                raise ConfigError(f"{source}: strategy {s.name}: asset '{a}' is not in run.assets {list(assets)}")
    portfolios = parse_portfolios(typed.portfolios, source, assets=assets, strategies=names, catalog=catalog)
    windows = load_windows(extra={"windows": doc["windows"]} if "windows" in doc else None, origin=source)
    significance = parse_significance(typed.null, typed.bootstrap)
    bars = span_bars(start, end, assets, catalog)
    if strategies:  # a sweep's [run] has none: the sweep checks its own sizes
        significance.check_size(pairs=sum(1 for a in assets for s in strategies if not s.assets or a in s.assets),
                                bars=bars, windows=len(windows), source=source)
    return RunConfig(name=name, source=source, start=start, end=end, assets=assets, strategies=tuple(strategies),
                     windows=windows, costs=costs, fill=fill, cash=cash, engine=engine,
                     tearsheets=tearsheets if isinstance(tearsheets, str) else tuple(tearsheets), workers=run.workers,
                     plugin_dirs=plugin_dirs, plugin_time_limit=run.plugin_time_limit, series=doc.get("series", {}),
                     significance=significance, raw=doc, bars=bars, portfolios=portfolios)
