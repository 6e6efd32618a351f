"""Shared by every benchmark script (run as ``python benchmarks/bench_*.py``).

One place for what the benchmarks promise:
- they time the checkout they live in: importing this module puts the repository root first on
  ``sys.path``, and :func:`check_checkout` refuses to time any other installed riskoff;
- they check their result against a reference before timing and exit non-zero on a mismatch
  (:func:`require`);
- "cold", "cold_cached" and "warm" mean the same thing everywhere (:data:`DEFINITIONS`, copied into
  every JSON);
- each prints its JSON and writes it to ``benchmarks/results/<name>.json``, from which
  ``benchmarks/readme_table.py`` regenerates the README's Performance table.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

DEFINITIONS = {
    "cold": "a fresh Python process with riskoff's on-disk caches empty (no compiled numba kernels, parquet "
            "cache of parsed series off): imports, CSV parsing, kernel compilation and the first call",
    "cold_cached": "a fresh Python process with those on-disk caches filled by an earlier run: imports, "
                   "cache loads and the first call (what every later command pays)",
    "warm": "the best of several repeated calls in one process after a first call (kernels compiled, "
            "parsed series memoised in memory)",
}


def check_checkout() -> None:
    """Exit unless ``riskoff`` is imported from this checkout (not another installed copy)."""
    import riskoff

    where = Path(riskoff.__file__).resolve()
    if ROOT not in where.parents:
        require(False, "riskoff imported from this checkout", {"imported": str(where), "checkout": str(ROOT)})


def require(ok: bool, what: str, details: Any = None) -> None:
    """A benchmark's correctness check: on failure print the mismatch as JSON and exit 1 (no timing)."""
    if not ok:
        print(json.dumps({"error": f"check failed: {what}; nothing timed", "details": details}, indent=2,
                         default=str))
        sys.exit(1)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls: the least disturbed by other work on the machine (warm)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def fresh_process(script: str | Path, args: Sequence[str], *, cached: bool, numba_dir: Path | None) -> dict:
    """Run ``script args`` in a new interpreter and return the JSON of its last stdout line.

    ``cached=False`` turns the parquet cache off; numba's kernels are read from and written to
    ``numba_dir`` (empty for a cold run; None: numba's default cache next to the sources).
    """
    env = dict(os.environ)
    if numba_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_dir)
    if not cached:
        env["RISKOFF_PARQUET_CACHE"] = "0"
    out = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        require(False, f"{Path(script).name} {' '.join(args)} in a fresh process", out.stdout[-2000:] + out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_and_cached(script: str | Path, args: Sequence[str]) -> dict[str, dict]:
    """``cold`` (empty caches) and ``cold_cached`` (caches filled by a run in between) of one child."""
    with tempfile.TemporaryDirectory(prefix="riskoff-numba-") as numba_dir:
        cold = fresh_process(script, args, cached=False, numba_dir=Path(numba_dir))
        fresh_process(script, args, cached=True, numba_dir=Path(numba_dir))  # fill both caches
        cached = fresh_process(script, args, cached=True, numba_dir=Path(numba_dir))
    return {"cold": cold, "cold_cached": cached}


def machine() -> dict:
    """The conditions next to every figure: the machine is shared."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()], "commit": commit,
            "python": sys.version.split()[0]}


def emit(name: str, result: dict, terms: Sequence[str] = ("cold", "cold_cached", "warm")) -> None:
    """Print the benchmark's JSON and write it to benchmarks/results/<name>.json."""
    out = {"benchmark": name, **result, "definitions": {t: DEFINITIONS[t] for t in terms},
           "machine": machine()}
    text = json.dumps(out, indent=2, default=str)
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(text + "\n")
