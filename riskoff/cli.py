"""The ``riskoff`` command line: it only wires the stages together.

    riskoff init DIR                                     scaffold a user project
    riskoff run [CONFIG] [--data-dir DIR] [--out DIR]    the main job (default backtests/selloffs.toml)
    riskoff compare RUN_A RUN_B [--html FILE]            metric differences between two runs
    riskoff windows list                                 the sell-off window catalog
    riskoff signals list | show NAME | check NAME|FILE   signal plug-ins; look-ahead + conformance check
    riskoff signals score [--assets ..] [--signals ..] [--out DIR]  each signal's record over every sell-off
    riskoff strategies list | show NAME | check NAME|FILE  strategy rules; the same for a rule
    riskoff data status | fetch [ID ...]                 the data dir; live download into the cache
    riskoff now [CONFIG] [--as-of T] [--json] [--state F] what every rule decides now (exit 0/3/4/5)
    riskoff data check [ID ...]                          sanity rules over whole files (a table)
    riskoff sweep CONFIG [--walk-forward] [--backend dask] parameter sweeps and out-of-sample checks

Global options: ``--version``, ``-v`` (debug output, third-party log lines too), ``-q`` (warnings
and errors only). Progress goes to stderr through :mod:`logging`; results go to stdout. Every
list prints as the same kind of table.

Bad input (data, config, plug-ins) prints one message and exits with code 2, without a traceback
and without leaving a results folder. A check that finds a problem exits with code 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskoff import __version__
from riskoff.util.errors import ConfigError, RiskoffError
from riskoff.util.paths import anchor_project, find_project, resolve_data_dir

log = logging.getLogger("riskoff")
_T0 = time.perf_counter()
#: loggers of libraries riskoff drives; silenced below WARNING unless -v
THIRD_PARTY = ("yfinance", "urllib3", "requests", "numba", "matplotlib", "quantstats", "vectorbt", "asyncio",
               "distributed", "PIL", "fontTools", "peewee")


class _Elapsed(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = f"[{record.relativeCreated / 1000:6.1f}s] "
        if record.levelno >= logging.WARNING:
            prefix += f"{record.levelname.lower()}: "
        return prefix + record.getMessage()


def configure_logging(verbosity: int = 0) -> None:
    """Progress on stderr: -1 warnings only, 0 riskoff's progress, 1+ debug and third-party lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Elapsed())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO)
    third = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.ERROR
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(third)
    if verbosity > 0:
        logging.basicConfig(level=third, handlers=[handler], force=True)


def _say(msg: str) -> None:
    log.info(msg)


# ------------------------------------------------------------------------------------ tables

def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None,
          caption: str | None = None) -> str:
    """Render rows as the CLI's one table style (rich, plain text when piped)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns, box=box.SIMPLE_HEAD, header_style="bold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    console = Console(width=None if sys.stdout.isatty() else 200, record=True, file=open(os.devnull, "w"),
                      force_terminal=False, color_system=None)
    console.print(t)
    body = "\n".join(line.rstrip() for line in console.export_text().splitlines()).strip("\n")
    # title and caption as plain lines: rich would wrap them to the table's width
    return "\n".join(x for x in (title, body, caption) if x)


def _out(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------- commands

def cmd_init(args: argparse.Namespace) -> int:
    from riskoff.run.scaffold import EXAMPLE_SIGNAL, init_project
    files = init_project(args.dir)
    root = Path(args.dir).resolve()
    _out(table(["created"], [[p.relative_to(root)] for p in files], title=f"riskoff project in {root}"))
    _out(f"\nnext: cd {args.dir} && riskoff signals check {EXAMPLE_SIGNAL} && "
         "riskoff run backtests/example.toml && pytest")
    return 0


def _default_config() -> Path:
    project = find_project()
    folder = (project.root if project else Path.cwd()) / "backtests"
    path = folder / "selloffs.toml"
    if path.is_file():
        return path
    found = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    raise ConfigError("riskoff run: name a config file" + (
        f" (in {folder}: {', '.join(p.name for p in found)})" if found else
        " (no backtests/ folder here; `riskoff init DIR` creates a project with an example)"))


def cmd_run(args: argparse.Namespace) -> int:
    from riskoff.data.calendars import clock_parts
    from riskoff.engine.annualisation import annualisation_note
    from riskoff.run.config import load_config
    from riskoff.run.folder import RunFolder, default_out
    from riskoff.run.phases import Phases
    from riskoff.run.runner import (
        ranking_text,
        simulate_config,
        submit_bootstraps,
        submit_tearsheets,
        write_run,
    )

    t0 = time.perf_counter()
    phases = Phases(_say, live=sys.stderr.isatty())
    with phases.phase("config", total=1) as bar:
        cfg = load_config(args.config or _default_config())
        bar.update()
    if args.out:
        RunFolder(args.out).check_free()  # an existing --out (or a dangling link) is refused before any work
    tearsheets = False if args.no_tearsheets else ("all" if args.all_tearsheets else True)
    pool = helper = None
    # a book's pages (vs its static book) render whenever pages do, even with tearsheets = "none"
    if tearsheets is not False and (tearsheets == "all" or cfg.tearsheets != "none" or cfg.portfolios) \
            and cfg.workers > 1:
        from riskoff.reports.tearsheets import start_pool

        pool = start_pool(cfg.workers)  # its start-up overlaps the backtest
    elif cfg.significance.bootstrap and cfg.workers > 1:
        from riskoff.run.workers import start_pool

        helper = start_pool(1, ["arch.bootstrap"])  # the bootstraps run there (see submit_bootstraps)
    pending = []

    def submit(result) -> None:  # the pages (or the bootstraps) run while the run evaluates and writes
        # With tearsheets the bootstraps stay in this process's threads: queued in the page workers
        # they delay the pages, which finish last (measured: 20.4-21.1 s against 19.6-20.4 s).
        pending.append(submit_tearsheets(result, pool, tearsheets))
        if helper is not None:
            submit_bootstraps(result, helper)

    try:
        result = simulate_config(cfg, data_dir=args.data_dir, progress=_say, phases=phases,
                                 keep_going=args.keep_going, on_simulated=submit, defer_significance=True)
        out = Path(args.out) if args.out else default_out(cfg.name)
        write_run(result, out, report=not args.no_report, progress=_say, phases=phases, pages=pending[0])
    finally:
        for p in (pool, helper):
            if p is not None:
                p.shutdown(cancel_futures=True)
    _out(ranking_text(result))
    _out(f"\n{len(result.pairs)} strategy x asset pairs, {len(result.windows)} window rows; "
         f"{annualisation_note(clock_parts(p.calendar) for p in result.pairs)}")
    for skip in result.skipped:
        _out(f"SKIPPED (--keep-going): {skip['strategy']} on {skip['asset']}: {skip['error']}")
    _out(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    _out(phases.summary() + "  (overlapping in time: significance with the CSV writing, tearsheets with everything "
         "after the engine; each counted whole)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from riskoff.reports import compare_runs
    text, _ = compare_runs(Path(args.run_a), Path(args.run_b), out_html=Path(args.html) if args.html else None,
                           show_all=args.all)
    _out(text)
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from riskoff.reports.findings import findings_markdown, readme_with_findings

    text = findings_markdown(Path(args.run))
    if args.update_readme:
        readme = Path(args.update_readme)
        readme.write_text(readme_with_findings(readme.read_text(encoding="utf-8"), text), encoding="utf-8")
        print(f"{readme}: findings section replaced from {args.run}")
    else:
        print(text, end="")
    return 0


def cmd_windows(args: argparse.Namespace) -> int:
    from riskoff.evaluation.windows import load_windows
    ws = load_windows()
    _out(table(["id", "start", "trough", "end", "sample", "assets", "name"],
               [[w.id, f"{w.start:%Y-%m-%d}", f"{w.trough:%Y-%m-%d}", f"{w.end:%Y-%m-%d}", w.sample,
                 ",".join(w.assets), w.name] for w in ws.values()], title=f"{len(ws)} sell-off windows"))
    return 0


def cmd_signals_score(args: argparse.Namespace) -> int:
    from riskoff.evaluation.scorecard import build_scorecard, summary_text
    from riskoff.reports.scorecard import default_out, write_scorecard

    t0 = time.perf_counter()
    if args.name:
        raise RiskoffError(f"riskoff signals score takes no NAME (got {args.name!r}); use --signals NAME ...")
    if args.plugin_dir:
        raise RiskoffError("riskoff signals score scores the signals in signals/ and the entry points; "
                           "--plugin-dir is not supported here")
    from riskoff.run.folder import RunFolder

    out = Path(args.out) if args.out else default_out()
    RunFolder(out, what="scorecard").check_free()  # before the work, not after it
    card = build_scorecard(args.assets, args.signals, data_dir=args.data_dir, progress=_say)
    write_scorecard(card, out)
    print(summary_text(card))
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def _origin(origin: str) -> str:
    """Where a plug-in comes from, short: 'built-in', a path relative to the project, or the entry point."""
    from riskoff.util.paths import SIGNALS_DIR, STRATEGIES_DIR
    p = Path(origin)
    if p.parent in (SIGNALS_DIR, STRATEGIES_DIR):
        return "built-in"
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return origin


def _plugin_table(kind: str, registry: Any) -> str:
    from riskoff.signals.contract import SignalSpec
    rows = []
    for name, spec in sorted(registry.items.items()):
        params = ", ".join(f"{p.name}={p.default!r}" for p in spec.params) or "-"
        extra = ([spec.calendar + (", revised" if spec.revised else ""), ", ".join(spec.inputs)]
                 if isinstance(spec, SignalSpec) else [])
        rows.append([name, *extra, params, _origin(spec.origin), spec.summary])
    for name, err in sorted(registry.errors.items()):
        rows.append([name, *([""] * (2 if kind == "signals" else 0)), "", "BROKEN", str(err).splitlines()[0]])
    cols = ["name", *(["calendar", "inputs"] if kind == "signals" else []), "params", "from", "summary"]
    broken = f", {len(registry.errors)} broken" if registry.errors else ""
    return table(cols, rows, title=f"{len(registry.items)} {kind}{broken}")


def _load_plugin(kind: str, target: str, dirs: list[Path]) -> Any:
    """A plug-in by name (discovered) or by file path (imported on its own)."""
    from riskoff.util.plugins import import_plugin_file
    path = Path(target)
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"{path}: plug-in file not found")
        if kind == "signals":
            from riskoff.signals.contract import spec_from_module
        else:
            from riskoff.strategies.contract import spec_from_module
        try:
            module = import_plugin_file(path.resolve(), f"check_{kind}")
        except Exception as exc:
            raise ConfigError(f"{path}: failed to import: {type(exc).__name__}: {exc}") from None
        spec = spec_from_module(module, str(path))
        if spec is None:  # a module of the other kind (see spec_from_module)
            noun = {"signals": "signal", "strategies": "strategy rule"}
            other = "strategies" if kind == "signals" else "signals"
            raise ConfigError(f"{path}: a {noun[other]} module, not a {noun[kind]}; check it with "
                              f"`riskoff {other} check {target}`")
        return spec
    return _registry(kind, dirs).get(target)


def _registry(kind: str, dirs: list[Path]) -> Any:
    if kind == "signals":
        from riskoff.signals.contract import discover
        return discover(dirs)
    from riskoff.strategies.contract import discover_strategies
    return discover_strategies(dirs)


def _check_signal(spec: Any, args: argparse.Namespace) -> tuple[list[str], Any]:
    from riskoff.signals.evaluate import evaluate, load_signal_data
    from riskoff.testing import (
        declaration_problems,
        first_leak,
        output_problems,
        param_problems,
        truncation_leaks,
        truncation_mismatches,
        warmup_problems,
    )
    frame = load_signal_data(spec, args.start, args.end, data_dir=args.data_dir)
    log.info(f"checking signal {spec.name} on {len(frame)} bars {frame.index[0]:%Y-%m-%d} .. "
             f"{frame.index[-1]:%Y-%m-%d} ({spec.origin})")
    try:
        out = evaluate(spec, frame)
    except RiskoffError as exc:
        return [f"signal {spec.name}: evaluate failed: {exc}"], None
    found = truncation_mismatches(spec, frame, full=out)
    for note in declaration_problems(spec):  # documentation advice: printed, never a failure
        _out(f"note: {note}")
    problems = (output_problems(spec, frame, None, out)
                + warmup_problems(spec, frame, None, out) + param_problems(spec)
                + truncation_leaks(spec, frame, full=out))
    return problems, first_leak(found)


def cmd_plugins(args: argparse.Namespace) -> int:
    kind = args.command
    if args.action == "score":
        return cmd_signals_score(args)
    dirs = [Path(d) for d in args.plugin_dir]
    if args.action == "list":
        _out(_plugin_table(kind, _registry(kind, dirs)))
        return 0
    if not args.name:
        raise ConfigError(f"riskoff {kind} {args.action} NAME: name a plug-in (see `riskoff {kind} list`)")
    spec = _load_plugin(kind, args.name, dirs)
    if args.action == "show":
        if kind == "signals":
            from riskoff.signals.contract import format_show
            _out(format_show(spec))
        else:
            _out(f"{spec.name}\n{'=' * len(spec.name)}\n\n{spec.doc.strip() or '(no docstring)'}\n")
            _out(f"Needs signals: {'yes' if spec.needs_signals else 'no'}\nOrigin:        {spec.origin}\n")
            _out(table(["parameter", "default", "allowed", "description"],
                       [[p.name, repr(p.default), p.range_text(), p.description] for p in spec.params],
                       title="Parameters"))
        return 0
    if kind == "signals":
        problems, leak = _check_signal(spec, args)
    else:
        from riskoff.testing import check_rule
        problems, leak = check_rule(spec)
    what = "signal" if kind == "signals" else "strategy rule"
    if leak is not None:
        _out(f"LOOK-AHEAD: first leaking bar {leak.day:%Y-%m-%d}: '{leak.column}' was {leak.full!r} with the "
             f"full data and {leak.truncated!r} once the rows after {leak.cut:%Y-%m-%d} were removed")
    for p in problems:
        _out(f"FAIL  {p}")
    if problems:
        _out(f"verdict: {what} {spec.name} FAILS ({len(problems)} problem(s))")
        return 1
    _out(f"verdict: {what} {spec.name} passes (look-ahead, output shape, warm-up, parameters"
         f"{', docstring' if kind == 'signals' else ''})")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from riskoff.data.fetch import fetch, status
    from riskoff.util.paths import LIVE_DATA_DIR
    if args.action == "fetch":
        root = Path(args.data_dir) if args.data_dir else LIVE_DATA_DIR
        log.info(f"fetching into {root}")
        reports = fetch(args.ids or None, root=root, since=args.since)
        _out(table(["series", "result", "source", "rows", "added", "last", "note"],
                   [[r.series, "ok" if r.ok else "FAILED", r.source or "", r.rows if r.ok else "",
                     r.added if r.ok else "", r.last or "", r.message] for r in reports],
                   title=f"fetch into {root}"))
        return 0 if all(r.ok for r in reports) else 1
    data_dir, how = resolve_data_dir(args.data_dir)
    if args.action == "check":
        return _data_check(args.ids, data_dir, how)
    st = status(data_dir)
    rows = []
    for r in st.itertuples(index=False):
        stale = r.present and r.stale_days is not None and r.stale_days > r.max_stale_days
        flag = "missing" if not r.present else ("STALE" if stale else "ok")
        rows.append([r.series, r.family, flag, "" if r.rows is None else r.rows, r.first or "", r.last or "",
                     "" if r.stale_days is None else r.stale_days, r.max_stale_days, r.source or "-"])
    n_stale = sum(1 for r in rows if r[2] == "STALE")
    _out(table(["series", "family", "status", "rows", "first", "last", "age (days)", "max stale", "source"], rows,
               title=f"data dir {data_dir} (from {how}): {len(rows)} series, "
                     f"{sum(1 for r in rows if r[2] != 'missing')} present, {n_stale} past their max_stale_days"))
    _out(_next_end(data_dir, args.config))
    return 0


def _data_check(ids: list[str], data_dir: Path, how: str) -> int:
    """The sanity rules over whole files: one row per violation; exit 1 when any is not excepted."""
    import pandas as pd

    from riskoff.data.catalog import get_spec, load_catalog
    from riskoff.data.sanity import check_table
    catalog = load_catalog()
    specs = [get_spec(i, catalog) for i in ids] if ids else \
        [s for s in catalog.values() if (data_dir / s.relpath()).exists()]
    table = check_table(specs, data_dir)
    print(f"data dir: {data_dir} (from {how}); {len(specs)} series checked")
    if len(table):
        shown = table.assign(file=[str(Path(f).relative_to(data_dir)) if Path(f).is_relative_to(data_dir) else f
                                   for f in table["file"]])
        with pd.option_context("display.width", 250, "display.max_rows", 10_000, "display.max_colwidth", 200):
            print(shown.to_string(index=False))
    bad = int((table["status"] == "VIOLATION").sum())
    print(f"{bad} violation(s), {len(table) - bad} excepted row(s) (data/exceptions.toml)")
    return 1 if bad else 0


def cmd_now(args: argparse.Namespace) -> int:
    """The read-out of a config as of an instant; exit 0 fresh and invested, 3 a rule de-risked, 4 an
    input stale, 5 both (2 on errors)."""
    import json

    from riskoff.reports.now import render, render_changes
    from riskoff.run.now import changes, notify, read_state, run_now, write_state

    if args.on_change and not args.state:
        raise ConfigError("--on-change needs --state FILE (the previous read-out it compares with)")
    previous = read_state(args.state) if args.state else None
    result = run_now(args.config or _default_config(), as_of=args.as_of, data_dir=args.data_dir)
    doc = result.as_dict()
    code = result.exit_code
    if args.state:
        found, decision = changes(previous, doc)
        doc["changes"] = found
        doc["since"] = previous.get("as_of") if previous else None
        payload = json.dumps(doc, indent=2)
        _out(payload if args.json else render_changes(found, doc["since"], code))
        write_state(args.state, doc)
        if decision and args.on_change:
            problem = notify(args.on_change, payload)
            if problem:
                print(f"riskoff: warning: {problem}", file=sys.stderr)
        return code
    _out(json.dumps(doc, indent=2) if args.json else render(doc))
    return code


def cmd_sweep(args: argparse.Namespace) -> int:
    """``riskoff sweep CONFIG``: run a sweep and write its folder; prints the top combinations."""
    import dataclasses

    import pandas as pd

    from riskoff.run.folder import RunFolder
    from riskoff.sweep import (
        default_out,
        load_sweep_config,
        rankable_metrics,
        run_sweep,
        write_sweep,
    )
    from riskoff.util.errors import ConfigError, did_you_mean

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    from riskoff.sweep.books import is_book_sweep
    from riskoff.util.tomlfile import read_toml
    if is_book_sweep(read_toml(args.config, "sweep config")):
        return _book_sweep(args, say, t0)
    cfg = load_sweep_config(args.config)
    if args.walk_forward:
        cfg = cfg.with_walk_forward()
    if args.metric:
        if args.metric not in rankable_metrics(cfg.windows):
            raise ConfigError(f"--metric {args.metric!r}{did_you_mean(args.metric, rankable_metrics(cfg.windows))}")
        cfg = dataclasses.replace(cfg, metric=args.metric)
    if args.kernel:
        cfg = dataclasses.replace(cfg, kernel=args.kernel)
    if args.memory_mb:
        cfg = dataclasses.replace(cfg, memory_mb=float(args.memory_mb))
    out = Path(args.out) if args.out else default_out(cfg)
    RunFolder(out, what="sweep").check_free()
    result = run_sweep(cfg, data_dir=args.data_dir, backend=args.backend, scheduler=args.scheduler,
                       n_workers=args.n_workers, chunk_size=args.chunk_size or None, progress=say,
                       show_bar=sys.stderr.isatty())
    write_sweep(result, out)
    cols = ["asset", "rank", "combo", *cfg.keys, cfg.metric, "stability", "cagr", "max_drawdown", "dd_avoided_mean"]
    top = result.results.sort_values(["asset", "rank"]).groupby("asset", sort=False).head(5)
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.4f}".format):
        print(top[list(dict.fromkeys(cols))].to_string(index=False))
        if result.walkforward is not None and len(result.walkforward):
            print("\nwalk-forward:")
            wcols = ["fold", "asset", "combo", *cfg.keys, "is_objective", "oos_objective", "degradation",
                     "oos_percentile"]
            print(result.walkforward[wcols].to_string(index=False))
    n_bt = len(result.results) + len(result.skipped)
    print(f"\n{n_bt:,} backtests ({cfg.n_combos:,} combinations x {len(cfg.assets)} assets), "
          f"{len(result.skipped):,} skipped; compute {result.timings.get('total_s', 0):.2f} s")
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def _book_sweep(args: argparse.Namespace, say, t0: float) -> int:
    """``riskoff sweep`` on a config with a ``[portfolio]`` table: a book sweep (riskoff.sweep.books)."""
    import pandas as pd

    from riskoff.run.folder import RunFolder
    from riskoff.sweep.books import parse_book_sweep, run_book_sweep, write_book_sweep
    from riskoff.util.tomlfile import read_toml

    cfg = parse_book_sweep(read_toml(args.config, "sweep config"), str(args.config))
    out = Path(args.out) if args.out else Path("results") / f"{time.strftime('%Y%m%d-%H%M%S')}-sweep-{cfg.run.name}"
    RunFolder(out, what="sweep").check_free()
    res = run_book_sweep(cfg, data_dir=args.data_dir, progress=say)
    write_book_sweep(res, out)
    cols = ["rank", "combo", *cfg.keys, cfg.metric, "stability", "cagr", "max_drawdown", "dd_avoided_mean",
            "cagr_given_up", "turnover"]
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.4f}".format):
        print(res.results[list(dict.fromkeys(cols))].head(10).to_string(index=False))
    print(f"\n{res.timings['variants']:,} book variants ({cfg.n_combos:,} combinations, {len(res.skipped):,} skipped); "
          f"variants {res.timings['variants_s']:.2f} s after the run {res.timings['run_s']:.2f} s")
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``riskoff sweep`` to the CLI's subparsers (``build_parser``)."""
    from riskoff.sweep.config import BACKENDS, KERNELS

    p = subparsers.add_parser("sweep", help="parameter sweep of one strategy (grid, heatmaps, walk-forward)")
    p.add_argument("config", help="sweep config TOML (see backtests/sweep_vix.toml)")
    p.add_argument("--data-dir", default=None, help="data dir (else RISKOFF_DATA_DIR, ../shared/data, data/cache)")
    p.add_argument("--out", default=None, help="output folder (default results/<timestamp>-sweep-<name>)")
    p.add_argument("--walk-forward", action="store_true",
                   help="also run the walk-forward study (the [walk_forward] table, or its defaults)")
    p.add_argument("--metric", default=None, help="rank by this metric instead of sweep.metric")
    p.add_argument("--backend", choices=BACKENDS, default="local", help="local (default) or dask")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (default: start a LocalCluster)")
    p.add_argument("--n-workers", type=int, default=2, help="workers of the LocalCluster (--backend dask)")
    p.add_argument("--chunk-size", type=int, default=0, help="combinations per chunk (default: from memory_mb)")
    p.add_argument("--memory-mb", type=float, default=0, help="memory budget of a chunk (default: sweep.memory_mb)")
    p.add_argument("--kernel", choices=KERNELS, default=None, help="fused (default), numba or vectorbt")
    p.set_defaults(func=cmd_sweep)
    return p


def _next_end(data_dir: Path, config: str | None) -> str:
    """What ``end = "auto"`` would resolve to for the default (or given) config, and why."""
    from riskoff.data.context import DataContext
    from riskoff.run.config import load_config
    from riskoff.run.plan import resolve_end, used_series
    try:
        cfg = load_config(config or _default_config())
        data = DataContext.create(data_dir, cfg.series)
        end, by = resolve_end(cfg, used_series(cfg, data)[0], data)
    except RiskoffError as exc:
        return f"next run: cannot tell ({str(exc).splitlines()[0]})"
    why = "set in the config" if by == "config" else f"the last date every required series covers; limited by {by}"
    return f"next run of {cfg.source}: ends {end:%Y-%m-%d} ({why})"


# ------------------------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    def verbosity(default: Any) -> argparse.ArgumentParser:
        # the same options before and after the command; a subcommand's default must not reset them
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("-v", "--verbose", action="count", default=0 if default is None else default,
                            help="more output (-vv: debug, including third-party libraries)")
        parser.add_argument("-q", "--quiet", action="store_true", default=False if default is None else default,
                            help="warnings and errors only")
        return parser

    common = verbosity(argparse.SUPPRESS)
    p = argparse.ArgumentParser(prog="riskoff", parents=[verbosity(None)],
                                description="Backtest de-risking strategies across sell-offs.")
    p.add_argument("--version", action="version", version=f"riskoff {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def cmd(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    ini = cmd("init", help="create a riskoff project (signals/, strategies/, backtests/, tests/, results/)")
    ini.add_argument("dir")
    ini.set_defaults(func=cmd_init)
    run = cmd("run", help="run a backtest config (the main job)")
    run.add_argument("config", nargs="?", default=None, help="default: backtests/selloffs.toml of the project")
    run.add_argument("--data-dir", default=None,
                     help="data dir (else RISKOFF_DATA_DIR, riskoff.toml's data_dir, ../shared/data, the cache)")
    run.add_argument("--out", default=None, help="results folder (default <project>/results/<timestamp>-<config>)")
    run.add_argument("--no-tearsheets", action="store_true", help="skip the quantstats tearsheets")
    run.add_argument("--all-tearsheets", action="store_true",
                     help="render a tearsheet for every strategy x asset (default: the config's list)")
    run.add_argument("--no-report", action="store_true", help="skip report.html")
    run.add_argument("--keep-going", action="store_true",
                     help="skip strategies whose signal/rule plug-in fails (warned, listed in summary.json)")
    run.set_defaults(func=cmd_run)
    cmp_ = cmd("compare", help="compare two run folders")
    cmp_.add_argument("run_a")
    cmp_.add_argument("run_b")
    cmp_.add_argument("--html", default=None, help="also write the comparison as HTML (frontiers, tearsheet headlines)")
    cmp_.add_argument("--all", action="store_true", help="list every strategy x asset, also unchanged ones")
    cmp_.set_defaults(func=cmd_compare)
    fnd = cmd("findings", help="print a run's findings.md (or put it into the README)")
    fnd.add_argument("run")
    fnd.add_argument("--update-readme", default=None, metavar="README",
                     help="replace the README's generated findings section with this run's")
    fnd.set_defaults(func=cmd_findings)
    win = cmd("windows", help="the sell-off window catalog")
    win.add_argument("action", choices=["list"], nargs="?", default="list")
    win.set_defaults(func=cmd_windows)
    for kind, what in (("signals", "signal plug-ins"), ("strategies", "strategy rules")):
        sp = cmd(kind, help=f"{what}: list, show NAME, check NAME|FILE")
        sp.add_argument("action", choices=["list", "show", "check", *(["score"] if kind == "signals" else [])],
                        nargs="?", default="list")
        sp.add_argument("name", nargs="?", help="a discovered name, or a .py file (check, show)")
        sp.add_argument("--plugin-dir", action="append", default=[], help=f"extra folder of {kind} modules")
        if kind == "signals":
            sp.add_argument("--assets", nargs="+", default=None, help="score: assets (default SPY QQQ BTC-USD GLD)")
            sp.add_argument("--signals", nargs="+", default=None, help="score: signals (default: all)")
            sp.add_argument("--out", default=None, help="score: results folder (default results/<timestamp>-scorecard)")
            sp.add_argument("--start", default="2005-01-01", help="check: first bar of the data (default 2005-01-01)")
            sp.add_argument("--end", default=None, help="check: last bar (default: the data's end)")
            sp.add_argument("--data-dir", default=None)
        sp.set_defaults(func=cmd_plugins)
    data = cmd("data", help="data dir status; live fetch into the cache")
    data.add_argument("action", choices=["status", "fetch", "check"],
                      help="check = the sanity rules over whole files (exit 1 on a violation)")
    data.add_argument("ids", nargs="*")
    data.add_argument("--data-dir", default=None, help="status: the data dir to inspect; fetch: where to write")
    data.add_argument("--since", default=None, help="fetch from this date (default: full history)")
    data.add_argument("--config", default=None, help="status: the config whose next end date to report")
    data.set_defaults(func=cmd_data)
    now = cmd("now", help="what every rule of a config decides as of now (exit 0 / 3 de-risked / 4 stale / 5 both)")
    now.add_argument("config", nargs="?", default=None, help="default: backtests/selloffs.toml of the project")
    now.add_argument("--as-of", default=None, metavar="INSTANT",
                     help="ISO 8601 instant (an offset or Z; without one UTC); default: the current time")
    now.add_argument("--json", action="store_true", help="print the read-out as JSON")
    now.add_argument("--data-dir", default=None, help="data dir (resolved as for `riskoff run`)")
    now.add_argument("--state", default=None, metavar="FILE",
                     help="keep the read-out in FILE (atomically) and print only what changed since the last one")
    now.add_argument("--on-change", default=None, metavar="CMD",
                     help="with --state: run CMD (no shell) with the JSON on stdin when a decision changed")
    now.set_defaults(func=cmd_now)
    add_sweep_parser(sub)
    return p


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C, so the run removes its temp folder
    raise KeyboardInterrupt


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """riskoff's own warnings as one line each; other libraries' keep Python's format."""
    from riskoff.util.errors import RiskoffWarning
    if issubclass(category, RiskoffWarning):
        print(f"riskoff: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    warnings.showwarning = _show_warning
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    # a config's project is the one holding the config file, wherever the command is started from
    anchor_project(args.config if isinstance(getattr(args, "config", None), str) else None)
    try:
        return args.func(args)
    except RiskoffError as exc:
        print(f"riskoff: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("riskoff: interrupted; no results folder was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        anchor_project(None)  # main() may be called again in the same process (tests, scripts)


if __name__ == "__main__":
    sys.exit(main())
