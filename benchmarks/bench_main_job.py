"""Benchmark: the main job (`riskoff run backtests/selloffs.toml`) end to end, cold and warm.

Cold = the first run in a fresh process with numba's on-disk cache and the parquet cache
cleared; warm = a second fresh process with both caches in place (what `make run` sees the second
time). Each run writes to a temporary folder that is deleted afterwards. Prints JSON.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "riskoff.cli", "run", str(ROOT / "backtests" / "selloffs.toml"),
                    "--out", str(out)], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="riskoff-bench-"))
    try:
        for cache in [*ROOT.glob("riskoff/**/__pycache__/*.nbi"), *ROOT.glob("riskoff/**/__pycache__/*.nbc")]:
            cache.unlink()
        shutil.rmtree(ROOT / "data" / "cache" / ".parsed", ignore_errors=True)
        cold = run_once(tmp / "cold")
        warm = [run_once(tmp / f"warm{i}") for i in range(2)]
        print(json.dumps({"benchmark": "main_job_selloffs", "cpus": os.cpu_count(), "cold_s": round(cold, 1),
                          "warm_s": round(min(warm), 1), "tearsheets": len(list((tmp / "cold" / "tearsheets").glob("*.html"))),
                          "outputs": sorted(p.name for p in (tmp / "cold").iterdir())}, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
