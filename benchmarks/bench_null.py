"""Benchmark: skill or luck for the default run (backtests/selloffs.toml), warm.

Times ``riskoff.significance.run.assess_run`` on the default run's pairs (50 strategy x asset
pairs, 46 tested): the matched random-timing null (1,000 paths per pair, simulated through the
engine) and the stationary bootstraps (1,000 resamples), with the config's worker threads. The run
itself is simulated once beforehand with both switched off. ``warm_cpu_s`` is the CPU time of one
warm call over all threads (the wall time on a shared machine depends on its load). Budget: <= 3 s
warm. Checks first: the null's observed mean drawdown avoided equals the evaluation's per pair.
Prints JSON and writes benchmarks/results/null.json.
"""
from __future__ import annotations

import dataclasses
import time

from _timing import ROOT, best_of, check_checkout, emit, require

from riskoff.run.config import load_config
from riskoff.run.runner import BASELINE, simulate_config
from riskoff.significance.run import assess_run
from riskoff.significance.settings import SignificanceSettings


def main() -> None:
    check_checkout()
    cfg = load_config(ROOT / "backtests" / "selloffs.toml")
    settings = cfg.significance
    quiet = dataclasses.replace(cfg, significance=SignificanceSettings(null=False, bootstrap=False))
    result = simulate_config(quiet)
    pairs = result.pairs

    def job(s: SignificanceSettings):
        return lambda: assess_run(pairs, result.windows, result.markets, s, baseline=BASELINE, workers=cfg.workers)

    table, _ = job(settings)()  # first call: kernels loaded/compiled
    mean = result.windows.groupby(["strategy", "asset"])["drawdown_avoided"].mean()
    diff = max(abs(r.dd_avoided_mean - mean[(r.strategy, r.asset)]) for r in table.itertuples())
    require(diff < 1e-10, "the null's observed mean drawdown avoided equals the evaluation's", diff)
    c0 = time.process_time()
    job(settings)()
    cpu = time.process_time() - c0
    tested = sum(p.strategy != BASELINE for p in pairs)
    emit("null", {
        "what": (f"Skill or luck for the default run: {tested} pairs x {settings.paths:,} random-timing paths "
                 f"+ bootstraps ({settings.reps:,} resamples)"),
        "pairs": len(pairs), "pairs_tested": tested, "paths_per_pair": settings.paths,
        "bootstrap_reps": settings.reps, "workers": cfg.workers,
        "column_bars_simulated": sum(len(p.equity) for p in pairs if p.strategy != BASELINE) * settings.paths,
        "warm_s": round(best_of(job(settings), 2), 2),
        "warm_cpu_s": round(cpu, 2),
        "warm_null_only_s": round(best_of(job(dataclasses.replace(settings, bootstrap=False)), 2), 2),
        "warm_bootstrap_only_s": round(best_of(job(dataclasses.replace(settings, null=False)), 2), 2),
        "budget_s": 3.0,
        "checks": [f"observed mean drawdown avoided = evaluation's, max diff {diff:.1e}"],
    }, terms=("warm",))


if __name__ == "__main__":
    main()
