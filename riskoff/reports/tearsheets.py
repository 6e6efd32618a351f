"""quantstats tearsheets: one HTML page per strategy x asset, benchmarked against buy & hold.

Tearsheets are rendered for every non-baseline ``strategy/asset`` column of the run's
``equity.csv`` by default (a baseline tearsheet against itself says nothing), each compared with
the same asset's ``buy_and_hold/<asset>`` column. Returns come from the equity curve with the
asset's non-trading days (NaN rows on the union calendar) dropped, and are annualised over the
asset's own calendar: 365 periods for crypto (the stats rows carry ``periods_per_year``), 252 for
US-listed assets; the title says which.

What differs from a plain quantstats page, and why:

- the risk-free rate is the money-market rate cash earned in the run (``cash_rate.csv``), so
  Sharpe, Sortino and the other ratios are on returns in excess of it, as in the report;
- "Time in Market" is the share of bars with an exposure above 1e-6 (the run's own figure);
  quantstats counts non-zero returns, and cash earning SOFR is never exactly zero;
- the end-of-year bar chart and the monthly heatmap are drawn here (quantstats' EOY chart puts bars
  and year labels on different axes, and its heatmap shows months after the run's end as 0.00);
- quantstats' "CAGR" label carries a glyph (U+FE6A) most fonts lack; it is written plainly;
- three ratios that quantstats cannot compute with a time-varying rate (Treynor, Ulcer Performance
  Index, Serenity Index) are computed with the period's average money-market rate instead.

quantstats takes a few seconds per page, so pages render in a process pool.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.reports.runfiles import (
    BASELINE,
    periods_per_year,
    read_dated_csv,
    read_summary,
    split_column,
    stats_frame,
)
from riskoff.run.workers import start_pool as workers_pool

__all__ = ["write_tearsheets", "tearsheet_filename", "tearsheet_job", "render_page", "PendingPages", "normalise_pairs",
           "period_returns", "time_in_market", "eoy_returns", "monthly_returns", "RateSeries", "RISK_FREE_NOTE",
           "start_pool"]

# quantstats' template links a favicon on the web; the pages must work offline, so it is dropped.
_FAVICON_RE = re.compile(r'\s*<link rel="shortcut icon"[^>]*>')
_TITLE_RE = re.compile(r"<title>.*?</title>", re.S)
_ONLOAD_RE = re.compile(r"<body\s+onload=\"[^\"]*\"\s*>")
_TIM_RE = re.compile(r"<tr><td>Time in Market</td><td>[^<]*</td><td>[^<]*</td></tr>")


@dataclass
class _Job:
    strategy: str
    asset: str
    returns: pd.Series
    benchmark: pd.Series
    periods_per_year: int
    name: str                             # the page's file name (tearsheet_filename)
    time_in_market: tuple[float, float]  # (benchmark, strategy), from the exposure
    risk_free: pd.Series | float = 0.0    # annual rate as a fraction, on the returns' dates
    benchmark_label: str = ""             # "" = buy & hold of the asset; a book's page: its static book


class RateSeries(pd.Series):
    """A risk-free rate series that formats as its mean.

    quantstats accepts a time-varying ``rf`` everywhere except one f-string in its page subtitle
    (``f"RF: {rf:.1%}"``), which fails on a plain Series; this prints the period's average there.
    """

    @property
    def _constructor(self):
        return RateSeries

    def __format__(self, spec: str) -> str:
        return format(float(self.mean()), spec)


RISK_FREE_NOTE = ("Risk-free rate: the money-market rate uninvested cash earned in this run (SOFR, EFFR before "
                  "2018-04); Sharpe, Sortino and the other ratios are on returns in excess of it. Time in Market: "
                  "share of bars with an exposure above 1e-6 (a partial exposure counts as in the market).")


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


def _title(strategy: str, asset: str, ppy: int, versus: str = "buy & hold") -> str:
    basis = {365: "calendar days", 252: "trading days"}.get(ppy, "periods per year")
    return f"{strategy} on {asset} vs {versus}, annualised over {ppy} days ({basis})"


def period_returns(equity: pd.Series) -> pd.Series:
    """Bar returns of an equity curve on the asset's own calendar (union-calendar NaN rows dropped)."""
    # NaN rows are the asset's non-trading days on the union calendar, not zero-return days.
    eq = equity.dropna()
    returns = eq.pct_change().iloc[1:]
    returns.index = pd.DatetimeIndex(returns.index).tz_localize(None)
    returns.index.name = None
    return returns.astype("float64")


def render_page(job: _Job) -> str:
    """One tearsheet page as HTML text (runs inside a pool worker or in-process)."""
    import tempfile

    import matplotlib.pyplot as plt
    import quantstats as qs

    from riskoff.util import mpl as _mpl

    # after quantstats: importing it sets matplotlib's font family, and our settings must win in
    # every process alike (a pool worker imports it first; a later call in-process does not)
    _mpl.configure()
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="riskoff-tearsheet-") as scratch:
        # quantstats trips pandas/numpy deprecations and divide-by-zero on flat stretches (a strategy
        # in cash); those are its internals, not our data, so they are silenced here only.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"(quantstats|numpy|pandas)")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"quantstats")
        # quantstats writes its page to a file: a scratch one, so a page can render before (and
        # without knowing) the run folder it will be written into
        page = Path(scratch) / "page.html"
        with _quantstats_patched(qs):
            try:
                qs.reports.html(
                    job.returns, benchmark=job.benchmark, rf=job.risk_free,
                    # quantstats pastes the title into the page verbatim; the names are user input.
                    title=html.escape(_title(job.strategy, job.asset, job.periods_per_year,
                                             job.benchmark_label or "buy & hold")),
                    output=str(page), periods_per_year=job.periods_per_year, compounded=True,
                    # tabulate escapes these in the tables, but the benchmark title also lands verbatim
                    # in the subtitle, so it is escaped too (asset names are plain in practice).
                    strategy_title=job.strategy, benchmark_title=html.escape(job.benchmark_label or f"{BASELINE} {job.asset}"),
                    figfmt="svg", match_dates=True)
            finally:
                plt.close("all")
        text = _fix_page(page.read_text(encoding="utf-8"), job)
    # The template's <body onload="save()"> calls a function it never defines (an "Uncaught
    # ReferenceError" in every browser console); the page needs no script at all.
    text = _ONLOAD_RE.sub("<body>", text, count=1)
    # quantstats' <title> is a fixed string; name the browser tab after the page instead.
    title = html.escape(_title(job.strategy, job.asset, job.periods_per_year, job.benchmark_label or "buy & hold"))
    return _TITLE_RE.sub(lambda _: f"<title>{title}</title>", text, count=1)


def _write_page(out: Path, text: str) -> Path:
    from riskoff.util.files import atomic_write_text
    return atomic_write_text(out, text)


#: SVG metadata without the creation date: the same page is the same bytes on every run
_NO_DATE = {"Date": None}


def _svg(fig) -> str:
    import io

    import matplotlib

    buf = io.StringIO()
    # Text stays text (not glyph paths): smaller, and the browser test can read the labels.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata=_NO_DATE)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def eoy_returns(returns: pd.Series) -> pd.Series:
    """Compounded return per calendar year (only years with data)."""
    return (1.0 + returns).groupby(returns.index.year).prod() - 1.0


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return per calendar month, years x months; months without data stay NaN."""
    by_month = (1.0 + returns).groupby([returns.index.year, returns.index.month]).prod() - 1.0
    return by_month.unstack().reindex(columns=range(1, 13))


def _eoy_chart(job: _Job) -> str:
    from matplotlib.figure import Figure

    strat, bench = eoy_returns(job.returns) * 100, eoy_returns(job.benchmark) * 100
    years = sorted(set(strat.index) | set(bench.index))
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_axes((0.08, 0.14, 0.9, 0.72))
    x = range(len(years))
    ax.bar([i - 0.2 for i in x], bench.reindex(years).fillna(0).values, 0.4, color="#fedd78", label=job.benchmark.name)
    ax.bar([i + 0.2 for i in x], strat.reindex(years).fillna(0).values, 0.4, color="#348dc1", label=job.strategy)
    ax.axhline(0, color="#000", lw=0.8)
    ax.set_xticks(list(x), [str(y) for y in years], fontsize=8, rotation=45 if len(years) > 12 else 0)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("EOY Returns vs Benchmark", fontweight="bold", fontsize=11)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=2, bbox_to_anchor=(0, 1.0))
    return _svg(fig)


def _monthly_heatmap(job: _Job) -> str:
    from matplotlib.figure import Figure

    table = monthly_returns(job.returns) * 100
    fig = Figure(figsize=(8, 0.32 * len(table) + 1.0))
    ax = fig.add_axes((0.08, 0.5 / fig.get_figheight(), 0.9, 1 - 0.95 / fig.get_figheight()))
    lim = max(1e-9, float(np.nanmax(np.abs(table.values)))) if table.notna().any().any() else 1.0
    ax.imshow(table.values, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(table.values):
        if np.isfinite(v):  # months after the run's end (or before its start) stay empty
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(v) > 0.6 * lim else "black")
    ax.set_xticks(range(12), ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
                  fontsize=8)
    ax.set_yticks(range(len(table)), [str(y) for y in table.index], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(f"{job.strategy} - Monthly Returns (%)", fontweight="bold", fontsize=11, pad=18)
    return _svg(fig)


def _row(name: str, cells: list[str]) -> str:
    return f"<tr><td>{name}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _scalar_rf_rows(job: _Job) -> dict[str, list[str]]:
    """The rows quantstats breaks on a rate series, recomputed with the average rate (benchmark, strategy)."""
    import quantstats as qs

    rf = float(job.risk_free.mean()) if isinstance(job.risk_free, pd.Series) else float(job.risk_free)
    both = (job.benchmark, job.returns)
    treynor = qs.stats.treynor_ratio(job.returns, job.benchmark, job.periods_per_year, rf)
    return {"Treynor Ratio": ["-", f"{treynor * 100:.2f}%"],
            "Ulcer Performance Index": [f"{qs.stats.ulcer_performance_index(r, rf):.2f}" for r in both],
            "Serenity Index": [f"{qs.stats.serenity_index(r, rf):.2f}" for r in both]}


def _replace_div(text: str, div_id: str, inner: str) -> str:
    start = text.index(f'<div id="{div_id}">')
    end = text.index("</div>", start)
    return text[:start] + f'<div id="{div_id}">{inner}' + text[end:]


def _fix_page(text: str, job: _Job) -> str:
    """quantstats' page with the corrections listed in the module docstring."""
    text = _FAVICON_RE.sub("", text, count=1)
    text = text.replace("CAGR\ufe6a", "CAGR")
    bench, strat = job.time_in_market
    text, n = _TIM_RE.subn(lambda _: f"<tr><td>Time in Market</td><td>{bench * 100:.1f}%</td>"
                                     f"<td>{strat * 100:.1f}%</td></tr>", text, count=1)
    if n != 1:
        raise RuntimeError(f"{job.name}: quantstats page has no 'Time in Market' row to correct")
    if isinstance(job.risk_free, pd.Series):
        for name, cells in _scalar_rf_rows(job).items():
            text = re.sub(rf"<tr><td>{name}</td>.*?</tr>", lambda _: _row(name, cells), text, count=1, flags=re.S)
    text = _replace_div(text, "eoy_returns", _eoy_chart(job))
    text = _replace_div(text, "monthly_heatmap", _monthly_heatmap(job))
    note = f'<p class="riskoff-note" style="font-size:12px;color:#444">{html.escape(RISK_FREE_NOTE)}</p>'
    return text.replace("<hr>", note + "<hr>", 1)


def _same_input_memo(fn: Callable) -> Callable:
    """``fn`` of a pandas object, computed once per distinct content (index, values, names)."""
    memo: dict = {}

    def memoised(x, *args, **kwargs):
        if args or kwargs or not isinstance(x, (pd.Series, pd.DataFrame)):
            return fn(x, *args, **kwargs)
        names = tuple(map(str, x.columns)) if isinstance(x, pd.DataFrame) else (str(x.name),)
        key = (type(x).__name__, names, x.shape, x.index.to_numpy().tobytes(), x.to_numpy().tobytes())
        if key not in memo:
            memo[key] = fn(x)
        return memo[key].copy()  # callers may modify what they get

    return memoised


def _group_returns(returns, groupby, compounded: bool = False):
    """quantstats.utils.group_returns without a Python call per group: compounding is one grouped
    product of the growth factors (``comp`` of each group is ``(1 + r).prod() - 1``)."""
    if compounded:
        return returns.add(1).groupby(groupby).prod() - 1
    return returns.groupby(groupby).sum()


def _remove_outliers(returns, quantile: float = 0.95):
    """quantstats.stats.remove_outliers (the returns below their ``quantile``) without pandas'
    quantile machinery: the same ``numpy.percentile`` of the non-NaN values that it calls."""
    values = returns.to_numpy(dtype=float)
    return returns[values < np.percentile(values[~np.isnan(values)], np.array([quantile]) * 100.0)[0]]


@contextmanager
def _quantstats_patched(qs):
    """quantstats with shortcuts that leave the page's figures unchanged, restored afterwards:

    - its EOY chart and monthly heatmap are not drawn: this module redraws both (see the module
      docstring), and drawing quantstats' versions first cost about 3 s of matplotlib per page;
    - ``pyplot.savefig``, which quantstats calls once per chart, ends with ``canvas.draw_idle()``:
      on a non-interactive canvas that is one more full raster draw of a figure already written
      as SVG (about 7% of a page). Saving through ``Figure.savefig`` writes the same file.
      It also leaves out the SVG's creation date (``_NO_DATE``), so a page is the same bytes on a rerun;
    - ``stats.drawdown_details`` runs four times per page on the same two drawdown series (the
      page, the metrics table and a chart each ask); it is computed once per series (~7%);
    - ``utils.group_returns`` (monthly and yearly compounding, ~13 calls a page) and
      ``stats.remove_outliers`` (once per drawdown period, ~400 calls) are replaced by the
      vectorised equivalents above (~25% of a page).
    """
    import matplotlib.pyplot as plt

    saved = (qs.plots.yearly_returns, qs.plots.monthly_heatmap, plt.savefig, qs.stats.drawdown_details,
             qs.utils.group_returns, qs.stats.remove_outliers)
    qs.plots.yearly_returns = qs.plots.monthly_heatmap = lambda *args, **kwargs: None
    plt.savefig = lambda *args, **kwargs: plt.gcf().savefig(*args, **{**kwargs, "metadata": _NO_DATE})
    qs.stats.drawdown_details = _same_input_memo(qs.stats.drawdown_details)
    qs.utils.group_returns, qs.stats.remove_outliers = _group_returns, _remove_outliers
    try:
        yield
    finally:
        (qs.plots.yearly_returns, qs.plots.monthly_heatmap, plt.savefig, qs.stats.drawdown_details,
         qs.utils.group_returns, qs.stats.remove_outliers) = saved


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A tearsheet process pool whose workers start importing quantstats right away.

    Start it before the backtest so the workers' start-up (a few seconds each) overlaps the
    simulation; pass it to :func:`write_tearsheets` and shut it down afterwards. See
    :func:`riskoff.run.workers.start_pool` for how the workers start.
    """
    return workers_pool(workers, ["quantstats"])


def normalise_pairs(pairs, columns: list[str]) -> list[tuple[str, str]]:
    """(strategy, asset) pairs from "strategy/asset" strings or tuples; None = every non-baseline column."""
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


def time_in_market(exposure: pd.Series | None, equity: pd.Series) -> float:
    """Share of the asset's own bars (equity not NaN) with an exposure above 1e-6; NaN without an exposure.

    The same definition as the run's ``time_in_market`` stat (exposure above 1e-6).
    """
    if exposure is None:
        return float("nan")
    bars = equity.dropna().index
    return float((exposure.reindex(bars).fillna(0.0) > 1e-6).mean())


def tearsheet_job(strategy: str, asset: str, equity: pd.Series, bh_equity: pd.Series, ppy: int, *,
                  exposure: pd.Series | None = None, bh_exposure: pd.Series | None = None,
                  cash_rate: pd.Series | None = None, benchmark: str | None = None) -> _Job:
    """Everything one page needs, from a strategy's and its buy & hold's equity on the asset's bars.

    ``exposure`` (held weight) gives Time in Market; ``cash_rate`` (annual, percent, on the asset's
    bars) is the risk-free rate; without it the rate is 0. The run and :func:`write_tearsheets` (from
    a run folder's files) both build their pages here. ``benchmark``: the baseline's label when it
    is not the asset's buy & hold (a book's page: ``"static book NAME"``, with ``asset`` the book).
    """
    returns = period_returns(equity).rename(strategy)
    rf: pd.Series | float = 0.0
    if cash_rate is not None:
        rate = cash_rate.dropna()
        rate.index = pd.DatetimeIndex(rate.index).tz_localize(None)
        rf = RateSeries((rate / 100.0).reindex(returns.index).ffill().fillna(0.0))
    label = benchmark or f"{BASELINE} {asset}"
    return _Job(strategy, asset, returns, period_returns(bh_equity).rename(label), ppy,
                tearsheet_filename(strategy, asset),
                (time_in_market(bh_exposure, bh_equity), time_in_market(exposure, equity)), rf, benchmark or "")


class PendingPages:
    """Tearsheet pages being rendered in a pool, to be written into a folder once it exists.

    The run submits its pages as soon as the engine is done, so quantstats renders them while the
    run is still evaluating and writing (see ``riskoff.run.runner``); :meth:`write` then waits for them.
    """

    def __init__(self, pool: ProcessPoolExecutor | None, jobs: list[_Job]):
        self.names = [j.name for j in jobs]
        self._jobs = jobs
        self._futures = [pool.submit(render_page, j) for j in jobs] if pool is not None else None

    def __len__(self) -> int:
        return len(self.names)

    def write(self, out_dir: Path, on_page: Callable[[], None] | None = None) -> list[Path]:
        """Write every page into ``out_dir`` (created), each atomically, in submission order."""
        out_dir.mkdir(parents=True, exist_ok=True)
        tick = on_page or (lambda: None)
        paths = [out_dir / n for n in self.names]
        if self._futures is None:  # no pool: render here, one page at a time
            for job, path in zip(self._jobs, paths):
                _write_page(path, render_page(job))
                tick()
            return paths
        where = {f: path for f, path in zip(self._futures, paths)}
        for f in as_completed(self._futures):
            _write_page(where[f], f.result())
            tick()
        return paths

    def cancel(self) -> None:
        for f in self._futures or []:
            f.cancel()


def write_tearsheets(run_dir: str | os.PathLike, pairs=None, workers: int = 2,
                     on_page: Callable[[], None] | None = None,
                     pool: ProcessPoolExecutor | None = None) -> list[Path]:
    """Write a quantstats tearsheet per strategy x asset into ``RUN/tearsheets/``.

    Each page compares the strategy with that asset's buy & hold and is named
    ``<strategy>__<asset>.html`` (see :func:`tearsheet_filename`).

    Args:
        run_dir: a finished run folder with ``summary.json`` and ``equity.csv``.
        pairs: which pages to write, as ``"strategy/asset"`` strings or ``(strategy, asset)``
            tuples; None means every non-baseline ``strategy/asset`` column of ``equity.csv``.
        workers: processes rendering in parallel; 1 renders in this process.
        on_page: called once per finished page (progress display).
        pool: a pool from :func:`start_pool` to render in (left running); by default one is made.

    Returns:
        The written file paths, in the order of ``pairs``.

    The pool uses the "spawn" start method with the caller's ``__main__`` hidden from the workers
    (see :func:`riskoff.run.workers.main_hidden`), so a plain script or a notebook calling this needs no
    ``if __name__ == "__main__":`` guard.
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    stats = stats_frame(summary)
    equity = read_dated_csv(run_dir / "equity.csv")
    if equity is None:
        raise FileNotFoundError(f"{run_dir / 'equity.csv'} not found")
    exposure = read_dated_csv(run_dir / "exposure.csv")
    cash = read_dated_csv(run_dir / "cash_rate.csv")

    def held(column: str) -> pd.Series | None:
        return exposure[column] if exposure is not None and column in exposure else None

    jobs = []
    for strategy, asset in normalise_pairs(pairs, list(equity.columns)):
        col, base = f"{strategy}/{asset}", f"{BASELINE}/{asset}"
        for c in (col, base):
            if c not in equity:
                raise KeyError(f"equity.csv has no column {c!r} (needed for the {col} tearsheet)")
        jobs.append(tearsheet_job(strategy, asset, equity[col], equity[base],
                                  periods_per_year(asset, stats, equity[base]), exposure=held(col),
                                  bh_exposure=held(base),
                                  cash_rate=cash[asset] if cash is not None and asset in cash else None))
    if not jobs:
        return []
    own = pool is None and workers > 1 and len(jobs) > 1
    pool = start_pool(min(workers, len(jobs))) if own else pool
    try:
        return PendingPages(pool, jobs).write(run_dir / "tearsheets", on_page)
    finally:
        if own:
            pool.shutdown()
