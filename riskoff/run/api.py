"""The Python API: build strategies in code and backtest them in a few lines.

    import riskoff as ro
    s = ro.Strategy("vix_or_mvrv", rule="any_off", signals=["vix_mean_reversion", "mvrv_bands"])
    result = ro.backtest(s, assets=["BTC-USD", "SPY"], start="2018-01-01")
    print(result.stats[["strategy", "asset", "cagr", "max_drawdown", "sharpe"]])

Books: ``ro.Portfolio("sixty_forty", {"SPY": 0.6, "TLT": 0.4}, strategies=[s])`` is a
``[[portfolios]]`` table in code; ``ro.backtest(s, assets=[...], portfolios=[book])`` runs it (book
assets missing from ``assets`` are added) and fills ``result.book_stats``, ``result.book_windows``
and ``result.hedge``.

``backtest`` runs the same stages as ``riskoff run`` (point-in-time data, signals, rule and
overlays, next-bar fills with costs and cash yield, evaluation over the window catalog) and
always adds the buy & hold baseline for comparison. ``result.write("results/my-study")`` writes
the same run folder as the CLI (tearsheets and report included).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from riskoff.engine.account import DEFAULT_COSTS, Costs
from riskoff.evaluation.windows import load_windows
from riskoff.run.config import RunConfig
from riskoff.run.runner import RunResult, simulate_config, write_run
from riskoff.strategies.books import CASH, PortfolioConfig, parse_portfolios, portfolio_tables
from riskoff.strategies.config import StrategyConfig
from riskoff.util.errors import ConfigError

Strategy = StrategyConfig


def Portfolio(name: str, weights: Mapping[str, float], *, rebalance: str | Mapping[str, float] = "monthly",
              risk_off_into: str | Mapping[str, float] = "cash",
              strategies: Sequence[StrategyConfig | str] = ()) -> PortfolioConfig:
    """A book, as a ``[[portfolios]]`` table would declare it (checked the same way; the assets
    and strategy names are checked against the run by :func:`backtest`).

    Args:
        name: the book's label in the outputs.
        weights: asset -> weight, summing to 1 (or a ``CASH`` key holding the remainder).
        rebalance: "monthly", "quarterly", "never" or ``{"band": 0.05}``.
        risk_off_into: "cash" or a basket ``{"TLT": 0.5, "GLD": 0.5}`` that receives the freed weight.
        strategies: the rules (Strategy objects or names) the book is run with; empty = every
            strategy of the backtest but buy & hold.
    """
    names = [s.name if isinstance(s, StrategyConfig) else s for s in strategies]
    table = {"name": name, "weights": dict(weights), "rebalance": rebalance, "risk_off_into": risk_off_into,
             "strategies": names}
    basket = list(risk_off_into) if isinstance(risk_off_into, Mapping) else []
    assets = [a for a in [*weights, *basket] if a != CASH]
    (book,) = parse_portfolios(portfolio_tables([table], "riskoff.Portfolio()"), "riskoff.Portfolio()",
                               assets=assets, strategies=names)
    return book


def _raw(strategies: Sequence[StrategyConfig], **run: Any) -> dict:
    def sig(s):
        return {"name": s.name, "params": dict(s.params), "label": s.label}
    return {"run": {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in run.items()},
            "strategies": [{"name": s.name, "rule": s.rule, "signals": [sig(r) for r in s.signals],
                            "params": dict(s.params), "overlays": asdict(s.overlays), "assets": list(s.assets)}
                           for s in strategies]}


def backtest(strategies: StrategyConfig | Sequence[StrategyConfig], assets: Sequence[str], start="2015-01-01",
             end=None, *, fill: str = "next_close", cash: str = "money_market", engine: str = "numba",
             costs: Mapping[str, Costs] | None = None, baselines: Sequence[str] = ("buy_and_hold",),
             windows: Mapping[str, Any] | None = None, data_dir: str | Path | None = None,
             portfolios: PortfolioConfig | Sequence[PortfolioConfig] = ()) -> RunResult:
    """Backtest strategies on assets; returns a RunResult with ``stats`` and ``windows`` tables.

    Args:
        strategies: one or more ``Strategy`` (= ``riskoff.strategies.config.StrategyConfig``).
        assets: catalog price series, e.g. ["SPY", "BTC-USD"].
        start, end: run span (end None = the last date every required series covers).
        fill, cash, engine, costs: as in a run config's [run] and [costs] tables.
        baselines: baseline rules added for comparison (buy_and_hold is always included).
        windows: extra sell-off windows ``{id: {start, trough, end, ...}}``.
        portfolios: books (``Portfolio``) run on the same exposures; their assets join ``assets``.
    """
    strategies = [strategies] if isinstance(strategies, StrategyConfig) else list(strategies)
    names = [s.name for s in strategies]
    base = [StrategyConfig(name=b, rule=b) for b in dict.fromkeys(["buy_and_hold", *baselines]) if b not in names]
    allof = tuple(base + strategies)
    books = [portfolios] if isinstance(portfolios, PortfolioConfig) else list(portfolios)
    assets = list(dict.fromkeys([*assets, *(a for b in books for a in b.assets)]))
    # the strategies a book names run on every asset they cover; one a book names that the
    # backtest was not given is an error (parse_portfolios says which)
    start = pd.Timestamp(start)
    end = pd.Timestamp(end) if end is not None else None
    if end is not None and end <= start:
        raise ConfigError(f"backtest: end {end:%Y-%m-%d} is not after start {start:%Y-%m-%d}")
    if books:
        from riskoff.data.catalog import load_catalog
        from riskoff.run.config import check_assets
        check_assets(assets, load_catalog(), "riskoff.backtest(): assets")
        books = list(parse_portfolios(portfolio_tables([b.as_table() for b in books], "riskoff.backtest()"),
                                      "riskoff.backtest()", assets=assets,
                                      strategies=[s.name for s in allof], catalog=load_catalog()))
    cfg = RunConfig(name="api", source="riskoff.backtest()", start=start, end=end, assets=tuple(assets),
                    strategies=allof, windows=load_windows(extra={"windows": dict(windows)} if windows else None),
                    costs={**DEFAULT_COSTS, **(costs or {})}, fill=fill, cash=cash, engine=engine,
                    tearsheets="all", portfolios=tuple(books),
                    raw={**_raw(allof, start=start, end=end, assets=list(assets), fill=fill, cash=cash, engine=engine),
                         **({"portfolios": [b.as_table() for b in books]} if books else {})})
    return simulate_config(cfg, data_dir=data_dir)


def write(result: RunResult, out: str | Path, *, tearsheets: bool = True, report: bool = True,
          progress: Callable[[str], None] | bool = True) -> Path:
    """Write a RunResult to a run folder (same layout as ``riskoff run``).

    ``progress``: True prints each step (tables, tearsheets, report) with the elapsed time to
    stderr, False is silent, or pass your own ``callable(message)``.
    """
    if progress is True:
        t0 = time.perf_counter()

        def progress(msg: str) -> None:
            print(f"[{time.perf_counter() - t0:5.1f}s] {msg}", file=sys.stderr, flush=True)
    return write_run(result, Path(out), tearsheets=tearsheets, report=report, progress=progress or None)
