"""Benchmark: skill or luck for the default run (backtests/selloffs.toml), warm.

Times ``riskoff.significance.run.assess_run`` on the default run's pairs (50 strategy x asset
pairs): the matched random-timing null (1,000 paths per pair, simulated through the engine) and
the stationary bootstraps (1,000 resamples), with the config's worker threads; ``warm_cpu_s`` is
the CPU time of one warm call over all threads (wall time on a shared machine depends on its load). The run itself is
simulated once beforehand with both switched off; the first call compiles/loads the numba
kernels and is reported apart (cold). Budget: <= 3 s warm. Prints JSON.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import best_of  # noqa: E402

from riskoff.config import load_config  # noqa: E402
from riskoff.runner import BASELINE, simulate_config  # noqa: E402
from riskoff.significance.run import assess_run  # noqa: E402
from riskoff.significance.settings import SignificanceSettings  # noqa: E402


def main() -> None:
    cfg = load_config(ROOT / "backtests" / "selloffs.toml")
    settings = cfg.significance
    quiet = dataclasses.replace(cfg, significance=SignificanceSettings(null=False, bootstrap=False))
    result = simulate_config(quiet)
    pairs = result.pairs

    def job(s: SignificanceSettings):
        return lambda: assess_run(pairs, result.windows, result.markets, s, baseline=BASELINE, workers=cfg.workers)

    t0 = time.perf_counter()
    job(settings)()
    cold = time.perf_counter() - t0
    c0 = time.process_time()  # CPU seconds of all threads: less sensitive to other work on the machine
    job(settings)()
    cpu = time.process_time() - c0
    null_only = dataclasses.replace(settings, bootstrap=False)
    boot_only = dataclasses.replace(settings, null=False)
    risky = sum(p.strategy != BASELINE for p in pairs)
    bars = sum(len(p.equity) for p in pairs if p.strategy != BASELINE)
    print(json.dumps({
        "benchmark": "null_and_bootstrap_selloffs", "cpus": os.cpu_count(), "workers": cfg.workers,
        "pairs": len(pairs), "pairs_tested": risky, "paths_per_pair": settings.paths,
        "bootstrap_reps": settings.reps, "column_bars_simulated": bars * settings.paths,
        "first_call_s": round(cold, 2),
        "warm_s": round(best_of(job(settings), 3), 2),
        "warm_cpu_s": round(cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "warm_null_only_s": round(best_of(job(null_only), 3), 2),
        "warm_bootstrap_only_s": round(best_of(job(boot_only), 2), 2),
        "budget_s": 3.0,
    }, indent=2))


if __name__ == "__main__":
    main()
