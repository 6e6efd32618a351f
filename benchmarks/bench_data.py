"""Benchmark: load every catalog series and align it onto the US calendar 2015-2026.

Prints JSON: cold (empty in-process memo, parquet cache as found on disk), warm (second call in
the same process), and the frame's shape. Run: `make bench` or `python benchmarks/bench_data.py`.
"""
from __future__ import annotations

import json
import time

from riskoff.data import load, load_catalog
from riskoff.data import sources
from riskoff.paths import resolve_data_dir


def main() -> None:
    ids = list(load_catalog())
    data_dir, how = resolve_data_dir()
    sources._memo.clear()
    t0 = time.perf_counter()
    frame = load(ids, "2015-01-01", "2026-06-05", calendar="us", data_dir=data_dir, stale="allow")
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        load(ids, "2015-01-01", "2026-06-05", calendar="us", data_dir=data_dir, stale="allow")
        warm.append(time.perf_counter() - t0)
    print(json.dumps({"benchmark": "load_all_series_us_calendar_2015_2026", "data_dir": str(data_dir),
                      "data_dir_from": how, "series": len(ids), "bars": frame.shape[0],
                      "columns": frame.shape[1], "cold_s": round(cold, 3),
                      "warm_s_best_of_5": round(min(warm), 4)}, indent=2))


if __name__ == "__main__":
    main()
