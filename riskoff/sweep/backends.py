"""Running a sweep: chunks on the local backend (this process) or dask, merged into one result."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.engine.metrics import FULL_METRICS, WINDOW_METRICS
from riskoff.sweep.chunks import (
    ChunkResult,
    chunk_size_for,
    chunk_task,
    execute_chunk,
    prepare_chunk,
    run_chunk,
)
from riskoff.sweep.config import (
    ARRAYS_PER_COLUMN,
    BACKENDS,
    BASELINE_RULE,
    SWEEP_BARS_PER_S,
    GridDim,
    SweepConfig,
)
from riskoff.sweep.grid import combo_indices, combo_params
from riskoff.sweep.plan import SweepPlan, asset_context, plan_sweep
from riskoff.sweep.selection import rank_results, walk_forward
from riskoff.util.config_helpers import jsonable
from riskoff.util.errors import ConfigError
from riskoff.util.limits import check_memory


# =============================================================================================
# Running a sweep
# =============================================================================================
@dataclass
class SweepResult:
    plan: SweepPlan
    results: pd.DataFrame
    baseline: pd.DataFrame
    skipped: pd.DataFrame
    walkforward: pd.DataFrame | None
    timings: dict[str, float]
    chunk_size: int
    backend: str
    workers: tuple[str, ...] = ()   # host:pid of the processes that ran chunks
    #: per asset, (combination numbers, (n, 2, S) per-block sums and sums of squares of each
    #: combination's excess bar returns): what the PBO needs, accumulated by the kernel
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def config(self) -> SweepConfig:
        return self.plan.config


def _bars(plan: SweepPlan, asset: str) -> int:
    from riskoff.data.align import load
    from riskoff.strategies.exposure import asset_calendar
    data = plan.data
    return len(load([asset], None, plan.end, calendar=asset_calendar(asset, data.catalog), data_dir=data.data_dir,
                    catalog=data.catalog, stale="allow"))


def _tasks(plan: SweepPlan, chunk: int) -> list[tuple[str, int, int]]:
    n = plan.config.n_combos
    return [(a, lo, min(lo + chunk, n)) for a in plan.config.assets for lo in range(0, n, chunk)]


def run_sweep(cfg: SweepConfig | SweepPlan, *, data_dir: str | Path | None = None, backend: str = "local",
              scheduler: str | Any | None = None, n_workers: int = 2, chunk_size: int | None = None,
              combos: Sequence[int] | None = None, progress: Callable[[str], None] | None = None,
              show_bar: bool = False) -> SweepResult:
    """Run every combination of the grid on every asset; nothing is written (see ``write_sweep``).

    Args:
        cfg: a SweepConfig (the span is resolved here) or a ready SweepPlan.
        backend: "local" (this process) or "dask" (``scheduler``: an address, a
            ``distributed.Client``, or None for a LocalCluster of ``n_workers`` processes).
        chunk_size: columns per chunk (default: the config's, else from its memory budget).
        combos: run only these combination numbers (default: all).
    """
    say = progress or (lambda _m: None)
    t_all = time.perf_counter()
    plan = cfg if isinstance(cfg, SweepPlan) else plan_sweep(cfg, data_dir=data_dir)
    cfg = plan.config
    if backend not in BACKENDS:
        raise ConfigError(f"backend = {backend!r}; expected one of {', '.join(BACKENDS)}")
    bars = max(_bars(plan, a) for a in cfg.assets)
    chunk = chunk_size or cfg.chunk_size or chunk_size_for(bars, cfg.kernel, cfg.memory_mb)
    held = min(chunk, cfg.n_combos)  # a chunk never holds more columns than there are combinations
    check_memory(f"{cfg.source}: a sweep chunk ({held:,} combinations x {bars:,} bars, {cfg.kernel} kernel)",
                 held * bars * 8 * ARRAYS_PER_COLUMN[cfg.kernel], held * bars / SWEEP_BARS_PER_S, cfg.memory_mb,
                 "sweep.memory_mb (or --memory-mb)")
    say(f"sweep {cfg.name}: {cfg.n_combos:,} combinations x {len(cfg.assets)} asset(s), "
        f"{cfg.start:%Y-%m-%d} .. {plan.end:%Y-%m-%d}; chunks of {chunk:,} ({cfg.kernel} kernel, {backend})")
    if combos is None:
        tasks = _tasks(plan, chunk)
    else:
        sel = np.unique(np.asarray(combos, dtype=np.int64))
        if len(sel) and (sel[0] < 0 or sel[-1] >= cfg.n_combos):
            raise ConfigError(f"combination numbers must be in 0 .. {cfg.n_combos - 1}")
        tasks = [(a, sel[i:i + chunk]) for a in cfg.assets for i in range(0, len(sel), chunk)]
    parts: list[ChunkResult] = []
    if backend == "local":
        parts = _run_local(plan, tasks, show_bar)
    else:
        parts = _run_dask(plan, tasks, scheduler, n_workers, say)
    t_merge = time.perf_counter()
    result = _assemble(plan, parts, chunk, backend)
    result.timings["merge_s"] = time.perf_counter() - t_merge
    result.timings["total_s"] = time.perf_counter() - t_all
    return result


def _run_local(plan: SweepPlan, tasks: list, show_bar: bool) -> list[ChunkResult]:
    """Chunks in this process, pipelined: the next chunk's signals and rules (Python) are computed
    while the numba kernel (which releases the GIL) runs the current one."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    parts: list[ChunkResult] = []
    bar = tqdm(total=len(tasks), desc="chunks", unit="chunk", disable=not show_bar, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-kernel") as pool:
        running = None
        for task in tasks:
            combos = range(task[1], task[2]) if len(task) == 3 else task[1]
            prep = prepare_chunk(plan, task[0], combos, None)
            if running is not None:
                parts.append(running.result())
                bar.update(1)
            running = pool.submit(execute_chunk, prep)
        if running is not None:
            parts.append(running.result())
            bar.update(1)
    bar.close()
    return parts


def _run_dask(plan: SweepPlan, tasks: list, scheduler, n_workers: int, say) -> list[ChunkResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("--backend dask needs dask.distributed: pip install 'riskoff[dist]'") from None
    cluster = None
    own_client = True
    if scheduler is not None and not isinstance(scheduler, str):
        client, own_client = scheduler, False
    elif scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        [plan_f] = client.scatter([plan], broadcast=True)
        futs = []
        for t in tasks:
            if len(t) == 3:
                futs.append(client.submit(chunk_task, plan_f, t[0], int(t[1]), int(t[2]), pure=False))
            else:
                futs.append(client.submit(run_chunk, plan_f, t[0], np.asarray(t[1]), pure=False))
        say(f"dask: {len(futs)} chunk(s) sent to {client.scheduler_info().get('address', scheduler)}")
        out = [r for _, r in as_completed(futs, with_results=True)]
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
    return out


def _param_column(d: GridDim, idx: np.ndarray) -> Any:
    vals = d.values
    if all(isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=bool)[idx]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=np.int64)[idx]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=np.float64)[idx]
    text = np.array([v if isinstance(v, str) else json.dumps(jsonable(v)) for v in vals], dtype=object)
    return text[idx]


def _assemble(plan: SweepPlan, parts: list[ChunkResult], chunk: int, backend: str) -> SweepResult:
    cfg = plan.config
    seg_names = [s[0] for s in plan.segments]
    wids = list(cfg.windows)
    frames, skipped = [], []
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    timings = {"signals_s": 0.0, "rules_s": 0.0, "kernel_s": 0.0}
    for asset in cfg.assets:
        ps = sorted((p for p in parts if p.asset == asset), key=lambda p: int(p.combos[0]) if len(p.combos) else -1)
        if not ps:
            continue
        combos = np.concatenate([p.combos for p in ps])
        stats = np.concatenate([p.stats for p in ps])
        wins = np.concatenate([p.windows for p in ps])
        blk = np.concatenate([p.blocks for p in ps])
        valid = np.concatenate([p.valid for p in ps])
        for p in ps:
            for k in timings:
                timings[k] += p.timings.get(k, 0.0)
            for c, why in p.reasons.items():
                params = {k: jsonable(v) for k, v in combo_params(cfg, c).items()}
                skipped.append({"asset": asset, "combo": c, **params, "reason": why})
        order = np.argsort(combos, kind="stable")
        combos, stats, wins, blk, valid = combos[order], stats[order], wins[order], blk[order], valid[order]
        combos, stats, wins, blk = combos[valid], stats[valid], wins[valid], blk[valid]
        blocks[asset] = (combos, blk)
        idx = combo_indices(cfg, combos)
        cols: dict[str, Any] = {"combo": combos, "asset": np.full(len(combos), asset, dtype=object)}
        for k, d in enumerate(cfg.dims):
            cols[d.key] = _param_column(d, idx[:, k])
        for m, name in enumerate(FULL_METRICS):
            cols[name] = stats[:, 0, m]
        dd = wins[:, :, 2]
        covered = (~np.isnan(dd)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["dd_avoided_mean"] = np.where(covered > 0, np.nansum(dd, axis=1) / np.maximum(covered, 1), np.nan)
        cols["windows_covered"] = covered
        for k, wid in enumerate(wids):
            for m, name in enumerate(WINDOW_METRICS):
                cols[f"w.{wid}.{name}"] = wins[:, k, m]
        for s, seg in enumerate(seg_names[1:], start=1):
            for m, name in enumerate(FULL_METRICS):
                cols[f"p.{seg}.{name}"] = stats[:, s, m]
        frames.append(pd.DataFrame(cols))
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(results) == 0:
        first = skipped[0]["reason"] if skipped else "no combination ran"
        raise ConfigError(f"{cfg.source}: every combination was rejected; first reason: {first}")
    baseline = _baseline_table(plan)
    results = rank_results(cfg, results)
    wf = walk_forward(results, plan, baseline) if plan.folds else None
    skipped_df = pd.DataFrame(skipped)
    return SweepResult(plan=plan, results=results, baseline=baseline, skipped=skipped_df, walkforward=wf,
                       timings=timings, chunk_size=chunk, backend=backend,
                       workers=tuple(sorted({p.worker for p in parts})), blocks=blocks)


def _baseline_table(plan: SweepPlan) -> pd.DataFrame:
    cfg = plan.config
    rows = []
    for asset in cfg.assets:
        ctx = asset_context(plan, asset)
        row: dict[str, Any] = {"asset": asset, "strategy": BASELINE_RULE}
        for m, name in enumerate(FULL_METRICS):
            row[name] = ctx.bh_stats[0, m]
        for k, wid in enumerate(cfg.windows):
            row[f"w.{wid}.bh_return"] = ctx.bh_win[k, 0]
            row[f"w.{wid}.bh_max_dd"] = ctx.bh_win[k, 1]
        for s, (seg, _, _) in enumerate(plan.segments[1:], start=1):
            for m, name in enumerate(FULL_METRICS):
                row[f"p.{seg}.{name}"] = ctx.bh_stats[s, m]
        rows.append(row)
    return pd.DataFrame(rows)


