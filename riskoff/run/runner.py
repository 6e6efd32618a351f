"""The main job: strategies x assets simulated, evaluated per window and written to a run folder.

Stages (one package each): data (riskoff.data) -> signals (riskoff.signals) -> strategies
(riskoff.strategies) -> engine (riskoff.engine) -> evaluation (riskoff.evaluation, riskoff.significance)
-> reports (riskoff.reports). This module only wires them together.

A run writes through the run-folder service (riskoff.run.folder: a marked temporary folder beside
its destination, renamed into place at the very end), so an interrupted or failed run leaves no
results folder behind. Every input
problem (config, data, plug-ins) is raised before anything is written.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskoff.data.align import load
from riskoff.data.calendars import clock_of, clock_parts
from riskoff.data.context import DataContext
from riskoff.data.sanity import forget_reported_rows
from riskoff.data.sources import fingerprint, series_path
from riskoff.engine.account import cash_growth, simulate
from riskoff.engine.annualisation import annualisation_note, periods_per_year
from riskoff.engine.cash import CASH_SERIES, money_market_rate
from riskoff.evaluation.evaluate import full_period_stats, window_metrics, windows_table
from riskoff.evaluation.windows import format_instant
from riskoff.run.config import RunConfig
from riskoff.run.folder import RunFolder, versions
from riskoff.run.phases import Phases
from riskoff.run.plan import plan_run
from riskoff.signals.contract import discover as discover_signals
from riskoff.significance.settings import Market
from riskoff.strategies.contract import discover_strategies
from riskoff.strategies.exposure import StrategyRun, build_exposure
from riskoff.util.errors import PluginError, RiskoffWarning

BASELINE = "buy_and_hold"
SIGNIFICANCE_METHOD = (
    "null: per strategy x asset, random exposure paths with the strategy's own de-risking budget through "
    "the same engine, costs and cash: 'episodes' keeps every de-risk episode (duration, depths) and places "
    "them at uniformly random admissible gaps; 'shift' rotates the whole exposure path (rules changing "
    "exposure on >= 30% of bars or at full exposure on < 10%). pct = share of null paths the strategy "
    "beats; p = (1 + #null at least as good) / (paths + 1); q = Benjamini-Hochberg across pairs. "
    "bootstrap: arch StationaryBootstrap, mean block = median optimal_block_length of the return "
    "differences, percentile intervals of CAGR and Sharpe minus buy & hold")


@dataclass
class PairResult:
    """One strategy on one asset: the decided target, what the engine held, and the equity."""

    strategy: str
    asset: str
    asset_class: str
    calendar: str
    equity: pd.Series
    exposure: pd.Series
    target: pd.Series
    run: StrategyRun
    orders: pd.DataFrame
    cash_growth: pd.Series | None = None  # 1 + the cash return of each bar (Sharpe's benchmark)

    @property
    def key(self) -> str:
        return f"{self.strategy}/{self.asset}"


@dataclass
class RunResult:
    config: RunConfig
    data_dir: Path
    data_dir_from: str
    end: pd.Timestamp
    end_limited_by: str
    pairs: list[PairResult]
    prices: dict[str, pd.Series]
    fingerprints: dict[str, str]
    stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The money-market rate cash earned, per asset on its own calendar (annual, percent).
    cash_rates: dict[str, pd.Series] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)          # engine inputs per asset
    significance: pd.DataFrame = field(default_factory=pd.DataFrame)  # riskoff.significance.run
    #: strategies --keep-going skipped: {"strategy", "asset", "error"} (named in summary.json and the report)
    skipped: list[dict[str, str]] = field(default_factory=list)
    #: windows of the config no pair could be evaluated in: {"window", "reason"} (summary.json, findings.md)
    windows_skipped: list[dict[str, str]] = field(default_factory=list)
    #: the significance stage still running in the background (``simulate_config(defer_significance=True)``)
    pending: _Background | None = None
    #: bootstrap intervals computed elsewhere, asset -> future (see :func:`submit_bootstraps`)
    bootstraps: dict = field(default_factory=dict)
    #: books (``[[portfolios]]``): riskoff.run.books.BookResult per book x strategy, static books included
    books: list = field(default_factory=list)
    book_stats: pd.DataFrame = field(default_factory=pd.DataFrame)    # riskoff.evaluation.books.book_stats
    book_windows: pd.DataFrame = field(default_factory=pd.DataFrame)  # book x strategy x window
    hedge: pd.DataFrame = field(default_factory=pd.DataFrame)         # book x window: did diversification hold

    def wait_significance(self) -> None:
        """Block until a deferred significance stage has filled ``significance`` and ``windows``."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.join()


class _Background:
    """A function run in a thread whose exception is re-raised by :meth:`join`."""

    def __init__(self, fn: Callable[[], None], name: str):
        import threading

        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the caller's thread
            self._error.append(exc)

    def join(self, reraise: bool = True) -> None:
        self._thread.join()
        if self._error and reraise:
            raise self._error[0]


def simulate_config(cfg: RunConfig, *, data_dir: str | Path | None = None, data: DataContext | None = None,
                    progress: Callable[[str], None] | None = None, show_bar: bool = False,
                    phases: Phases | None = None, keep_going: bool = False,
                    on_simulated: Callable[[RunResult], None] | None = None,
                    defer_significance: bool = False) -> RunResult:
    """Build exposures, simulate and evaluate every strategy x asset of ``cfg`` (nothing is written).

    ``data``: the command's data context (default: resolved from ``data_dir`` and the config's series).
    ``phases`` times each stage and shows its progress (see :mod:`riskoff.run.phases`); by default a
    live bar when ``show_bar`` and log lines through ``progress`` otherwise.
    Each plug-in call runs under ``cfg.plugin_time_limit``. ``keep_going``: a strategy whose
    signal or rule plug-in fails (PluginError) is skipped on that asset with a RiskoffWarning and
    listed in ``RunResult.skipped`` instead of stopping the run (the baseline is never skipped).
    ``on_simulated(result)`` is called once every pair is simulated, before the evaluation (the
    command line submits its tearsheets there, see :func:`submit_tearsheets`).
    ``defer_significance``: the significance stage (riskoff.significance, mostly compiled code that
    releases the GIL) keeps running in a background thread after this returns, so that the caller
    can write the files that do not depend on it meanwhile; ``write_run`` waits for it
    (``RunResult.wait_significance``) before it writes windows.csv and summary.json.
    """
    from riskoff.util.plugins import plugin_time_limit

    forget_reported_rows()  # this run names each filler row once
    phases = phases or Phases(progress, live=show_bar)
    data = data if data is not None else DataContext.create(data_dir, cfg.series)
    with plugin_time_limit(cfg.plugin_time_limit):
        return _simulate(cfg, data, progress, phases, keep_going, on_simulated, defer_significance)


def _simulate(cfg: RunConfig, data: DataContext, progress, phases: Phases, keep_going: bool,
              on_simulated: Callable[[RunResult], None] | None = None,
              defer_significance: bool = False) -> RunResult:
    signals, strategies = discover_signals(cfg.plugin_dirs), discover_strategies(cfg.plugin_dirs)
    with phases.phase("data check", total=1) as bar:
        plan = plan_run(cfg, data, signals)
        bar.update()
    end, catalog = plan.end, data.catalog
    say = progress or (lambda _msg: None)
    say(f"data dir: {data.data_dir} (from {data.data_dir_from})")
    say(f"run span: {plan.span_text(cfg.start)}")
    pairs: list[PairResult] = []
    prices: dict[str, pd.Series] = {}
    cash_rates: dict[str, pd.Series] = {}
    skipped: list[dict[str, str]] = []
    markets: dict[str, Market] = {}
    for asset in cfg.assets:
        spec = catalog[asset]
        clock = clock_of(spec)
        frame = load([asset], cfg.start, end, calendar=clock, data_dir=data.data_dir, catalog=catalog,
                     stale="raise")
        close = frame[f"{asset}.close"]
        opens = frame.get(f"{asset}.open")
        prices[asset] = close
        built = []
        with phases.phase("signals + strategies", total=len(cfg.strategies_for(asset))) as bar:
            for strat in cfg.strategies_for(asset):
                try:
                    built.append((strat, build_exposure(strat, asset, start=cfg.start, end=end, data=data,
                                                        strategies=strategies, signals=signals)))
                except PluginError as exc:
                    if not keep_going or strat.name == BASELINE:
                        raise
                    warnings.warn(RiskoffWarning(f"--keep-going: strategy {strat.name} skipped on {asset}: {exc}"),
                                  stacklevel=2)
                    skipped.append({"strategy": strat.name, "asset": asset, "error": str(exc)})
                bar.update(1)
        exposure = pd.DataFrame({r_cfg.name: r.exposure.reindex(close.index) for r_cfg, r in built})
        cash = money_market_rate(close.index, clock, data=data, source=cfg.cash)
        cash_rates[asset] = cash
        growth = pd.Series(cash_growth(cash, close.index), index=close.index)
        markets[asset] = Market(close, opens if cfg.fill == "next_open" else None, cash,
                                cfg.costs.get(spec.asset_class, cfg.costs.get("equity")), cfg.fill)
        with phases.phase("engine", total=1) as bar:
            sim = simulate(close, exposure, open=markets[asset].open, cash_rate=cash, costs=markets[asset].costs,
                           fill=cfg.fill, engine=cfg.engine)
            bar.update(1)
        for strat, run in built:
            orders = sim.orders[sim.orders["column"] == strat.name] if len(sim.orders) else sim.orders
            pairs.append(PairResult(strat.name, asset, spec.asset_class, clock, sim.equity[strat.name],
                                    sim.exposure[strat.name], exposure[strat.name], run, orders, growth))
    used = sorted(set(plan.required) | set(plan.optional) | ({*CASH_SERIES} if cfg.cash == "money_market" else
                                                    ({cfg.cash} - {"none"})))
    prints = {sid: fingerprint(series_path(catalog[sid], data.data_dir)) for sid in used
              if series_path(catalog[sid], data.data_dir).exists()}
    result = RunResult(cfg, data.data_dir, data.data_dir_from, end, plan.end_limited_by, pairs, prices, prints,
                       cash_rates=cash_rates, markets=markets, skipped=skipped)
    if cfg.portfolios:
        from riskoff.run.books import simulate_books
        with phases.phase("books", total=1) as bar:
            result.books = simulate_books(cfg.portfolios, {(p.strategy, p.asset): p.target for p in pairs}, markets,
                                          {a: clock_of(catalog[a]) for a in cfg.assets}, cfg.fill)
            bar.update(1)
    if on_simulated is not None:
        on_simulated(result)
    say(f"simulated {len(pairs)} strategy x asset pairs; evaluating ...")
    with phases.phase("evaluation", total=len(pairs)) as bar:
        evaluate(result, bar.update)
    def significance() -> None:
        with phases.phase("significance", total=1) as bar:
            assess(result, say)
            bar.update()

    if defer_significance:
        result.pending = _Background(significance, "significance")
    else:
        significance()
    return result


def assess(result: RunResult, say: Callable[[str], None] = lambda _msg: None) -> None:
    """Skill or luck: fill ``result.significance`` and append the null's columns to ``result.windows``."""
    from riskoff.significance.run import (
        assess_run,  # arch and scipy.stats: loaded only when used
    )

    s = result.config.significance
    if not (s.null or s.bootstrap):
        return
    say(f"skill or luck: random-timing null ({s.paths if s.null else 'off'} paths per pair), bootstrap "
        f"({s.reps if s.bootstrap else 'off'} resamples) ...")
    result.significance, result.windows = assess_run(result.pairs, result.windows, result.markets, s,
                                                     baseline=BASELINE, workers=result.config.workers,
                                                     bootstraps=result.bootstraps or None)
    if result.books:
        from riskoff.significance.books import assess_books
        sig = assess_books(result.books, result.book_windows, s)
        if len(sig):
            result.book_stats = result.book_stats.merge(sig, on=["book", "strategy"], how="left")


def evaluate(result: RunResult, tick: Callable[[], None] | None = None) -> None:
    """Fill ``result.stats`` (one row per pair) and ``result.windows`` (pair x window); ``tick`` per pair."""
    bh = {p.asset: p.equity for p in result.pairs if p.strategy == BASELINE}
    stats, rows = [], []
    for p in result.pairs:
        if tick is not None:
            tick()
        s = full_period_stats(p.equity, p.exposure, p.target, bh[p.asset], p.asset_class, *clock_parts(p.calendar),
                              cash_growth=p.cash_growth)
        stats.append({"strategy": p.strategy, "asset": p.asset, **s})
        for w in result.config.windows.values():
            m = window_metrics(w, p.asset, p.equity, bh[p.asset], p.exposure, p.target, clock=p.calendar)
            if m is not None:
                rows.append({"strategy": p.strategy, "asset": p.asset, "window": w.id,
                             "start": format_instant(w.start), "trough": format_instant(w.trough_for(p.asset)),
                             "end": format_instant(w.end), **m})
    result.stats = pd.DataFrame(stats)
    result.windows = windows_table(rows)
    result.windows_skipped = skipped_windows(result, {r["window"] for r in rows})
    if result.books:
        evaluate_books(result)


def evaluate_books(result: RunResult) -> None:
    """Fill ``book_stats``, ``book_windows`` and ``hedge`` (riskoff.evaluation.books)."""
    from riskoff.evaluation.books import book_stats, book_windows, hedge_check
    from riskoff.run.books import static_of

    static = static_of(result.books)
    clocks = {p.asset: p.calendar for p in result.pairs}
    result.book_stats = book_stats(result.books, static)
    result.book_windows = book_windows(result.books, static, result.config.windows)
    result.hedge = hedge_check(list(static.values()), result.config.windows, result.prices, clocks,
                               hourly_closes(result, clocks))


def hourly_closes(result: RunResult, clocks: Mapping[str, str]) -> dict[str, dict[str, pd.Series]]:
    """The hourly closes the hedge check samples a book's UTC-day assets with at the NYSE close
    (riskoff.evaluation.books.NYSE_CLOSE_SOURCES), read as far as the files go (the year before a
    window may precede the run); a series missing from the data is left out."""
    from riskoff.data.catalog import load_catalog
    from riskoff.evaluation.books import NYSE_CLOSE_SOURCES

    catalog = load_catalog(extra={"series": dict(result.config.series)} if result.config.series else None)
    out: dict[str, dict[str, pd.Series]] = {}
    wanted = {a for b in result.books for a in b.book.assets if clocks.get(a) == "utc"}
    for a in sorted(wanted):
        for sid in NYSE_CLOSE_SOURCES.get(a, ()):
            if sid not in catalog or not series_path(catalog[sid], result.data_dir).exists():
                continue
            frame = load([sid], None, None, calendar=catalog[sid].bar, data_dir=result.data_dir, catalog=catalog,
                         stale="allow")
            out.setdefault(a, {})[sid] = frame[f"{sid}.close"]
    return out


def skipped_windows(result: RunResult, evaluated: set[str]) -> list[dict[str, str]]:
    """The config's windows no pair could be evaluated in, each with the reason; a window the config
    itself defines is also a RiskoffWarning (the user asked for it), catalog windows outside the
    run's span are only listed (summary.json "windows_skipped", findings.md)."""
    cfg, out = result.config, []
    own = set(cfg.raw.get("windows", {}) if isinstance(cfg.raw.get("windows"), Mapping) else ())
    for w in cfg.windows.values():
        if w.id in evaluated:
            continue
        if w.end > result.end:
            why = f"it ends {format_instant(w.end)}, after the run's end {result.end:%Y-%m-%d}"
        elif w.start < cfg.start:
            why = f"it starts {format_instant(w.start)}, before the run's start {cfg.start:%Y-%m-%d}"
        else:
            why = "no asset of the run has prices over the whole window"
        out.append({"window": w.id, "reason": why})
        if w.id in own:
            warnings.warn(RiskoffWarning(f"{cfg.source}: windows.{w.id} is not evaluated: {why}"), stacklevel=2)
    return out


def _union_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    frame = pd.concat(series, axis=1) if series else pd.DataFrame()
    frame.index.name = "date"
    return frame.sort_index()


_NAN_CELL = re.compile(r"(?<=,)nan(?=,|\n)")


def write_numbers_csv(frame: pd.DataFrame, path: Path, float_format: str) -> None:
    """``frame.to_csv(path, float_format=float_format)`` for a frame of numbers, ~2.5x faster.

    pandas formats every cell with its own Python call; here each row is one ``%`` of a row format
    (NaN cells, printed "nan", become empty as pandas writes them), while the header and the index
    are still written by pandas. Same bytes (tests/test_runner.py holds it to pandas). Frames with
    a column that is not float, or no column, go to pandas.
    """
    if frame.shape[1] == 0 or not all(pd.api.types.is_float_dtype(t) for t in frame.dtypes):
        frame.to_csv(path, float_format=float_format, lineterminator="\n")  # pandas' own rules
        return
    head = io.StringIO()
    frame.iloc[:0].to_csv(head, lineterminator="\n")
    index = pd.DataFrame(index=frame.index).to_csv(lineterminator="\n").split("\n")[1:-1]
    row = ",".join([float_format] * frame.shape[1])
    body = "".join(f"{i},{row % tuple(v)}\n" for i, v in zip(index, frame.to_numpy(dtype=float).tolist()))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(head.getvalue())
        f.write(_NAN_CELL.sub("", body))


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", double_precision=15))


def write_run(result: RunResult, out: Path, *, tearsheets: bool | str = True, report: bool = True,
              progress: Callable[[str], None] | None = None, phases: Phases | None = None,
              tearsheet_pool=None, pages=None) -> Path:
    """Write the run folder atomically (temp folder + rename) and return its path.

    ``tearsheets``: True = as the config says, False = none, or "all". ``pages``: the tearsheets
    already submitted by :func:`submit_tearsheets` (then ``tearsheets`` is not looked at); without
    them the pages are rendered here, in ``tearsheet_pool`` (a pool from
    :func:`riskoff.reports.tearsheets.start_pool`) or in a pool of ``cfg.workers`` processes.
    """
    say = progress or (lambda _msg: None)
    phases = phases or Phases(progress)
    cfg = result.config
    out = Path(out)
    with RunFolder(out, what="run") as tmp:
        say(f"writing {out} ...")
        started = time.perf_counter()
        keyed = {p.key: p for p in result.pairs}
        fmt = "%.12g"  # fixed precision: byte-identical files for identical inputs
        write_numbers_csv(_union_frame({k: p.equity for k, p in keyed.items()}), tmp / "equity.csv", fmt)
        write_numbers_csv(_union_frame({k: p.exposure for k, p in keyed.items()}), tmp / "exposure.csv", fmt)
        write_numbers_csv(_union_frame(result.prices), tmp / "prices.csv", fmt)
        if result.cash_rates:  # the tearsheets' risk-free rate
            write_numbers_csv(_union_frame(result.cash_rates), tmp / "cash_rate.csv", fmt)
        readings, states = {}, {}
        for p in result.pairs:
            for label in p.run.readings.columns:
                key = f"{label}/{p.asset}"
                if key not in readings:
                    readings[key], states[key] = p.run.readings[label], p.run.states[label]
        write_numbers_csv(_union_frame(readings), tmp / "readings.csv", fmt)
        write_numbers_csv(_union_frame(states), tmp / "states.csv", "%.0f")
        events = []
        for p in result.pairs:
            ev = p.run.events()
            stamp = "%Y-%m-%d" if p.calendar in ("us", "utc") else "%Y-%m-%dT%H:%MZ"
            events.append(pd.DataFrame({"date": ev["date"].dt.strftime(stamp), "strategy": p.strategy,
                                        "asset": p.asset, "old_exposure": ev["old"], "new_exposure": ev["new"],
                                        "states": ev["states"]}))
        pd.concat(events, ignore_index=True).to_csv(tmp / "events.csv", index=False, float_format=fmt)
        # everything above is known before the significance stage; what follows carries its figures
        writing = time.perf_counter() - started
        result.wait_significance()
        started = time.perf_counter()
        result.windows.to_csv(tmp / "windows.csv", index=False, float_format=fmt)
        summary = {
            "run": {"name": cfg.name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "config_file": cfg.source, "config_hash": cfg.config_hash,
                    "start": f"{cfg.start:%Y-%m-%d}", "end": f"{result.end:%Y-%m-%d}",
                    "end_limited_by": result.end_limited_by, "fill": cfg.fill, "cash": cfg.cash,
                    "engine": cfg.engine,
                    "annualisation": annualisation_note(clock_parts(p.calendar) for p in result.pairs),
                    "sharpe_basis": sharpe_basis(cfg.cash),
                    "costs": {k: {"fee_bps": v.fee_bps, "slippage_bps": v.slippage_bps} for k, v in cfg.costs.items()}},
            "config": json.loads(json.dumps(cfg.raw, default=str)),
            "data": {"data_dir": str(result.data_dir), "data_dir_from": result.data_dir_from,
                     "fingerprints": result.fingerprints},
            "versions": versions(),
            "stats": _records(result.stats),
            "windows": [w.as_dict() for w in cfg.windows.values()],
            "skipped": result.skipped,
            "windows_skipped": result.windows_skipped,
        }
        if len(result.significance):
            summary["significance"] = {**cfg.significance.as_dict(), "method": SIGNIFICANCE_METHOD,
                                       "pairs": _records(result.significance)}
        if result.books:
            summary["books"] = write_books(result, tmp, fmt)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
        phases.record("csv + summary", writing + time.perf_counter() - started)
        own_pool = None
        if pages is None:
            n = len(tearsheet_keys(result, tearsheets))
            if tearsheet_pool is None and cfg.workers > 1 and n > 1:
                from riskoff.reports.tearsheets import start_pool
                tearsheet_pool = own_pool = start_pool(min(cfg.workers, n))
            pages = submit_tearsheets(result, tearsheet_pool, tearsheets)
        try:
            _render(tmp, report, say, phases, pages)
        finally:
            if own_pool is not None:
                own_pool.shutdown(cancel_futures=True)
    return out


def write_books(result: RunResult, tmp: Path, fmt: str) -> dict:
    """The book files (book_equity.csv, book_weights.csv, book_orders.csv, book_windows.csv,
    book_stats.csv, hedge.csv) and the summary's "books" record."""
    from riskoff.engine.annualisation import annualisation_note
    from riskoff.evaluation.books import __doc__ as rules

    books = result.books
    write_numbers_csv(_union_frame({b.key: b.equity for b in books}), tmp / "book_equity.csv", fmt)
    write_numbers_csv(_union_frame({f"{b.key}/{a}": b.weights[a] for b in books for a in b.weights.columns}),
                      tmp / "book_weights.csv", fmt)
    write_numbers_csv(_union_frame({b.key: b.exposure for b in books}), tmp / "book_exposure.csv", fmt)
    orders = pd.concat([o.assign(book=b.name, strategy=b.strategy)[["book", "strategy", *o.columns]]
                        for b in books if len((o := b.orders))], ignore_index=True)
    if len(orders):
        orders["date"] = orders["date"].dt.strftime("%Y-%m-%d")
    orders.to_csv(tmp / "book_orders.csv", index=False, float_format=fmt)
    result.book_windows.to_csv(tmp / "book_windows.csv", index=False, float_format=fmt)
    result.book_stats.to_csv(tmp / "book_stats.csv", index=False, float_format=fmt)
    result.hedge.to_csv(tmp / "hedge.csv", index=False, float_format=fmt)
    return {"portfolios": [b.as_dict() for b in result.config.portfolios],
            "annualisation": annualisation_note({(b.calendar, "1d") for b in books}),
            "rules": " ".join((rules or "").split()),
            "stats": _records(result.book_stats)}


def submit_bootstraps(result: RunResult, pool) -> None:
    """Start the bootstrap intervals of every asset in ``pool`` (a process pool), as soon as the
    pairs are simulated (they need only equity); the significance stage collects them.

    ``riskoff run`` does this when it renders no tearsheets: a helper process that imported arch
    while the run loaded its data computes them, and the run's own process spends its time on the
    null instead of on arch's imports and resampling.
    """
    from riskoff.significance.run import bootstrap_jobs, run_bootstrap

    s = result.config.significance
    if s.bootstrap:
        result.bootstraps = {a: pool.submit(run_bootstrap, job)
                             for a, job in bootstrap_jobs(result.pairs, s, BASELINE).items()}


def tearsheet_keys(result: RunResult, tearsheets: bool | str = True) -> list[str]:
    """The ``strategy/asset`` pairs that get a tearsheet: True = as the config says, False = none, "all"."""
    choice = result.config.tearsheets if tearsheets is True else ("none" if tearsheets is False else tearsheets)
    if choice == "none":
        return []
    return [p.key for p in result.pairs
            if p.strategy != BASELINE and (choice == "all" or p.strategy in choice)]


def submit_tearsheets(result: RunResult, pool, tearsheets: bool | str = True):
    """Start rendering the run's tearsheets in ``pool`` (None: rendered later, in this process).

    Called as soon as the pairs are simulated, so the pages render while the run evaluates and
    writes; returns a :class:`riskoff.reports.tearsheets.PendingPages` for :func:`write_run`.
    """
    from riskoff.reports.tearsheets import PendingPages, tearsheet_job

    keyed = {p.key: p for p in result.pairs}
    jobs = []
    for key in tearsheet_keys(result, tearsheets):
        p = keyed[key]
        bh = keyed[f"{BASELINE}/{p.asset}"]
        jobs.append(tearsheet_job(p.strategy, p.asset, p.equity, bh.equity,
                                  periods_per_year(*clock_parts(p.calendar)), exposure=p.exposure,
                                  bh_exposure=bh.exposure, cash_rate=result.cash_rates.get(p.asset)))
    jobs += book_tearsheet_jobs(result) if tearsheets is not False else []
    return PendingPages(pool, jobs)


def book_tearsheet_jobs(result: RunResult) -> list:
    """One quantstats page per book x rule against its static book (``tearsheets/<rule>__book_<book>.html``),
    with the cash rate the book's cash earned as the risk-free rate."""
    from riskoff.reports.tearsheets import tearsheet_job
    from riskoff.run.books import static_of

    static = static_of(result.books)
    jobs = []
    for b in result.books:
        if b.strategy == "static":
            continue
        base = static[b.name]
        jobs.append(tearsheet_job(b.strategy, f"book_{b.name}", b.equity, base.equity, b.periods_per_year,
                                  exposure=b.exposure, bh_exposure=base.exposure, cash_rate=b.cash_rate,
                                  benchmark=f"static book {b.name}"))
    return jobs


def sharpe_basis(cash: str) -> str:
    """What the run's Sharpe and Sortino are measured against, as stated in summary.json and the report."""
    if cash == "money_market":
        return ("on returns in excess of the money-market rate that uninvested cash earns (SOFR, EFFR before "
                "2018-04)")
    if cash == "none":
        return "on raw returns (cash earns nothing in this run, so the risk-free rate is 0)"
    return f"on returns in excess of the rate cash earns in this run ({cash})"


def _render(run_dir: Path, report: bool, say, phases: Phases, pages) -> None:
    """findings.md, then the tearsheets (written as their pool finishes them) and report.html (this
    process) at the same time."""
    from riskoff.reports import write_findings, write_report

    with phases.phase("findings", total=1) as bar:
        write_findings(run_dir)
        bar.update()
    worker = None
    if len(pages):
        say(f"writing {len(pages)} tearsheets ...")

        def job() -> None:
            with phases.phase("tearsheets", total=len(pages)) as bar:
                pages.write(run_dir / "tearsheets", on_page=bar.update)
        worker = _Background(job, "tearsheets")
    try:
        if report:
            with phases.phase("report", total=1) as bar:
                write_report(run_dir)
                bar.update()
    except BaseException:
        if worker is not None:
            worker.join(reraise=False)  # the report's error is the one to show
        raise
    if worker is not None:
        worker.join()


def ranking_text(result: RunResult, top: int | None = None) -> str:
    """The terminal's ranking: protection next to its cost, in the report's order and units
    (percentage points for protection and cost, percent for CAGR, drawdown and time in market).
    Every row is shown unless ``top`` cuts each asset's list, and then the cut is said."""
    from riskoff.reports.fmt import pct_text, pp_text
    from riskoff.reports.protection import MEAN_RULE, ORDERING_RULE, protection_table

    stats = result.stats
    if "dd_avoided_mean_p" in result.significance:  # the random-timing null's p-value
        stats = stats.merge(result.significance[["strategy", "asset", "dd_avoided_mean_p"]],
                            on=["strategy", "asset"], how="left")
    table = protection_table(stats, result.windows, list(result.config.assets))
    has_p = bool(table["p_value"].notna().any())

    def pp(x):
        return pp_text(x, unit="")

    rows, cut = [], 0
    for asset, sub in table.groupby("asset", sort=False):
        shown = sub if top is None else sub.head(top)
        cut += len(sub) - len(shown)
        for _, r in shown.iterrows():
            row = {"asset": asset, "#": int(r["rank"]), "rule": r["strategy"] + (" *F" if r["on_frontier"] else ""),
                   "DD avoided pp": pp(r["mean_dd_avoided"]),
                   "protected": f"{int(r['windows_protected'] or 0)}/{int(r['n_windows'] or 0)}",
                   "all windows pp": pp(r["mean_dd_avoided_all"]),
                   "CAGR given up pp/yr": pp(r["cagr_given_up"]),
                   "Sharpe chg": "n/a" if pd.isna(r["sharpe_change"]) else f"{r['sharpe_change']:+.2f}"}
            if has_p:
                row["p"] = "n/a" if pd.isna(r["p_value"]) else f"{r['p_value']:.3f}{r['significance']}"
            row.update({"CAGR": pct_text(r["cagr"]), "max DD": pct_text(r["max_drawdown"]),
                        "Sharpe": "n/a" if pd.isna(r["sharpe"]) else f"{r['sharpe']:.2f}",
                        "in market": pct_text(r["time_in_market"]),
                        "turnover/yr": "n/a" if pd.isna(r["turnover"]) else f"{r['turnover']:.1f}"})
            rows.append(row)
    with pd.option_context("display.width", 200, "display.max_rows", None, "display.max_columns", None):
        text = pd.DataFrame(rows).to_string(index=False)
    legend = ["*F = on the protection-vs-cost frontier. " + MEAN_RULE]
    if has_p:
        legend.append("p = random-timing p-value of the mean drawdown avoided (** p < 0.01, * p < 0.05).")
    if cut:
        legend.append(f"{cut} more rows not shown (top {top} per asset); report.html and findings.md list them all.")
    return text + "\n" + "\n".join(legend + [ORDERING_RULE])
