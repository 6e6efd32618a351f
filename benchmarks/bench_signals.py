"""Benchmark: compute every discovered signal over 2010-2026 on its own calendar.

Prints JSON: ``cold`` is the first pass in a fresh process (CSV parsing and validation included:
the parquet cache is bypassed unless ``--parquet-cache`` is given), ``warm`` the best of five later
passes in the same process (parsed series memoised; alignment and compute are redone). Each pass
loads the signal's inputs (required + optional) and evaluates it; per-signal load and compute
times are reported. Target: warm total under 1 s. Run: `make bench` or
`python benchmarks/bench_signals.py`.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

if "--parquet-cache" not in sys.argv:
    os.environ["RISKOFF_PARQUET_CACHE"] = "0"  # cold = real CSV parsing
try:
    import riskoff  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskoff.data import sources  # noqa: E402
from riskoff.paths import resolve_data_dir  # noqa: E402
from riskoff.signal import discover, evaluate, load_signal_data  # noqa: E402

START, END = "2010-01-01", None  # to the end of the data


def one_pass(specs) -> dict[str, dict[str, float]]:
    out = {}
    for name, spec in specs.items():
        t0 = time.perf_counter()
        frame = load_signal_data(spec, START, END, stale="allow")
        t1 = time.perf_counter()
        res = evaluate(spec, frame)
        t2 = time.perf_counter()
        out[name] = {"load_s": t1 - t0, "compute_s": t2 - t1, "bars": len(res)}
    return out


def main() -> None:
    data_dir, how = resolve_data_dir()
    sources._memo.clear()
    t0 = time.perf_counter()
    reg = discover()
    discover_s = time.perf_counter() - t0
    specs = dict(sorted(reg.signals.items()))
    t0 = time.perf_counter()
    cold = one_pass(specs)
    cold_total = time.perf_counter() - t0
    warm_runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        res = one_pass(specs)
        warm_runs.append((time.perf_counter() - t0, res))
    warm_total, warm = min(warm_runs, key=lambda r: r[0])
    per_signal = {
        name: {"bars": cold[name]["bars"], "cold_load_s": round(cold[name]["load_s"], 4),
               "cold_compute_s": round(cold[name]["compute_s"], 4), "warm_load_s": round(warm[name]["load_s"], 4),
               "warm_compute_s": round(warm[name]["compute_s"], 4)}
        for name in specs}
    print(json.dumps({
        "benchmark": "all_signals_2010_2026",
        "data_dir": str(data_dir), "data_dir_from": how,
        "parquet_cache": os.environ.get("RISKOFF_PARQUET_CACHE", "1") != "0",
        "signals": len(specs), "plugin_errors": sorted(reg.errors),
        "discover_s": round(discover_s, 4),
        "cold_total_s": round(cold_total, 3),
        "warm_total_s_best_of_5": round(warm_total, 4),
        "warm_compute_only_s": round(sum(v["compute_s"] for v in warm.values()), 4),
        "warm_under_1s": warm_total < 1.0,
        "per_signal": per_signal,
    }, indent=2))


if __name__ == "__main__":
    main()
