"""Engine benchmark: one daily SPY backtest 2015 .. end of data (a 200-day trend filter with default
equity costs and the EFFR cash rate), and 1,000 exposure columns in one kernel call.

Checked before timing: the numba kernel's equity equals a full vectorbt Portfolio
(``simulate(engine="vectorbt")``) to 1e-9 on the single backtest and on 50 of the 1,000 columns;
the benchmark exits non-zero otherwise. cold, cold_cached and warm as defined in
benchmarks/_timing.py. The strategy is a timing workload, not a result. Falls back to a synthetic
random walk of 4,000 bars when the data snapshot is not there.
"""
from __future__ import annotations

import json
import sys
import time

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _timing import best_of, check_checkout, cold_and_cached, emit, require

START = "2015-01-01"
ATOL = 1e-9


def load() -> tuple[pd.Series, pd.Series | None, str]:
    """SPY close and the EFFR cash rate (shifted: EFFR for day d is the overnight rate ending d+1)."""
    from riskoff.util.paths import resolve_data_dir

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


def grid(close: pd.Series) -> pd.DataFrame:
    """1,000 exposure paths: 200 moving-average lengths x 5 exposure levels."""
    cols = {f"sma{w}_x{lv}": trend(close, int(w), lv) for w in range(50, 250) for lv in (0.2, 0.4, 0.6, 0.8, 1.0)}
    return pd.DataFrame(cols)


def child() -> None:
    t0 = time.perf_counter()
    from riskoff.engine.account import DEFAULT_COSTS, simulate
    t1 = time.perf_counter()
    close, rate, _ = load()
    expo = trend(close, 200)
    t2 = time.perf_counter()
    simulate(close, expo, cash_rate=rate, costs=DEFAULT_COSTS["equity"])
    print(json.dumps({"import_s": t1 - t0, "first_simulate_s": time.perf_counter() - t2}))


def max_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    return float(np.max(np.abs(a.to_numpy() - b.to_numpy())))


def main() -> None:
    check_checkout()
    from riskoff.engine.account import DEFAULT_COSTS, simulate

    close, rate, source = load()
    costs = DEFAULT_COSTS["equity"]
    expo = trend(close, 200)
    sweep = grid(close)
    sample = sweep.iloc[:, ::20]
    single_diff = max_diff(simulate(close, expo, cash_rate=rate, costs=costs).equity,
                           simulate(close, expo, cash_rate=rate, costs=costs, engine="vectorbt").equity)
    grid_diff = max_diff(simulate(close, sweep, cash_rate=rate, costs=costs).equity[sample.columns],
                         simulate(close, sample, cash_rate=rate, costs=costs, engine="vectorbt").equity)
    require(single_diff <= ATOL and grid_diff <= ATOL, f"numba equity equals vectorbt's to {ATOL}",
            {"single": single_diff, "grid_sample": grid_diff})

    fresh = cold_and_cached(__file__, ["--child"])
    warm = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs), 20)
    warm_threshold = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs, rebalance="threshold"), 20)
    warm_1000 = best_of(lambda: simulate(close, sweep, cash_rate=rate, costs=costs), 5)
    vbt_warm = best_of(lambda: simulate(close, expo, cash_rate=rate, costs=costs, engine="vectorbt"), 3)
    emit("engine", {
        "what": f"one backtest, SPY {close.index[0]:%Y-%m-%d} .. {close.index[-1]:%Y-%m-%d} daily "
                "(200-day trend, 1 + 2 bps, EFFR cash)",
        "data": source, "bars": len(close),
        "cold_s": round(fresh["cold"]["first_simulate_s"], 4), "cold_import_s": round(fresh["cold"]["import_s"], 4),
        "cold_cached_s": round(fresh["cold_cached"]["first_simulate_s"], 4),
        "warm_s": round(warm, 6), "warm_threshold_rebalance_s": round(warm_threshold, 6),
        "columns_1000": {"columns": sweep.shape[1], "warm_simulate_call_s": round(warm_1000, 4),
                         "column_bars_per_s": round(sweep.size / warm_1000)},
        "vectorbt_engine_warm_s": round(vbt_warm, 4),
        "checks": {"max_abs_equity_diff_vs_vectorbt": {"single": single_diff, "grid_sample_50": grid_diff},
                   "tolerance": ATOL}})


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
