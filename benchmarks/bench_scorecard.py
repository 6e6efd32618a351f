"""Benchmark: the signal scorecard over every discovered signal on SPY, QQQ, BTC-USD and GLD.

Prints JSON: ``cold`` is the first build in a fresh process (CSV parsing included), ``warm`` the
best of three later builds in the same process (parsed series memoised; signals, episodes, metrics
and the engine runs are redone). ``write_s`` is writing the results folder (CSV files and the
plotly HTML) once. Target: warm build <= 5 s. Run: `python benchmarks/bench_scorecard.py`.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

try:
    import riskoff  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import best_of  # noqa: E402

from riskoff.paths import resolve_data_dir  # noqa: E402
from riskoff.scorecard import DEFAULT_ASSETS, build_scorecard, write_scorecard  # noqa: E402


def main() -> None:
    data_dir, how = resolve_data_dir()
    t0 = time.perf_counter()
    card = build_scorecard(DEFAULT_ASSETS)
    cold = time.perf_counter() - t0
    warm = best_of(lambda: build_scorecard(DEFAULT_ASSETS), 3)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_scorecard(card, Path(tmp) / "card")
        write_s = time.perf_counter() - t0
    print(json.dumps({
        "benchmark": "signal_scorecard",
        "data_dir": str(data_dir), "data_dir_from": how,
        "assets": list(DEFAULT_ASSETS), "signals": int(card.table.signal.nunique()),
        "rows": len(card.table), "episodes": len(card.episodes),
        "cold_build_s": round(cold, 3), "warm_build_s_best_of_3": round(warm, 3),
        "write_s": round(write_s, 3), "warm_build_under_5s": warm <= 5.0,
    }, indent=2))


if __name__ == "__main__":
    main()
