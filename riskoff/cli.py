"""The ``riskoff`` command line: it only wires the stages together.

    riskoff run [CONFIG] [--data-dir DIR] [--out DIR]    the main job (default backtests/selloffs.toml)
    riskoff compare RUN_A RUN_B [--html FILE]            metric differences between two runs
    riskoff windows list                                 the sell-off window catalog
    riskoff signals list | show NAME                     discovered signal plug-ins
    riskoff signals score [--assets ..] [--signals ..] [--out DIR]  each signal's record over every sell-off
    riskoff strategies list                              discovered strategy rules
    riskoff data status | fetch [ID ...]                 the data dir; live download into data/cache
    riskoff sweep CONFIG [--walk-forward] [--backend dask] parameter sweeps and out-of-sample checks

Bad input (data, config, plug-ins) prints one message and exits with code 2, without a traceback
and without leaving a results folder.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from riskoff.errors import RiskoffError
from riskoff.paths import PROJECT_ROOT, resolve_data_dir

DEFAULT_CONFIG = PROJECT_ROOT / "backtests" / "selloffs.toml"


_T0 = time.perf_counter()


def _say(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from riskoff.config import load_config
    from riskoff.run_folder import default_out
    from riskoff.runner import ranking_text, simulate_config, write_run

    t0 = time.perf_counter()
    cfg = load_config(args.config)
    result = simulate_config(cfg, data_dir=args.data_dir, progress=_say, show_bar=sys.stderr.isatty())
    out = Path(args.out) if args.out else default_out(cfg.name)
    tearsheets = False if args.no_tearsheets else ("all" if args.all_tearsheets else True)
    write_run(result, out, tearsheets=tearsheets, report=not args.no_report, progress=_say)
    print(ranking_text(result))
    print(f"\n{len(result.pairs)} strategy x asset pairs, {len(result.windows)} window rows; "
          "annualised over 365 days for crypto, 252 for US-listed assets")
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from riskoff.reports import compare_runs
    text, _ = compare_runs(Path(args.run_a), Path(args.run_b), out_html=Path(args.html) if args.html else None)
    print(text)
    return 0


def cmd_windows(args: argparse.Namespace) -> int:
    from riskoff.windows import format_windows, load_windows
    print(format_windows(load_windows()))
    return 0


def cmd_signals(args: argparse.Namespace) -> int:
    from riskoff.signal import discover, format_list, format_show
    if args.action == "score":
        return cmd_signals_score(args)
    registry = discover([Path(d) for d in args.plugin_dir])
    if args.action == "show":
        if not args.name:
            raise RiskoffError("riskoff signals show NAME: name a signal (see `riskoff signals list`)")
        print(format_show(registry.get(args.name)))
    else:
        print(format_list(registry))
    return 0


def cmd_signals_score(args: argparse.Namespace) -> int:
    from riskoff.scorecard import build_scorecard, default_out, summary_text, write_scorecard

    t0 = time.perf_counter()
    if args.name:
        raise RiskoffError(f"riskoff signals score takes no NAME (got {args.name!r}); use --signals NAME ...")
    if args.plugin_dir:
        raise RiskoffError("riskoff signals score scores the signals in signals/ and the entry points; "
                           "--plugin-dir is not supported here")
    from riskoff.run_folder import RunFolder

    out = Path(args.out) if args.out else default_out()
    RunFolder(out, what="scorecard").check_free()  # before the work, not after it
    card = build_scorecard(args.assets, args.signals, data_dir=args.data_dir, progress=_say)
    write_scorecard(card, out)
    print(summary_text(card))
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    from riskoff.strategy import discover_strategies
    reg = discover_strategies([Path(d) for d in args.plugin_dir])
    for name, spec in sorted(reg.strategies.items()):
        params = ", ".join(f"{p.name}={p.default!r} [{p.range_text()}]" for p in spec.params) or "-"
        print(f"{name:<16} {spec.summary}\n{'':<16} params: {params}")
    for name, err in sorted(reg.errors.items()):
        print(f"{name:<16} BROKEN: {err}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from riskoff.data.fetch import fetch, status
    data_dir, how = resolve_data_dir(args.data_dir)
    if args.action == "fetch":
        reports = fetch(args.ids or None, since=args.since)
        for r in reports:
            print(r)
        return 0 if all(r.ok for r in reports) else 1
    print(f"data dir: {data_dir} (from {how})")
    table = status(data_dir)
    import pandas as pd
    with pd.option_context("display.width", 160, "display.max_rows", 500):
        print(table.to_string(index=False))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``riskoff sweep CONFIG``: run a sweep and write its folder; prints the top combinations."""
    import dataclasses

    import pandas as pd

    from riskoff.errors import ConfigError, did_you_mean
    from riskoff.run_folder import RunFolder
    from riskoff.sweep import default_out, load_sweep_config, rankable_metrics, run_sweep, write_sweep

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="riskoff", description="Backtest de-risking strategies across sell-offs.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a backtest config (the main job)")
    run.add_argument("config", nargs="?", default=str(DEFAULT_CONFIG))
    run.add_argument("--data-dir", default=None, help="data dir (else RISKOFF_DATA_DIR, ../shared/data, data/cache)")
    run.add_argument("--out", default=None, help="results folder (default results/<timestamp>-<config>)")
    run.add_argument("--no-tearsheets", action="store_true", help="skip the quantstats tearsheets")
    run.add_argument("--all-tearsheets", action="store_true",
                     help="render a tearsheet for every strategy x asset (default: the config's list)")
    run.add_argument("--no-report", action="store_true", help="skip report.html")
    run.set_defaults(func=cmd_run)
    cmp_ = sub.add_parser("compare", help="compare two run folders")
    cmp_.add_argument("run_a")
    cmp_.add_argument("run_b")
    cmp_.add_argument("--html", default=None, help="also write the comparison as HTML")
    cmp_.set_defaults(func=cmd_compare)
    win = sub.add_parser("windows", help="the sell-off window catalog")
    win.add_argument("action", choices=["list"], nargs="?", default="list")
    win.set_defaults(func=cmd_windows)
    sig = sub.add_parser("signals", help="discovered signal plug-ins")
    sig.add_argument("action", choices=["list", "show", "score"], nargs="?", default="list")
    sig.add_argument("name", nargs="?")
    sig.add_argument("--plugin-dir", action="append", default=[], help="extra folder of signal modules")
    sig.add_argument("--assets", nargs="+", default=None, help="score: assets (default SPY QQQ BTC-USD GLD)")
    sig.add_argument("--signals", nargs="+", default=None, help="score: signals (default: all)")
    sig.add_argument("--out", default=None, help="score: results folder (default results/<timestamp>-scorecard)")
    sig.add_argument("--data-dir", default=None, help="data dir (else RISKOFF_DATA_DIR, ../shared/data, data/cache)")
    sig.set_defaults(func=cmd_signals)
    st = sub.add_parser("strategies", help="discovered strategy rules")
    st.add_argument("action", choices=["list"], nargs="?", default="list")
    st.add_argument("--plugin-dir", action="append", default=[])
    st.set_defaults(func=cmd_strategies)
    data = sub.add_parser("data", help="data dir status; live fetch into data/cache")
    data.add_argument("action", choices=["status", "fetch"])
    data.add_argument("ids", nargs="*")
    data.add_argument("--data-dir", default=None)
    data.add_argument("--since", default=None, help="fetch from this date (default: full history)")
    data.set_defaults(func=cmd_data)
    add_sweep_parser(sub)
    return p


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C, so the run removes its temp folder
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
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


if __name__ == "__main__":
    sys.exit(main())
