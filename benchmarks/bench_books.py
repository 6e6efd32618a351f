"""Benchmark: books (issue 25), warm.

1. A six-asset book (SPY, QQQ, BTC-USD, GLD, SLV, TLT; the cross-asset weights, monthly, freed weight
   to TLT + GLD) run by 12 rules over 2015 to the end of the data: the book stage of a run - targets,
   the shared-cash account (static book + 12 rules), the evaluation per book x window, the stats and
   the hedge check (``riskoff.run.books.simulate_books`` + ``riskoff.run.runner.evaluate_books``).
   The rules' per-asset exposures come from one ordinary run beforehand (they are the run's pairs;
   their cost is the single-asset run's). Budget: < 2 s warm.
2. 1,000 book variants (40 basket splits between TLT and GLD x 25 rebalancing bands) of one rule on
   the same book through ``riskoff.sweep.books.sweep_variants`` (the book sweep's pass). Budget: < 10 s warm.

Checks first: the buy_and_hold book equals the static book exactly; a sweep variant with the book's
own basket and band gives the book's own CAGR. Prints JSON and writes benchmarks/results/books.json.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from _timing import ROOT, best_of, check_checkout, emit, require

from riskoff.run.config import load_config
from riskoff.run.runner import evaluate_books, simulate_config
from riskoff.significance.settings import SignificanceSettings

RULES = ["ma_timing", "vol_target", "vix_mean_reversion", "breadth_collapse", "ma_break", "yield_stability",
         "sofr_iorb_spread", "cross_asset_liquidation", "vix_or_breadth", "stress_ladder",
         "vix_exit_breadth_reentry", "buy_and_hold"]


def main() -> None:
    check_checkout()
    from riskoff.run.books import simulate_books
    from riskoff.strategies.books import PortfolioConfig

    base = load_config(ROOT / "backtests" / "selloffs.toml")
    book = PortfolioConfig("cross_asset", weights=(("SPY", 0.35), ("QQQ", 0.15), ("BTC-USD", 0.10), ("GLD", 0.15),
                                                   ("SLV", 0.05), ("TLT", 0.20)),
                           rebalance="monthly", risk_off_into=(("TLT", 0.5), ("GLD", 0.5)), strategies=tuple(RULES))
    cfg = dataclasses.replace(base, assets=("SPY", "QQQ", "BTC-USD", "GLD", "SLV", "TLT"),
                              significance=SignificanceSettings(null=False, bootstrap=False), portfolios=(book,))
    result = simulate_config(cfg)
    require(len(result.books) == 13, "13 books (static + 12 rules)", len(result.books))
    eq = {b.strategy: b.equity for b in result.books}
    require(bool((eq["buy_and_hold"] == eq["static"]).all()), "the buy_and_hold book equals the static book")
    targets = {(p.strategy, p.asset): p.target for p in result.pairs}
    clocks = {p.asset: p.calendar for p in result.pairs}

    def stage():
        result.books = simulate_books(cfg.portfolios, targets, result.markets, clocks, cfg.fill)
        evaluate_books(result)

    stage()
    warm_stage = best_of(stage, 3)
    bars = len(result.books[0].equity)

    from riskoff.significance.books import window_spans
    from riskoff.sweep.books import sweep_variants

    static = next(b for b in result.books if b.strategy == "static")
    rule = next(b for b in result.books if b.strategy == "stress_ladder")
    rows = result.book_windows[result.book_windows["strategy"] == "static"]
    spans = window_spans(rule.equity.index, rows["start"], rows["end"])
    own = sweep_variants(static, rule, spans, [({"TLT": 0.5, "GLD": 0.5}, None)])
    stats = result.book_stats.set_index("strategy")
    require(abs(own["cagr"].iloc[0] - stats.loc["stress_ladder", "cagr"]) < 1e-12,
            "the sweep variant with the book's own basket gives the book's CAGR",
            [own["cagr"].iloc[0], stats.loc["stress_ladder", "cagr"]])
    variants = [({"TLT": t, "GLD": 1.0 - t}, (band if band > 0 else None))
                for t in np.linspace(0.0, 1.0, 40) for band in np.linspace(0.0, 0.24, 25)]
    sweep_variants(static, rule, spans, variants[:5])
    warm_sweep = best_of(lambda: sweep_variants(static, rule, spans, variants), 2)
    emit("books", {
        "what": (f"Books: a six-asset book x 12 rules, {cfg.start:%Y}-{result.end:%Y} ({bars:,} daily bars on the "
                 "union calendar): targets, shared-cash account, evaluation and hedge check"),
        "rules": len(RULES), "assets": 6, "bars": bars, "windows": int(result.book_windows["window"].nunique()),
        "warm_s": round(warm_stage, 3), "budget_s": 2.0,
        "sweep": {"what": "1,000 book variants (40 TLT/GLD basket splits x 25 rebalancing bands) of one rule",
                  "variants": len(variants), "warm_s": round(warm_sweep, 3), "budget_s": 10.0},
        "checks": ["the buy_and_hold book equals the static book exactly",
                   "a sweep variant with the book's own basket and band gives the book's CAGR (1e-12)"],
    }, terms=("warm",))


if __name__ == "__main__":
    main()
