"""Benchmark: the main job (`riskoff run backtests/selloffs.toml`) end to end, in fresh processes.

cold and cold_cached as defined in benchmarks/_timing.py (cold: numba's kernel cache empty and the
parquet cache off; cold_cached: the second `make run` on a machine). Each run writes to a temporary
folder that is deleted afterwards. Checked before any figure is reported: the runs exit 0, cover
50 strategy x asset pairs and 500 window rows, and write byte-identical windows.csv and
summary.json stats in both runs. Measured with the config's five tearsheets and again with
`--no-tearsheets`; the run's own per-phase timing line (riskoff.run.phases) is included (phases that
overlap in time (significance and the CSV writing; tearsheets and everything after the engine) are each counted). Targets (issue 14), on an otherwise
idle 2-core machine: <= 30 s cold and <= 20 s cold_cached with tearsheets, <= 10 s without.
Prints JSON.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
from _timing import ROOT, check_checkout, cold_and_cached, emit, require

CONFIG = ROOT / "backtests" / "selloffs.toml"


def _phases(stdout: str) -> dict[str, float]:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("timing: ")), "timing: ")
    return {name.strip(): float(sec) for name, sec in re.findall(r"([\w +]+?) ([\d.]+) s", line[len("timing: "):])}


def child(extra: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="riskoff-bench-"))
    try:
        t0 = time.perf_counter()
        from riskoff.cli import main as cli
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = cli(["run", str(CONFIG), "--out", str(tmp / "run"), *extra])
        wall = time.perf_counter() - t0
        run = tmp / "run"
        summary = json.loads((run / "summary.json").read_text()) if rc == 0 else {}
        print(json.dumps({
            "exit": rc, "wall_s": wall, "pairs": len(summary.get("stats", [])), "phases": _phases(out.getvalue()),
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
    bare = cold_and_cached(__file__, ["--child", "--no-tearsheets"])
    cold, cached = runs["cold"], runs["cold_cached"]
    require(cold["exit"] == cached["exit"] == 0 and cold["pairs"] == 50 and cold["window_rows"] == 500
            and cold["windows_sha"] == cached["windows_sha"] and cold["stats_sha"] == cached["stats_sha"],
            "main job: 50 pairs, 500 window rows, identical results in both runs", runs)
    emit("main_job", {
        "what": ("main job (`make run`: 50 strategy x asset pairs, 10 windows, the random-timing null and "
                 "bootstraps, findings, report and five tearsheets; cold_cached is a second `make run`)"),
        "cold_s": round(cold["wall_s"], 1), "cold_cached_s": round(cached["wall_s"], 1),
        "no_tearsheets_cold_s": round(bare["cold"]["wall_s"], 1),
        "no_tearsheets_cold_cached_s": round(bare["cold_cached"]["wall_s"], 1),
        "phases_cold": cold["phases"], "phases_cold_cached": cached["phases"],
        "phases_no_tearsheets_cold_cached": bare["cold_cached"]["phases"],
        "tearsheets": cold["tearsheets"], "outputs": cold["outputs"],
        "targets": "<= 20 s cold_cached and <= 30 s cold with the five tearsheets, <= 10 s cold_cached without",
        "checks": {"pairs": cold["pairs"], "window_rows": cold["window_rows"], "identical_results": True}},
        terms=("cold", "cold_cached"))


if __name__ == "__main__":
    child([a for a in sys.argv[1:] if a != "--child"]) if "--child" in sys.argv else main()
