"""Benchmark: the main job (`riskoff run backtests/selloffs.toml`) end to end, in fresh processes.

cold and cold_cached as defined in benchmarks/_timing.py (cold: numba's kernel cache empty and the
parquet cache off; cold_cached: the second `make run` on a machine). Each run writes to a temporary
folder that is deleted afterwards. Checked before any figure is reported: the runs exit 0, cover
50 strategy x asset pairs and 500 window rows, and write byte-identical windows.csv and
summary.json stats in both runs. Prints JSON.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
from _timing import ROOT, check_checkout, cold_and_cached, emit, require

CONFIG = ROOT / "backtests" / "selloffs.toml"


def child() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="riskoff-bench-"))
    try:
        t0 = time.perf_counter()
        from riskoff.cli import main as cli
        rc = cli(["run", str(CONFIG), "--out", str(tmp / "run")])
        wall = time.perf_counter() - t0
        run = tmp / "run"
        summary = json.loads((run / "summary.json").read_text()) if rc == 0 else {}
        print(json.dumps({
            "exit": rc, "wall_s": wall, "pairs": len(summary.get("stats", [])),
            "window_rows": sum(1 for _ in (run / "windows.csv").open()) - 1 if rc == 0 else 0,
            "windows_sha": hashlib.sha256((run / "windows.csv").read_bytes()).hexdigest() if rc == 0 else "",
            "stats_sha": hashlib.sha256(json.dumps(summary.get("stats"), sort_keys=True).encode()).hexdigest(),
            "tearsheets": len(list((run / "tearsheets").glob("*.html"))) if rc == 0 else 0,
            "outputs": sorted(p.name for p in run.iterdir()) if rc == 0 else []}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    check_checkout()
    runs = cold_and_cached(__file__, ["--child"])
    cold, cached = runs["cold"], runs["cold_cached"]
    require(cold["exit"] == cached["exit"] == 0 and cold["pairs"] == 50 and cold["window_rows"] == 500
            and cold["windows_sha"] == cached["windows_sha"] and cold["stats_sha"] == cached["stats_sha"],
            "main job: 50 pairs, 500 window rows, identical results in both runs", runs)
    emit("main_job", {
        "what": "main job (`make run`: 50 strategy x asset pairs, 10 windows, report and tearsheets)",
        "cold_s": round(cold["wall_s"], 1), "cold_cached_s": round(cached["wall_s"], 1),
        "tearsheets": cold["tearsheets"], "outputs": cold["outputs"],
        "checks": {"pairs": cold["pairs"], "window_rows": cold["window_rows"], "identical_results": True}},
        terms=("cold", "cold_cached"))


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
