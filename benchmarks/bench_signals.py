"""Benchmark: compute every discovered signal over 2010 .. the end of the data on its own calendar.

Each pass loads every signal's inputs (required + optional) and evaluates it; per-signal load and
compute times are reported. Checked before timing: the outputs of the cold process (CSV parsing),
the cold_cached process (parquet cache) and this process are identical (one checksum), and
vix_mean_reversion carries VIX's 82.69 close on 2020-03-16 (data README anchor). cold, cold_cached
and warm as defined in benchmarks/_timing.py. Target: warm total under 1 s. Run: `make bench` or
`python benchmarks/bench_signals.py`.
"""
from __future__ import annotations

import json
import sys
import time

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
from _timing import check_checkout, cold_and_cached, emit, require

START, END = "2010-01-01", None  # to the end of the data


def one_pass(specs) -> tuple[dict[str, dict[str, float]], dict]:
    from riskoff.signals.evaluate import evaluate, load_signal_data

    times, outputs = {}, {}
    for name, spec in specs.items():
        t0 = time.perf_counter()
        frame = load_signal_data(spec, START, END, stale="allow")
        t1 = time.perf_counter()
        outputs[name] = evaluate(spec, frame)
        times[name] = {"load_s": t1 - t0, "compute_s": time.perf_counter() - t1, "bars": len(outputs[name])}
    return times, outputs


def checksum(outputs: dict) -> str:
    import pandas as pd
    return str(sum(int(pd.util.hash_pandas_object(o, index=True).sum()) for o in outputs.values()) & (2**64 - 1))


def specs_and_errors():
    from riskoff.signals.contract import discover
    reg = discover()
    return dict(sorted(reg.signals.items())), sorted(reg.errors)


def child() -> None:
    t0 = time.perf_counter()
    specs, _ = specs_and_errors()
    t1 = time.perf_counter()
    times, outputs = one_pass(specs)
    print(json.dumps({"import_discover_s": t1 - t0, "first_pass_s": time.perf_counter() - t1,
                      "per_signal": times, "checksum": checksum(outputs)}))


def main() -> None:
    check_checkout()
    fresh = cold_and_cached(__file__, ["--child"])
    specs, errors = specs_and_errors()
    _, outputs = one_pass(specs)
    vix = float(outputs["vix_mean_reversion"].loc["2020-03-16", "vix"])
    require(vix == 82.69, "vix_mean_reversion reads VIX 82.69 on 2020-03-16", vix)
    require(fresh["cold"]["checksum"] == fresh["cold_cached"]["checksum"] == checksum(outputs),
            "signal outputs equal in the cold, cold_cached and warm runs", {k: v["checksum"] for k, v in fresh.items()})
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        times, _ = one_pass(specs)
        runs.append((time.perf_counter() - t0, times))
    warm, warm_times = min(runs, key=lambda r: r[0])
    cold_times = fresh["cold"]["per_signal"]
    emit("signals", {
        "what": f"all {len(specs)} signals over {START[:4]} .. end of data, each on its own calendar",
        "signals": len(specs), "plugin_errors": errors,
        "cold_s": round(fresh["cold"]["first_pass_s"], 3), "cold_import_discover_s": round(fresh["cold"]["import_discover_s"], 3),
        "cold_cached_s": round(fresh["cold_cached"]["first_pass_s"], 3),
        "warm_s": round(warm, 4), "warm_compute_only_s": round(sum(v["compute_s"] for v in warm_times.values()), 4),
        "warm_under_1s": warm < 1.0,
        "per_signal": {name: {"bars": warm_times[name]["bars"], "cold_load_s": round(cold_times[name]["load_s"], 4),
                              "cold_compute_s": round(cold_times[name]["compute_s"], 4),
                              "warm_load_s": round(warm_times[name]["load_s"], 4),
                              "warm_compute_s": round(warm_times[name]["compute_s"], 4)} for name in specs},
        "checks": {"vix_2020_03_16": vix, "outputs_equal_cold_cached_warm": True}})


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
