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

from _timing import ROOT, best_of, check_checkout, emit

from riskoff.significance.sweep import sweep_overfitting
from riskoff.sweep import load_sweep_config, plan_sweep, run_sweep


def main() -> None:
    check_checkout()
    cfg = load_sweep_config(ROOT / "backtests" / "sweep_ma.toml")
    t0 = time.perf_counter()
    result = run_sweep(plan_sweep(cfg))
    sweep_s = time.perf_counter() - t0
    first = sweep_overfitting(result)
    emit("sweep_overfitting", {
        "what": (f"Skill or luck for a sweep: trials, DSR, SPA (top 50 cells, 1,000 resamples) and PBO (CSCV, 16 "
                 f"blocks, every cell) on backtests/sweep_ma.toml ({cfg.n_combos:,} combinations x "
                 f"{len(cfg.assets)} assets)"),
        "combinations": cfg.n_combos, "assets": list(cfg.assets), "sweep_s": round(sweep_s, 2),
        "warm_s": round(best_of(lambda: sweep_overfitting(result), 2), 2), "budget_s": 30.0,
        "result": json.loads(first.to_json(orient="records"))}, terms=("warm",))

if __name__ == "__main__":
    main()
