"""Benchmark: the sweep's skill-or-luck statistics on backtests/sweep_ma.toml, warm.

Runs the sweep once (its kernel accumulates every cell's per-block sums of excess returns as it
goes), then times ``riskoff.significance.sweep.sweep_overfitting``: number of trials, DSR of the
selected cell, SPA on the top 50 cells with 1,000 bootstrap resamples (the top cells re-simulated
through the sweep kernel), and PBO by CSCV over every cell (16 blocks, 12,870 splits) from the
accumulated block sums, per asset. Budget of the issue: PBO + DSR + SPA <= 30 s warm. Prints JSON.
"""
from __future__ import annotations

import json
import time

import numpy as np
from _timing import ROOT, best_of, check_checkout, emit, require

from riskoff.significance.overfitting import block_stats
from riskoff.significance.sweep import sweep_block_stats, sweep_overfitting
from riskoff.sweep import (
    asset_context,
    load_sweep_config,
    plan_sweep,
    run_sweep,
    sweep_equity,
)


def main() -> None:
    check_checkout()
    cfg = load_sweep_config(ROOT / "backtests" / "sweep_ma.toml")
    t0 = time.perf_counter()
    result = run_sweep(plan_sweep(cfg))
    sweep_s = time.perf_counter() - t0
    # check first: the block sums the kernel accumulated equal numpy's of re-simulated excess returns
    worst = 0.0
    for asset in cfg.assets:
        cells = [int(c) for c in result.results.loc[result.results["asset"] == asset, "combo"].head(20)]
        got = sweep_block_stats(result, asset, cells)
        eq, _, _ = sweep_equity(result.plan, asset, cells)
        excess = eq.pct_change().iloc[1:].to_numpy() - (asset_context(result.plan, asset).growth[1:] - 1.0)[:, None]
        ref = block_stats(excess, len(got.count))
        worst = max(worst, float(np.max(np.abs(got.sums - ref.sums))), float(np.max(np.abs(got.sumsq - ref.sumsq))))
    require(worst < 1e-12, "kernel block sums = numpy block sums of re-simulated returns (20 cells per asset)", worst)
    first = sweep_overfitting(result)
    emit("sweep_overfitting", {
        "what": (f"Skill or luck for a sweep: trials, DSR, SPA (top 50 cells, 1,000 resamples) and PBO (CSCV, 16 "
                 f"blocks, every cell) on backtests/sweep_ma.toml ({cfg.n_combos:,} combinations x "
                 f"{len(cfg.assets)} assets)"),
        "combinations": cfg.n_combos, "assets": list(cfg.assets), "sweep_s": round(sweep_s, 2),
        "warm_s": round(best_of(lambda: sweep_overfitting(result), 2), 2), "budget_s": 30.0,
        "result": json.loads(first.to_json(orient="records")),
        "checks": [f"kernel block sums = numpy block sums of re-simulated excess returns, max diff {worst:.1e}"]},
        terms=("warm",))

if __name__ == "__main__":
    main()
