"""Chunks: a range of combinations of one asset run through the kernels."""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskoff.engine.metrics import FULL_METRICS, WINDOW_METRICS
from riskoff.sweep.config import ARRAYS_PER_COLUMN
from riskoff.sweep.kernels import compiled
from riskoff.sweep.plan import AssetContext, SweepPlan, asset_context, raw_target


# =============================================================================================
# Chunks
# =============================================================================================
@dataclass
class ChunkResult:
    asset: str
    combos: np.ndarray       # (n,) int64
    stats: np.ndarray        # (n, segments, len(FULL_METRICS))
    windows: np.ndarray      # (n, windows, len(WINDOW_METRICS))
    blocks: np.ndarray       # (n, 2, CSCV_BLOCKS): per-block sum and sum of squares of excess returns
    valid: np.ndarray        # (n,) bool
    reasons: dict[int, str]  # combo -> why it was skipped
    timings: dict[str, float]
    equity: np.ndarray | None = None    # (n, bars) when asked for
    weight: np.ndarray | None = None
    worker: str = field(default_factory=lambda: f"{platform.node()}:{os.getpid()}")


def chunk_size_for(bars: int, kernel: str, memory_mb: float) -> int:
    """Columns per chunk from the memory budget: budget / (bars x 8 bytes x arrays per column)."""
    return max(1, int(memory_mb * 2**20 // (max(bars, 1) * 8 * ARRAYS_PER_COLUMN[kernel])))


@dataclass
class PreparedChunk:
    """A chunk after its Python part (raw targets, overlay parameters), ready for the kernel."""

    ctx: AssetContext
    asset: str
    combos: np.ndarray
    valid: np.ndarray
    reasons: dict[int, str]
    timings: dict[str, float]
    kernel: str
    sel: np.ndarray
    raw: np.ndarray | None = None
    minpos: np.ndarray | None = None
    ridx: np.ndarray | None = None
    args: tuple = ()
    prevmax: np.ndarray | None = None
    pmidx: np.ndarray | None = None


def prepare_chunk(plan: SweepPlan, asset: str, combos, kernel: str | None) -> PreparedChunk:
    """The Python part of a chunk: signals and rules (cached), overlay parameters (holds the GIL)."""
    if isinstance(combos, slice):
        combos = range(combos.start or 0, combos.stop, combos.step or 1)
    combos = np.asarray(combos, dtype=np.int64)
    ctx = asset_context(plan, asset)
    t = ctx.tables
    before = {k: ctx.timings[k] for k in ("signals_s", "rules_s")}
    rids = combos // t.n_ov
    ovs = combos % t.n_ov
    reasons: dict[int, str] = {}
    ov_bad = np.array([e is not None for e in t.ov_errors], dtype=bool)[ovs]
    uniq, inv = np.unique(rids, return_inverse=True)
    inv = inv.reshape(-1)
    row_of = np.full(len(uniq), -1, dtype=np.int64)
    mats: list[np.ndarray] = []
    for u, rid in enumerate(uniq):
        if np.all(ov_bad[inv == u]):
            continue  # every combination of this raw target is rejected by its overlays
        arr = raw_target(plan, ctx, int(rid))
        if arr is not None:
            row_of[u] = len(mats)
            mats.append(arr)
    ridx = row_of[inv]
    valid = (ridx >= 0) & ~ov_bad
    for k in np.flatnonzero(~valid):
        c = int(combos[k])
        reasons[c] = t.ov_errors[ovs[k]] if ov_bad[k] else ctx.raw_errors.get(int(rids[k]), "rejected")
    timings = {k: ctx.timings[k] - v for k, v in before.items()}
    prep = PreparedChunk(ctx=ctx, asset=asset, combos=combos, valid=valid, reasons=reasons, timings=timings,
                     kernel=kernel or plan.config.kernel, sel=np.flatnonzero(valid))
    if len(prep.sel):
        raw = np.stack(mats)
        with np.errstate(invalid="ignore"):
            prep.minpos = np.min(np.where(raw > 0.0, raw, np.inf), axis=1)
        settings = np.rec.array(np.ascontiguousarray(t.ov[ovs[prep.sel]]))
        prep.args = (settings,)
        prep.prevmax, prep.pmidx = _prevmax(ctx, settings["stop_reentry_bars"], settings["trailing_stop"])
        prep.raw, prep.ridx = raw, ridx[prep.sel]
    return prep


def execute_chunk(prep: PreparedChunk, keep_equity: bool = False) -> ChunkResult:
    """The numba part of a chunk: overlays, simulation and metrics (releases the GIL)."""
    ctx, sel, n = prep.ctx, prep.sel, len(prep.combos)
    nseg, nwin = len(ctx.segs), len(ctx.wins)
    stats = np.full((n, nseg, len(FULL_METRICS)), np.nan)
    wout = np.full((n, nwin, len(WINDOW_METRICS)), np.nan)
    nblk = len(ctx.edges) - 1
    bout = np.full((n, 2, nblk), np.nan)
    eq_keep = np.full((n, len(ctx.index)), np.nan) if keep_equity else None
    w_keep = np.full((n, len(ctx.index)), np.nan) if keep_equity else None
    t0 = time.perf_counter()
    if len(sel):
        st = np.empty((len(sel), nseg, len(FULL_METRICS)))
        wo = np.empty((len(sel), nwin, len(WINDOW_METRICS)))
        bo = np.empty((len(sel), 2, nblk))
        if prep.kernel == "fused":
            store = np.arange(len(sel), dtype=np.int64) if keep_equity else np.full(len(sel), -1, np.int64)
            eqs = np.empty((len(sel) if keep_equity else 0, len(ctx.index)))
            wss = np.empty_like(eqs)
            compiled().fused(prep.raw, prep.minpos, prep.ridx, ctx.close_full_v, prep.prevmax, prep.pmidx, ctx.first,
                     *prep.args, ctx.pos, ctx.close_v, ctx.price_v, ctx.growth, ctx.fee, ctx.slip, ctx.floor_frac,
                     1.0, float(ctx.ppy), ctx.segs, ctx.wins, ctx.bh_wdd, ctx.edges, st, wo, bo, store, eqs, wss)
        else:
            eqs, wss, fls = _engine_chunk(ctx, prep.raw, prep.minpos, prep.ridx, prep.prevmax, prep.pmidx,
                                          prep.args, prep.kernel)
            compiled().metrics_batch(eqs, np.nan_to_num(wss * eqs), fls, ctx.growth, float(ctx.ppy), ctx.segs,
                                     ctx.wins, ctx.bh_wdd, ctx.edges, st, wo, bo)
        if keep_equity:
            eq_keep[sel], w_keep[sel] = eqs, wss
        stats[sel], wout[sel], bout[sel] = st, wo, bo
    timings = {**prep.timings, "kernel_s": time.perf_counter() - t0}
    return ChunkResult(asset=prep.asset, combos=prep.combos, stats=stats, windows=wout, blocks=bout, valid=prep.valid,
                       reasons=prep.reasons, timings=timings, equity=eq_keep, weight=w_keep)


def run_chunk(plan: SweepPlan, asset: str, combos: np.ndarray | range | slice, *, kernel: str | None = None,
              keep_equity: bool = False) -> ChunkResult:
    """Simulate and measure a set of combinations on one asset (the unit of work of every backend)."""
    return execute_chunk(prepare_chunk(plan, asset, combos, kernel), keep_equity)


def _prevmax(ctx: AssetContext, reentry: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct stop_reentry_bars N of the chunk (trailing stops only): the highest close of the
    N - 1 bars before each bar (-inf when none); and the row of each combination."""
    from riskoff.strategies.overlays import prev_max

    keys = np.where(stop > 0.0, reentry, 0)
    uniq, inv = np.unique(keys, return_inverse=True)
    rows = []
    for n in uniq:
        if n <= 1:
            rows.append(np.full(len(ctx.close_full_v), -np.inf))
            continue
        m = ctx.cache_prevmax.get(int(n))
        if m is None:
            m = prev_max(ctx.close_full_v, int(n))
            ctx.cache_prevmax[int(n)] = m
        rows.append(m)
    return np.stack(rows), inv.astype(np.int64).reshape(-1)


def _engine_chunk(ctx: AssetContext, raw: np.ndarray, minpos: np.ndarray, ridx: np.ndarray, prevmax: np.ndarray,
                  pmidx: np.ndarray, args: tuple, kernel: str):
    """Exposure matrix of the chunk -> one riskoff.engine.account.simulate call (numba or vectorbt)."""
    from riskoff.engine.account import simulate

    n = len(ridx)
    full = np.zeros((n, raw.shape[1]))
    compiled().overlay_batch(raw, minpos, ridx, ctx.close_full_v, prevmax, pmidx, ctx.first, *args, full)
    pos = ctx.pos
    expo = np.where(pos[None, :] >= 0, full[:, np.maximum(pos, 0)], np.nan)
    del full
    frame = pd.DataFrame(expo.T, index=ctx.index, columns=pd.RangeIndex(n))
    sim = simulate(ctx.close_s, frame, open=ctx.open_s, cash_rate=ctx.cash_rate, costs=ctx.costs,
                   fill="next_open" if ctx.open_s is not None else "next_close",
                   max_leverage=max(1.0, float(np.max(args[0]["max_leverage"]))), engine="numba" if kernel == "numba" else "vectorbt")
    eq = np.ascontiguousarray(sim.equity.to_numpy(dtype=float).T)
    w = np.ascontiguousarray(sim.exposure.to_numpy(dtype=float).T)
    fl = np.zeros_like(eq, dtype=np.int64)
    if len(sim.orders):
        ti = ctx.index.get_indexer(pd.DatetimeIndex(sim.orders["date"]))
        ci = sim.orders["column"].to_numpy(dtype=np.int64)
        fl[ci, ti] = 1
    return eq, w, fl


def chunk_task(plan: SweepPlan, asset: str, lo: int, hi: int) -> ChunkResult:
    """dask entry point: one chunk on a worker (numba threads limited to the worker's threads)."""
    try:
        from distributed import get_worker
        nthreads = get_worker().state.nthreads
        import numba
        numba.set_num_threads(max(1, min(nthreads, numba.config.NUMBA_NUM_THREADS)))
    except (ImportError, ValueError, AttributeError):
        pass
    return run_chunk(plan, asset, range(lo, hi))


# =============================================================================================
# Equity of chosen combinations (tests, benchmarks, cross-checks)
# =============================================================================================
def sweep_equity(plan: SweepPlan, asset: str, combos: Sequence[int], *, kernel: str = "fused"
                 ) -> tuple[pd.DataFrame, pd.DataFrame, ChunkResult]:
    """Equity and actual exposure of some combinations as frames (columns = combination numbers)."""
    res = run_chunk(plan, asset, np.asarray(combos, dtype=np.int64), kernel=kernel, keep_equity=True)
    idx = asset_context(plan, asset).index
    eq = pd.DataFrame(res.equity.T, index=idx, columns=list(map(int, res.combos)))
    w = pd.DataFrame(res.weight.T, index=idx, columns=list(map(int, res.combos)))
    return eq, w, res


