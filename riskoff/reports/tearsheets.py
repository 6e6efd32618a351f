"""quantstats tearsheets: one HTML page per strategy x asset, benchmarked against buy & hold.

Tearsheets are rendered for every non-baseline ``strategy/asset`` column of the run's
``equity.csv`` by default (a baseline tearsheet against itself says nothing), each compared with
the same asset's ``buy_and_hold/<asset>`` column. Returns come from the equity curve with the
asset's non-trading days (NaN rows on the union calendar) dropped, and are annualised over the
asset's own calendar: 365 periods for crypto (the stats rows carry ``periods_per_year``), 252 for
US-listed assets; the title says which.

quantstats takes a few seconds per page, so pages render in a process pool.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from riskoff.reports.runfiles import BASELINE, periods_per_year, read_dated_csv, read_summary, split_column, stats_frame

__all__ = ["write_tearsheets", "tearsheet_filename"]

# quantstats' template links a favicon on the web; the pages must work offline, so it is dropped.
_FAVICON_RE = re.compile(r'\s*<link rel="shortcut icon"[^>]*>')
_TITLE_RE = re.compile(r"<title>.*?</title>", re.S)
_ONLOAD_RE = re.compile(r"<body\s+onload=\"[^\"]*\"\s*>")


@dataclass
class _Job:
    strategy: str
    asset: str
    returns: pd.Series
    benchmark: pd.Series
    periods_per_year: int
    out: Path


def tearsheet_filename(strategy: str, asset: str) -> str:
    """The file name of one tearsheet: ``<strategy>__<asset>.html`` with unsafe characters replaced.

    A short hash of the original names is appended whenever sanitising changed them, so two
    different names can never map to the same file.

    Args:
        strategy: the strategy name.
        asset: the asset name.

    Returns:
        A file name made of letters, digits, ``.``, ``_`` and ``-``.
    """
    def clean(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._") or "x"

    stem = f"{clean(strategy)}__{clean(asset)}"
    if clean(strategy) != strategy or clean(asset) != asset:
        stem += "_" + hashlib.sha1(f"{strategy}\0{asset}".encode()).hexdigest()[:8]
    return stem[:150] + ".html"


def _title(strategy: str, asset: str, ppy: int) -> str:
    basis = {365: "calendar days", 252: "trading days"}.get(ppy, "periods per year")
    return f"{strategy} on {asset} vs buy & hold, annualised over {ppy} days ({basis})"


def _returns(equity: pd.Series) -> pd.Series:
    # NaN rows are the asset's non-trading days on the union calendar, not zero-return days.
    eq = equity.dropna()
    returns = eq.pct_change().iloc[1:]
    returns.index = pd.DatetimeIndex(returns.index).tz_localize(None)
    returns.index.name = None
    return returns.astype("float64")


def _render(job: _Job) -> Path:
    """Render one tearsheet (runs inside a pool worker or in-process)."""
    from riskoff import _mpl

    _mpl.configure()
    import matplotlib.pyplot as plt
    import quantstats as qs

    tmp = job.out.with_name(job.out.name + ".tmp")
    with warnings.catch_warnings():
        # quantstats trips pandas/numpy deprecations and divide-by-zero on flat stretches (a strategy
        # in cash); those are its internals, not our data, so they are silenced here only.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"(quantstats|numpy|pandas)")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"quantstats")
        try:
            qs.reports.html(
                job.returns, benchmark=job.benchmark, rf=0.0,
                # quantstats pastes the title into the page verbatim; the names are user input.
                title=html.escape(_title(job.strategy, job.asset, job.periods_per_year)),
                output=str(tmp), periods_per_year=job.periods_per_year, compounded=True,
                # tabulate escapes these in the tables, but the benchmark title also lands verbatim
                # in the subtitle, so it is escaped too (asset names are plain in practice).
                strategy_title=job.strategy, benchmark_title=html.escape(f"{BASELINE} {job.asset}"),
                figfmt="svg", match_dates=True)
        finally:
            plt.close("all")
    text = _FAVICON_RE.sub("", tmp.read_text(encoding="utf-8"), count=1)
    # The template's <body onload="save()"> calls a function it never defines (an "Uncaught
    # ReferenceError" in every browser console); the page needs no script at all.
    text = _ONLOAD_RE.sub("<body>", text, count=1)
    # quantstats' <title> is a fixed string; name the browser tab after the page instead.
    title = html.escape(_title(job.strategy, job.asset, job.periods_per_year))
    text = _TITLE_RE.sub(lambda _: f"<title>{title}</title>", text, count=1)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(job.out)
    return job.out


def _init_worker() -> None:
    from riskoff import _mpl

    _mpl.configure()


def _normalise_pairs(pairs, columns: list[str]) -> list[tuple[str, str]]:
    if pairs is None:
        out = [split_column(c) for c in columns]
        return [(s, a) for s, a in out if a and s != BASELINE]
    out = []
    for p in pairs:
        s, a = split_column(p) if isinstance(p, str) else (str(p[0]), str(p[1]))
        if not a:
            raise ValueError(f"tearsheet pair {p!r}: expected 'strategy/asset' or (strategy, asset)")
        out.append((s, a))
    return list(dict.fromkeys(out))


def write_tearsheets(run_dir: str | os.PathLike, pairs=None, workers: int = 2) -> list[Path]:
    """Write a quantstats tearsheet per strategy x asset into ``RUN/tearsheets/``.

    Each page compares the strategy with that asset's buy & hold and is named
    ``<strategy>__<asset>.html`` (see :func:`tearsheet_filename`).

    Args:
        run_dir: a finished run folder with ``summary.json`` and ``equity.csv``.
        pairs: which pages to write, as ``"strategy/asset"`` strings or ``(strategy, asset)``
            tuples; None means every non-baseline ``strategy/asset`` column of ``equity.csv``.
        workers: processes rendering in parallel; 1 renders in this process.

    Returns:
        The written file paths, in the order of ``pairs``.

    The pool uses the "spawn" start method, so like any multiprocessing code a calling script must
    keep its top-level work under ``if __name__ == "__main__":`` (console entry points already do).
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    stats = stats_frame(summary)
    equity = read_dated_csv(run_dir / "equity.csv")
    if equity is None:
        raise FileNotFoundError(f"{run_dir / 'equity.csv'} not found")
    out_dir = run_dir / "tearsheets"
    out_dir.mkdir(parents=True, exist_ok=True)

    jobs = []
    for strategy, asset in _normalise_pairs(pairs, list(equity.columns)):
        col, base = f"{strategy}/{asset}", f"{BASELINE}/{asset}"
        for c in (col, base):
            if c not in equity:
                raise KeyError(f"equity.csv has no column {c!r} (needed for the {col} tearsheet)")
        ppy = periods_per_year(asset, stats, equity[base])
        jobs.append(_Job(strategy, asset, _returns(equity[col]).rename(strategy),
                         _returns(equity[base]).rename(f"{BASELINE} {asset}"), ppy,
                         out_dir / tearsheet_filename(strategy, asset)))
    if not jobs:
        return []
    if workers <= 1 or len(jobs) == 1:
        return [_render(j) for j in jobs]
    # spawn, not fork: the parent may hold threads (numba, BLAS) that a forked child would inherit
    # in a locked state.
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn"),
                             initializer=_init_worker) as pool:
        return list(pool.map(_render, jobs))
