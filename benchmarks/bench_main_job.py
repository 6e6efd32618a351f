"""Benchmark: the main job (`riskoff run backtests/selloffs.toml`) end to end, cold and warm.

Cold = the first run in a fresh process with numba's on-disk cache and the parquet cache
cleared; warm = later fresh processes with both caches in place (what `make run` sees the second
time), best of two. Measured with the config's five tearsheets and with `--no-tearsheets`. Each
run writes to a temporary folder that is deleted afterwards. Prints JSON, including the per-phase
timing line the run itself prints at the end (phases that overlap in time are each counted).

Targets (issue 14): <= 30 s cold and <= 20 s warm with tearsheets, <= 10 s warm without, on an
otherwise idle 2-core machine; on a shared machine the figures are only upper bounds.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(out: Path, *extra: str) -> tuple[float, dict[str, float]]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "riskoff.cli", "run", str(ROOT / "backtests" / "selloffs.toml"),
                           "--out", str(out), *extra], check=True, capture_output=True, text=True)
    took = time.perf_counter() - t0
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("timing: ")), "")
    phases = {name.strip(): float(sec) for name, sec in re.findall(r"([\w +]+?) ([\d.]+) s", line[len("timing: "):])}
    return took, phases


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="riskoff-bench-"))
    try:
        for cache in [*ROOT.glob("riskoff/**/__pycache__/*.nbi"), *ROOT.glob("riskoff/**/__pycache__/*.nbc")]:
            cache.unlink()
        shutil.rmtree(ROOT / "data" / "cache" / ".parsed", ignore_errors=True)
        cold, cold_phases = run_once(tmp / "cold")
        warm = [run_once(tmp / f"warm{i}") for i in range(2)]
        bare = [run_once(tmp / f"bare{i}", "--no-tearsheets") for i in range(2)]
        best_warm, best_bare = min(warm), min(bare)
        print(json.dumps({
            "benchmark": "main_job_selloffs", "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cold_s": round(cold, 1), "warm_s": round(best_warm[0], 1),
            "warm_no_tearsheets_s": round(best_bare[0], 1),
            "tearsheets": len(list((tmp / "cold" / "tearsheets").glob("*.html"))),
            "report_html_bytes": (tmp / "cold" / "report.html").stat().st_size,
            "phases_cold": cold_phases, "phases_warm": best_warm[1], "phases_warm_no_tearsheets": best_bare[1],
            "outputs": sorted(p.name for p in (tmp / "cold").iterdir())}, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
