"""Skill or luck for a whole run: the null and the bootstrap over every strategy x asset pair.

Configured by a run config's ``[null]`` and ``[bootstrap]`` tables (riskoff.significance.settings).

Outputs (``assess_run``): one row per pair with the null's choice, the strategy's percentile and
p-value for the mean drawdown avoided across windows (with the number of windows), the CAGR given
up and Calmar, a Benjamini-Hochberg q-value of the drawdown p-values across the run's pairs
(``dd_avoided_mean_q``: how many "significant" pairs survive testing 46 at once), and the
bootstrap intervals; and, per window row, the strategy's percentile and p-value for that window's
drawdown avoided. The pairs run in a thread pool (the numba steps release the GIL); every pair
draws from its own seeded stream, so results do not depend on the number of workers.
"""
from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from riskoff.data.calendars import clock_parts
from riskoff.engine.annualisation import periods_per_year
from riskoff.evaluation.windows import parse_instants, something_to_avoid
from riskoff.significance.bootstrap import difference_intervals
from riskoff.significance.null import PAIR_METRICS, pair_rng, run_null
from riskoff.significance.settings import Market, SignificanceSettings
from riskoff.util.errors import ConfigError

__all__ = ["assess_run", "bh_qvalues", "bootstrap_jobs", "run_bootstrap", "BootstrapJob", "PAIR_COLUMNS", "WINDOW_COLUMNS"]


class _Pair(Protocol):
    strategy: str
    asset: str
    calendar: str
    equity: pd.Series
    target: pd.Series
    cash_growth: pd.Series | None

    @property
    def key(self) -> str: ...


PAIR_COLUMNS = ["strategy", "asset", "null_kind", "null_paths", "null_change_rate", "null_free_share", "n_windows",
                *(f"{m}{s}" for m in PAIR_METRICS for s in ("", "_pct", "_p")), "dd_avoided_mean_q",
                "cagr_diff", "cagr_diff_lo", "cagr_diff_hi", "sharpe_diff", "sharpe_diff_lo", "sharpe_diff_hi",
                "block_length", "bootstrap_reps", "confidence"]
#: appended to windows.csv, after the evaluation's columns
WINDOW_COLUMNS = ["null_kind", "null_paths", "null_pct_drawdown_avoided", "null_p_drawdown_avoided",
                  "null_p_dd_avoided_mean"]


def _spans(index: pd.DatetimeIndex, rows: pd.DataFrame) -> np.ndarray:
    """Inclusive bar positions of each window row (the bars ``equity.loc[start:end]`` selects)."""
    starts = index.searchsorted(parse_instants(rows["start"], "window start").to_numpy(), side="left")
    ends = index.searchsorted(parse_instants(rows["end"], "window end").to_numpy(), side="right") - 1
    return np.column_stack([starts, ends]).astype(np.int64)


def _null_one(p: _Pair, bh: pd.Series, rows: pd.DataFrame, market: Market, settings: SignificanceSettings):
    eq = p.equity.dropna()
    m = market
    return run_null(m.close.reindex(eq.index), p.target.reindex(eq.index), eq, bh.reindex(eq.index),
                    ppy=periods_per_year(*clock_parts(p.calendar)), spans=_spans(eq.index, rows), paths=settings.paths,
                    rng=pair_rng(settings.null_seed, p.key),
                    open=None if m.open is None else m.open.reindex(eq.index),
                    cash_rate=None if m.cash_rate is None else m.cash_rate.reindex(eq.index),
                    costs=m.costs, fill=m.fill)


@dataclass(frozen=True)
class BootstrapJob:
    """The inputs of one asset's bootstrap intervals: small, picklable, so they can run in another
    process (``riskoff run`` without tearsheets sends them to a helper process, which imports arch
    while the run is still loading data)."""

    asset: str
    returns: pd.DataFrame            # bar returns, one column per strategy
    bh: pd.Series                    # buy & hold's bar returns on the same bars
    ppy: int
    reps: int
    confidence: float
    rng: np.random.Generator
    cash: pd.Series | None


def bootstrap_jobs(pairs: Sequence[_Pair], settings: SignificanceSettings, baseline: str = "buy_and_hold"
                   ) -> dict[str, BootstrapJob]:
    """One :class:`BootstrapJob` per asset with a strategy besides the baseline (needs only equity)."""
    bh = {p.asset: p.equity for p in pairs if p.strategy == baseline}
    jobs = {}
    for asset in dict.fromkeys(p.asset for p in pairs):
        mine = [p for p in pairs if p.asset == asset and p.strategy != baseline]
        if not mine or asset not in bh:
            continue
        eq = pd.DataFrame({p.strategy: p.equity for p in mine}).dropna()
        rets = eq.pct_change().iloc[1:]
        growth = mine[0].cash_growth
        jobs[asset] = BootstrapJob(asset, rets, bh[asset].reindex(eq.index).pct_change().iloc[1:],
                                   periods_per_year(*clock_parts(mine[0].calendar)), settings.reps,
                                   settings.confidence, pair_rng(settings.bootstrap_seed, f"bootstrap/{asset}"),
                                   None if growth is None else growth.reindex(rets.index).fillna(1.0) - 1.0)
    return jobs


def run_bootstrap(job: BootstrapJob, loading: threading.Thread | None = None) -> pd.DataFrame:
    """The intervals of one asset (``bootstrap.difference_intervals``) with its ``confidence`` column."""
    if loading is not None:
        loading.join()  # arch, imported in the background (_preload)
    out = difference_intervals(job.returns, job.bh, ppy=job.ppy, reps=job.reps, confidence=job.confidence,
                               rng=job.rng, cash_return=job.cash)
    out["confidence"] = job.confidence
    return out


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of ``p``, in its order.

    q_(i) = min over j >= i of m p_(j) / j on the p-values sorted ascending, capped at 1: the
    smallest false discovery rate at which each test would be rejected. The same numbers as
    ``scipy.stats.false_discovery_control(p, method="bh")`` (the test's reference), without importing
    scipy.stats (~0.8 s) into every run for five lines of arithmetic.
    """
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty_like(q)
    out[order] = q
    return out


def _preload(modules: Sequence[str]) -> threading.Thread | None:
    """Import ``modules`` in a background thread and return it (None: all loaded already).

    arch (the bootstraps; it pulls in scipy.stats, matplotlib and statsmodels) takes ~1.5 s of
    imports. Started before the null, it loads while the null's compiled kernels run without the
    GIL. Its users join the thread first, so a module is never imported by two threads at once.
    """
    missing = [m for m in modules if m not in sys.modules]
    if not missing:
        return None
    thread = threading.Thread(target=lambda: [importlib.import_module(m) for m in missing], name="preload",
                              daemon=True)
    thread.start()
    return thread


def assess_run(pairs: Sequence[_Pair], windows: pd.DataFrame, markets: Mapping[str, Market],
               settings: SignificanceSettings, *, baseline: str = "buy_and_hold", workers: int = 2,
               bootstraps: Mapping[str, Future] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The null and the bootstrap for every pair of a run.

    Args:
        pairs: the run's strategy x asset results (``riskoff.run.runner.PairResult``).
        windows: the evaluation's window table (one row per pair x window).
        markets: per asset, the engine inputs the pairs were simulated with.
        settings: ``[null]`` / ``[bootstrap]``; baseline: the buy & hold strategy's name.
        workers: threads.
        bootstraps: the bootstrap results already submitted elsewhere (asset -> future of
            :func:`run_bootstrap` of :func:`bootstrap_jobs`); by default they run in the threads.

    Returns:
        (pair table with ``PAIR_COLUMNS``, ``windows`` with ``WINDOW_COLUMNS`` appended).
    """
    bh = {p.asset: p.equity for p in pairs if p.strategy == baseline}
    missing = sorted({p.asset for p in pairs} - set(bh))
    if missing:
        raise ConfigError(f"significance needs the {baseline} baseline on every asset; missing on {missing}")
    # Results are gathered in plain arrays and become columns once at the end: setting cells of a
    # DataFrame one at a time cost more GIL time than the null's Python part itself.
    cols = {c: np.full(len(pairs), np.nan) for c in PAIR_COLUMNS[2:]}
    cols["null_kind"] = np.full(len(pairs), np.nan, dtype=object)
    wcols = {c: np.full(len(windows), np.nan) for c in WINDOW_COLUMNS}
    wcols["null_kind"] = np.full(len(windows), np.nan, dtype=object)
    groups = {k: windows.index.get_indexer(g.index) for k, g in windows.groupby(["strategy", "asset"], sort=False)}
    none = np.empty(0, dtype=np.int64)
    jobs = bootstrap_jobs(pairs, settings, baseline) if settings.bootstrap and bootstraps is None else {}
    loading = _preload(["arch.bootstrap"] if jobs else [])
    null_pairs = [p for p in pairs if settings.null]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        nulls: dict[str, Future] = {}
        boots: dict[str, Future] = dict(bootstraps or {}) if settings.bootstrap else {}
        # The bootstraps (mostly Python, holding the GIL) are spread among the nulls (mostly compiled
        # code without it), so that one thread's GIL work overlaps another's kernel.
        queue = list(jobs.values())
        every = max(1, len(null_pairs) // max(1, len(queue)))
        for k, p in enumerate(null_pairs):
            if queue and k % every == 0:
                job = queue.pop(0)
                boots[job.asset] = pool.submit(run_bootstrap, job, loading)
            nulls[p.key] = pool.submit(_null_one, p, bh[p.asset], windows.iloc[groups.get((p.strategy, p.asset), none)],
                                       markets[p.asset], settings)
        for job in queue:
            boots[job.asset] = pool.submit(run_bootstrap, job, loading)
        for i, p in enumerate(pairs):
            rows = groups.get((p.strategy, p.asset), none)
            # the windows its mean drawdown avoided (and that mean's p-value) counts: something to avoid
            cols["n_windows"][i] = int(something_to_avoid(windows["bh_max_dd"].to_numpy(dtype=float)[rows]).sum()) \
                if len(rows) else 0
            if p.key in nulls:
                res = nulls[p.key].result()
                cols["null_kind"][i] = res.choice.kind
                cols["null_paths"][i] = res.paths
                cols["null_change_rate"][i] = res.choice.change_rate
                cols["null_free_share"][i] = res.choice.free_share
                for m in PAIR_METRICS:
                    cols[m][i], cols[f"{m}_pct"][i], cols[f"{m}_p"][i] = res.observed[m], res.percentile[m], res.p[m]
                if len(rows):
                    wcols["null_kind"][rows] = res.choice.kind
                    wcols["null_paths"][rows] = res.paths
                    wcols["null_pct_drawdown_avoided"][rows] = res.window_percentile
                    wcols["null_p_drawdown_avoided"][rows] = res.window_p
                    wcols["null_p_dd_avoided_mean"][rows] = res.p["dd_avoided_mean"]
        for a, fut in boots.items():
            b = fut.result()
            for i, p in enumerate(pairs):
                if p.asset == a and p.strategy in b.index:
                    for c in b.columns:
                        cols[c][i] = b.at[p.strategy, c]
    table = pd.DataFrame({"strategy": [p.strategy for p in pairs], "asset": [p.asset for p in pairs], **cols},
                         columns=PAIR_COLUMNS)
    table["null_kind"] = table["null_kind"].astype(object)  # not pandas' string dtype: NaN stays NaN
    win = windows.copy()
    for c in WINDOW_COLUMNS:
        win[c] = pd.Series(wcols[c], index=win.index, dtype=object if c == "null_kind" else float)
    p_dd = table["dd_avoided_mean_p"].to_numpy(dtype=float)
    ok = ~np.isnan(p_dd)
    if ok.any():
        table.loc[ok, "dd_avoided_mean_q"] = bh_qvalues(p_dd[ok])
    return table, win
