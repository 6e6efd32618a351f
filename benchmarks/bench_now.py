"""Benchmark: `riskoff now backtests/selloffs.toml` as a cron job runs it, a fresh process each time.

Wall time of the whole command (interpreter start, imports, data, signals, rules, overlays, the
read-out and its JSON), measured from outside the process. cold and cold_cached as defined in
benchmarks/_timing.py; cold_cached is what every daily call pays once the caches exist. Two instants:
the current time (past the snapshot's end: stale inputs, the usual case on this machine) and
2026-03-20T21:30Z (inside the data). Checked before any figure is reported: each call exits with a
read-out status (0, 3, 4 or 5), lists the 50 strategy x asset records, and the cached calls give the
same JSON as the cold one. Target (issue 26): under 3 s cold_cached. Prints JSON.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import _timing  # noqa: F401  (first: puts this checkout on sys.path)
from _timing import ROOT, check_checkout, emit, require

CONFIG = ROOT / "backtests" / "selloffs.toml"
INSIDE = "2026-03-20T21:30:00Z"
REPEAT = 5


def call(as_of: str | None, env: dict[str, str]) -> tuple[float, dict, int]:
    argv = [sys.executable, "-m", "riskoff", "-q", "now", str(CONFIG), "--json"] + (["--as-of", as_of] if as_of else [])
    t0 = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    require(out.returncode in (0, 3, 4, 5), "riskoff now exits with a read-out status", out.stderr[-2000:])
    return wall, json.loads(out.stdout), out.returncode


def measure(as_of: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="riskoff-numba-") as numba_dir:
        cold_env = {**os.environ, "NUMBA_CACHE_DIR": numba_dir, "RISKOFF_PARQUET_CACHE": "0"}
        cached_env = {**os.environ, "NUMBA_CACHE_DIR": numba_dir}
        cold, ref, code = call(as_of, cold_env)
        call(as_of, cached_env)  # fills both caches
        walls = []
        for _ in range(REPEAT):
            wall, doc, code2 = call(as_of, cached_env)
            strip = lambda d: {k: v for k, v in d.items() if k != "as_of"}  # noqa: E731 (the default instant moves)
            require(len(doc["records"]) == 50 and code2 == code
                    and (as_of is None or strip(doc) == strip(ref)), "50 records, the same read-out every call")
            walls.append(wall)
    return {"cold_s": round(cold, 2), "cold_cached_best_s": round(min(walls), 2),
            "cold_cached_median_s": round(statistics.median(walls), 2), "exit": code, "records": 50}


def main() -> None:
    check_checkout()
    emit("now", {
        "what": "`riskoff now backtests/selloffs.toml --json` in a fresh process (50 strategy x asset records)",
        "default_instant": measure(None), "inside_the_data": {"as_of": INSIDE, **measure(INSIDE)},
        "repeat": REPEAT, "target": "target < 3 s cold_cached",
        "checks": {"records": 50, "exit": "a read-out status (0, 3, 4, 5)",
                   "identical_readouts": "every cached call's JSON equals the cold call's (as of a fixed instant)"}},
        terms=("cold", "cold_cached"))


if __name__ == "__main__":
    main()
