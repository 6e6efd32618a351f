"""Sweep benchmark: a 10,000-combination grid on daily SPY and BTC-USD 2015-2026, metrics included.
Prints JSON.

Grid: the ``ma_timing`` baseline (invested while close > its N-bar simple moving average) with 100
moving-average lengths (20 .. 515 bars) x 100 trailing-stop widths (0 .. 49.5% below the running
peak): 10,000 combinations x 2 assets = 20,000 backtests with next-bar fills, default costs
(1 + 2 bps SPY, 10 + 5 bps BTC-USD) and money-market cash, each with total return, CAGR, Sharpe,
Sortino, max drawdown, Calmar, time in market, trades and drawdown avoided in every sell-off
window of the catalog (the metrics users rank by).

Checked before timing: every figure of a sample of combinations equals a full vectorbt Portfolio
(see ``check`` below) to 1e-9, or the benchmark exits non-zero without timing anything.

Reported (cold, cold_cached and warm as defined in benchmarks/_timing.py):
    cold, cold_cached   the whole sweep in a fresh process (import, data load, kernels compiled or
               loaded from numba's cache).
    warm       this process, kernels compiled: the whole sweep with every sweep cache dropped (data
               alignment, cash rates, buy & hold, 200 rule evaluations, overlays, simulation,
               metrics, stability, ranking). ``warm_cached_targets`` keeps the raw targets cached
               (overlays + simulation + metrics + assembly only).
    rates      backtests/s and bar-evaluations/s (simulated bars; overlays also stream the history
               before 2015 that warms them up, not counted).
    memory     tracemalloc peak of a warm run, and the process's max RSS.
    100k       a 100 x 100 x 10 grid (x 2 assets = 200,000 backtests) in a fresh process with the
               caches filled (cold_cached): time and max RSS (target < 2 GB).
    check      every figure of a sample of combinations computed again through a full vectorbt
               Portfolio (``riskoff.engine.account.simulate(engine="vectorbt")``) and the equity curves of the
               sample against ``riskoff.engine.account.to_vectorbt(...).value()``: max abs difference (<= 1e-9).
The machine is shared: ``loadavg`` and CPU seconds are printed next to the wall times.
"""
from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _timing import check_checkout, cold_and_cached, emit, fresh_process, require

ASSETS = ["SPY", "BTC-USD"]


def doc(n_windows: int = 100, n_stops: int = 100, n_min_out: int = 1) -> dict:
    grid = {"rule.window": {"start": 20, "stop": 20 + 5 * (n_windows - 1), "step": 5},
            "overlays.trailing_stop": {"start": 0.0, "stop": round(0.005 * (n_stops - 1), 6), "step": 0.005}}
    if n_min_out > 1:
        grid["overlays.min_bars_out"] = {"start": 0, "stop": n_min_out - 1, "step": 1}
    return {"run": {"name": "bench", "assets": ASSETS, "start": "2015-01-01", "end": "auto"},
            "sweep": {"metric": "sharpe", "heatmap": ["rule.window", "overlays.trailing_stop"]},
            "strategy": {"name": "ma", "rule": "ma_timing"},
            "grid": grid}


def plan_for(d: dict):
    from riskoff.sweep import parse_sweep_config, plan_sweep
    return plan_sweep(parse_sweep_config(d, "bench_sweep"))


def one_run(kind: str) -> dict:
    """In a subprocess: a cold run (or the 100k run) with its own max RSS."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    from riskoff.sweep import run_sweep
    d = doc() if kind == "cold" else doc(100, 100, 10)
    res = run_sweep(plan_for(d))
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "backtests": len(res.results),
            "chunk_size": res.chunk_size, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def timed(fn, repeat: int) -> tuple[float, float, object]:
    best_wall, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def verify(plan, n: int = 12, seed: int = 0) -> dict:
    """Fast-path figures vs a full vectorbt Portfolio on a random sample of combinations."""
    from riskoff.engine.account import to_vectorbt
    from riskoff.strategies.exposure import build_exposure
    from riskoff.sweep import asset_context, combo_strategy, run_chunk, sweep_equity

    cfg = plan.config
    sample = np.sort(np.random.default_rng(seed).choice(cfg.n_combos, n, replace=False))
    worst = {"stats": 0.0, "windows": 0.0, "equity": 0.0}
    for asset in cfg.assets:
        fast = run_chunk(plan, asset, sample, kernel="fused")
        vb = run_chunk(plan, asset, sample, kernel="vectorbt")
        both = ~np.isnan(fast.stats) & ~np.isnan(vb.stats)
        assert (np.isnan(fast.stats) == np.isnan(vb.stats)).all()
        worst["stats"] = max(worst["stats"], float(np.max(np.abs(fast.stats[both] - vb.stats[both]))))
        bw = ~np.isnan(fast.windows)
        assert (np.isnan(fast.windows) == np.isnan(vb.windows)).all()
        worst["windows"] = max(worst["windows"], float(np.max(np.abs(fast.windows[bw] - vb.windows[bw]))))
        ctx = asset_context(plan, asset)
        picks = [int(c) for c in sample[:4]]
        expo = pd.DataFrame({c: build_exposure(combo_strategy(cfg, c), asset, start=cfg.start, end=plan.end)
                             .exposure.reindex(ctx.index) for c in picks})
        value = to_vectorbt(ctx.close_s, expo, cash_rate=ctx.cash_rate, costs=ctx.costs).value()
        eq, _, _ = sweep_equity(plan, asset, picks)
        worst["equity"] = max(worst["equity"], float(np.max(np.abs(eq.to_numpy() - value.to_numpy()))))
    ok = all(v <= 1e-9 for v in worst.values())
    return {"sample_per_asset": n, "max_abs_diff": worst, "equal_to_1e-9": ok}


def main() -> None:
    from riskoff.sweep import asset_context, clear_caches, run_sweep

    check_checkout()
    plan = plan_for(doc())
    res = run_sweep(plan)  # compile / load kernels, parse the data files
    check = verify(plan)
    require(check["equal_to_1e-9"], "sweep figures equal a full vectorbt Portfolio to 1e-9", check)
    fresh = cold_and_cached(__file__, ["--cold"])
    n_bt = plan.config.n_combos * len(ASSETS)
    sim_bars = sum(len(asset_context(plan, a).index) for a in ASSETS)

    def fresh_run():
        clear_caches()
        return run_sweep(plan)

    warm, warm_cpu, res = timed(fresh_run, 5)
    cached, cached_cpu, _ = timed(lambda: run_sweep(plan), 5)
    clear_caches()
    tracemalloc.start()
    run_sweep(plan)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    big = fresh_process(__file__, ["--big"], cached=True, numba_dir=None)

    best = res.results.sort_values(["asset", "rank"]).groupby("asset").head(1)
    cold, cold_cached = fresh["cold"], fresh["cold_cached"]
    emit("sweep", {
        "what": f"{plan.config.n_combos:,}-combination sweep (SPY + BTC-USD, {n_bt:,} backtests, metrics and "
                f"{len(plan.config.windows)} window metrics included)",
        "grid": "ma_timing: rule.window 20..515 (100) x overlays.trailing_stop 0..0.495 (100)",
        "assets": ASSETS, "span": f"{plan.config.start:%Y-%m-%d} .. {plan.end:%Y-%m-%d}",
        "combinations": plan.config.n_combos, "backtests": n_bt, "simulated_bars_per_combination": sim_bars,
        "metrics": ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                    "time_in_market", "trades", f"drawdown_avoided x {len(plan.config.windows)} windows"],
        "cold_s": round(cold["wall_s"], 3), "cold_cached_s": round(cold_cached["wall_s"], 3),
        "cold_detail": {k: round(v, 3) for k, v in cold.items()},
        "cold_cached_detail": {k: round(v, 3) for k, v in cold_cached.items()},
        "warm_s": round(warm, 4), "warm_cpu_s": round(warm_cpu, 4),
        "warm_stage_s": {k: round(v, 4) for k, v in res.timings.items()},
        "warm_cached_targets_s": round(cached, 4), "warm_cached_targets_cpu_s": round(cached_cpu, 4),
        "backtests_per_s": round(n_bt / warm), "bar_evaluations_per_s": round(plan.config.n_combos * sim_bars / warm),
        "tracemalloc_peak_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_10k_under_1s_warm": warm < 1.0,
        "run_100k": {"what": f"{big['backtests'] // len(ASSETS):,}-combination sweep ({big['backtests']:,} backtests)",
                     **{k: round(v, 3) for k, v in big.items()}},
        "target_100k_under_2gb": big["max_rss_mb"] < 2048,
        "checks": {"vectorbt": check},
        "best_sharpe": best[["asset", "rule.window", "overlays.trailing_stop", "sharpe", "cagr", "max_drawdown"]]
        .to_dict(orient="records"),
        "numba_threads": __import__("numba").get_num_threads(),
    })


if __name__ == "__main__":
    if "--cold" in sys.argv:
        print(json.dumps(one_run("cold")))
    elif "--big" in sys.argv:
        print(json.dumps(one_run("big")))
    else:
        main()
