"""Engine benchmark: one daily SPY backtest 2015-2026, cold and warm, and 1,000 exposure columns
in one kernel call. Prints JSON.

Cold times are measured in fresh subprocesses: once with an empty numba cache (the first run on a
new machine: the kernel is compiled) and once with the cache populated (every later run).
The strategy is a 200-day trend filter; it is a timing workload, not a result. Falls back to a
synthetic random walk of 4,000 bars when the data snapshot is not there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _timing import best_of  # benchmarks/ is on sys.path when a script runs

START = "2015-01-01"


def load() -> tuple[pd.Series, pd.Series | None, str]:
    """SPY close and the EFFR cash rate (shifted: EFFR for day d is the overnight rate ending d+1)."""
    from riskoff.paths import resolve_data_dir

    data_dir, _ = resolve_data_dir()
    spy, effr = data_dir / "series/prices/SPY.csv", data_dir / "series/fred/EFFR.csv"
    if spy.exists():
        close = pd.read_csv(spy, index_col="date", parse_dates=True)["close"].loc[START:].rename("SPY")
        rate = None
        if effr.exists():
            raw = pd.read_csv(effr, index_col="date", parse_dates=True)["value"]
            rate = raw.reindex(raw.index.union(close.index)).ffill().reindex(close.index).shift(1)
        return close, rate, str(spy)
    rng = np.random.default_rng(0)
    idx = pd.bdate_range(START, periods=4000)
    close = pd.Series(200 * np.exp(np.cumsum(rng.normal(3e-4, 0.012, len(idx)))), idx, name="SYNTH")
    return close, pd.Series(2.0, idx), "synthetic random walk"


def trend(close: pd.Series, window: int, level: float = 1.0) -> pd.Series:
    sma = close.rolling(window).mean()
    return (close > sma).astype(float).where(sma.notna()) * level


def cold() -> dict:
    t0 = time.perf_counter()
    from riskoff.engine import DEFAULT_COSTS, simulate

    t1 = time.perf_counter()
    close, rate, _ = load()
    expo = trend(close, 200)
    t2 = time.perf_counter()
    simulate(close, expo, cash_rate=rate, costs=DEFAULT_COSTS["equity"])
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "first_simulate_s": t3 - t2}


def cold_in_subprocess(cache_dir: str | None) -> dict:
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, __file__, "--cold"], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)




def main() -> None:
    with tempfile.TemporaryDirectory() as empty_cache:
        compiled = cold_in_subprocess(empty_cache)
    cold_in_subprocess(None)  # make sure the project cache is populated
    cached = cold_in_subprocess(None)

    from riskoff.engine import DEFAULT_COSTS, _run_kernel, single_inputs, simulate

    close, rate, source = load()
    costs = DEFAULT_COSTS["equity"]
    expo = trend(close, 200)
    simulate(close, expo, cash_rate=rate, costs=costs)
    warm = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs), 20)
    warm_threshold = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs, rebalance="threshold"), 20)

    windows = np.arange(50, 250)
    levels = (0.2, 0.4, 0.6, 0.8, 1.0)
    sweep = pd.DataFrame({(w, lv): trend(close, int(w), lv) for w in windows for lv in levels})
    sweep.columns = [f"sma{w}_x{lv}" for w, lv in sweep.columns]
    kw = dict(open=None, cash_rate=rate, costs=costs, fill="next_close", rebalance=None, rebalance_band=0.05,
              rebalance_every=0, max_leverage=1.0, init_cash=1.0)
    inp = single_inputs(close, sweep, **kw)
    bounds = np.arange(sweep.shape[1] + 1)
    _run_kernel(inp, bounds)
    kernel_1000 = best_of(lambda: _run_kernel(inp, bounds), 5)
    api_1000 = best_of(lambda: simulate(close, sweep, cash_rate=rate, costs=costs), 3)

    simulate(close, expo, cash_rate=rate, costs=costs, engine="vectorbt")
    vbt_warm = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs, engine="vectorbt"), 3)

    print(json.dumps({
        "data": source,
        "bars": len(close),
        "first_date": str(close.index[0].date()),
        "last_date": str(close.index[-1].date()),
        "cold_empty_numba_cache": {k: round(v, 4) for k, v in compiled.items()},
        "cold_cached": {k: round(v, 4) for k, v in cached.items()},
        "warm_single_simulate_s": round(warm, 6),
        "warm_single_threshold_rebalance_s": round(warm_threshold, 6),
        "columns_1000": {
            "columns": sweep.shape[1],
            "kernel_call_s": round(kernel_1000, 4),
            "simulate_call_s": round(api_1000, 4),
            "column_bars_per_s_kernel": round(sweep.size / kernel_1000),
        },
        "vectorbt_engine_warm_single_s": round(vbt_warm, 4),
    }, indent=2))


if __name__ == "__main__":
    if "--cold" in sys.argv:
        print(json.dumps(cold()))
    else:
        main()
