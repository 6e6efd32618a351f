"""Benchmark: the signal scorecard over every discovered signal on SPY, QQQ, BTC-USD and GLD.

``cold`` and ``cold_cached`` are first builds in fresh processes, ``warm`` the best of three later
builds in one process (signals, episodes, metrics and the engine runs redone; parsed series
memoised), as ``benchmarks/_timing.py`` defines them. ``write_s`` is writing the results folder
(CSV files and the plotly HTML) once. Checked first: the build is the same in every process and
finds the COVID fall on SPY. Target: warm build <= 5 s. Run: `python benchmarks/bench_scorecard.py`.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from _timing import best_of, check_checkout, cold_and_cached, emit, require

ASSETS = ("SPY", "QQQ", "BTC-USD", "GLD")


def build():
    from riskoff.evaluation.scorecard import build_scorecard
    return build_scorecard(ASSETS)


def checksum(card) -> str:
    text = card.table.round(9).to_csv(index=False) + card.episodes.round(9).to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def child() -> None:
    t0 = time.perf_counter()
    card = build()
    print(json.dumps({"first_build_s": time.perf_counter() - t0, "checksum": checksum(card)}))


def main() -> None:
    check_checkout()
    from riskoff.reports.scorecard import write_scorecard

    fresh = cold_and_cached(__file__, ["--child"])
    card = build()
    covid = card.episodes[(card.episodes.asset == "SPY") & (card.episodes.trough == "2020-03-23")]
    require(len(covid) >= 1, "the scorecard finds the SPY fall to 2020-03-23", card.episodes.head().to_dict())
    require(fresh["cold"]["checksum"] == fresh["cold_cached"]["checksum"] == checksum(card),
            "scorecard equal in the cold, cold_cached and warm builds", {k: v["checksum"] for k, v in fresh.items()})
    warm = best_of(build, 3)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_scorecard(card, Path(tmp) / "card")
        write_s = time.perf_counter() - t0
    emit("scorecard", {
        "what": f"signal scorecard: {card.table.signal.nunique()} signals x {', '.join(ASSETS)} "
                f"({len(card.episodes)} episodes), build only",
        "signals": int(card.table.signal.nunique()), "rows": len(card.table), "episodes": len(card.episodes),
        "cold_s": round(fresh["cold"]["first_build_s"], 3), "cold_cached_s": round(fresh["cold_cached"]["first_build_s"], 3),
        "warm_s": round(warm, 3), "write_s": round(write_s, 3), "warm_under_5s": warm <= 5.0,
        "checks": {"spy_covid_episode": True, "equal_cold_cached_warm": True}})


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
