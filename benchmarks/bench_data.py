"""Benchmark: load every catalog series and align it onto the US calendar 2015-01-01 .. 2026-06-05.

Checked before timing: the data README's sanity anchors land on the bars the publication lags say
(VIX 82.69 on 2020-03-16; SPX 6969.01 on 2026-01-29; BTC-USD's 2020-03-12 UTC close, 4970.79,
first seen on the US bar of 2020-03-13), and the frame built through the parquet cache equals the
one parsed from the CSV files in the cold process (same checksum). Then cold, cold_cached and
warm (see benchmarks/_timing.py). Run: `make bench` or `python benchmarks/bench_data.py`.
"""
from __future__ import annotations

import json
import sys
import time

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
from _timing import best_of, check_checkout, cold_and_cached, emit, require

START, END = "2015-01-01", "2026-06-05"
ANCHORS = [("2020-03-16", "VIX.close", 82.69), ("2026-01-29", "SPX.close", 6969.01),
           ("2020-03-13", "BTC-USD.close", 4970.79)]


def load_all():
    from riskoff.data import load, load_catalog
    return load(list(load_catalog()), START, END, calendar="us", stale="allow")


def checksum(frame) -> str:
    import pandas as pd
    return str(int(pd.util.hash_pandas_object(frame, index=True).sum()) & (2**64 - 1))


def child() -> None:
    t0 = time.perf_counter()
    import riskoff.data  # noqa: F401
    t1 = time.perf_counter()
    frame = load_all()
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "first_load_s": t2 - t1, "checksum": checksum(frame)}))


def main() -> None:
    check_checkout()
    fresh = cold_and_cached(__file__, ["--child"])
    frame = load_all()
    got = {f"{col} {day}": float(frame.loc[day, col]) for day, col, _ in ANCHORS}
    require(all(abs(got[f"{col} {day}"] - v) < 0.005 for day, col, v in ANCHORS),  # anchors are given to the cent
            "sanity anchors of the data README", got)
    require(fresh["cold"]["checksum"] == fresh["cold_cached"]["checksum"] == checksum(frame),
            "CSV-parsed and parquet-cached frames are equal", {k: v["checksum"] for k, v in fresh.items()})
    warm = best_of(load_all, 5)
    emit("data", {
        "what": f"load + align all {frame.shape[1]} columns of the catalog on the US calendar {START} .. {END}",
        "bars": frame.shape[0], "columns": frame.shape[1],
        "cold_s": round(fresh["cold"]["first_load_s"], 3), "cold_import_s": round(fresh["cold"]["import_s"], 3),
        "cold_cached_s": round(fresh["cold_cached"]["first_load_s"], 3),
        "warm_s": round(warm, 4), "checks": {"anchors": got, "csv_equals_parquet": True}})


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
