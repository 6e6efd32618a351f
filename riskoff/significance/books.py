"""Skill or luck for books: the random-timing null and bootstrap intervals of a book vs its static book.

Null. A book's rule decides one exposure path per asset (its sleeves). A null path rotates **all
sleeves by one common offset** (a circular shift of 1 .. n-1 bars, the same for every asset), so it
keeps each sleeve's exposure distribution and autocorrelation and the sleeves' alignment with
each other (a rule that cuts equities and bitcoin together still does in every path) and breaks
only their alignment with the market. Each path goes through the book's own targets formula
(``riskoff.strategies.books.target_weights``) and account (``riskoff.engine.books``: same costs,
cash, calendar and band rebalancing, fill order), and is scored with the single-asset definitions
(``riskoff.significance.null.path_metrics``) against the static book: mean drawdown avoided over
the windows where the static book fell at least 3%, CAGR given up, Calmar. p = (1 + #null at
least as good) / (paths + 1).

Bootstrap. Intervals of each book's CAGR and Sharpe minus its static book's, by the stationary
bootstrap of ``riskoff.significance.bootstrap`` on the book's bar returns (as for single assets).
Seeds: ``pair_rng(seed, "book/<book>/<strategy>")`` and ``"bootstrap/book/<book>"``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskoff.engine.books import run_prepared
from riskoff.evaluation.books import Book
from riskoff.significance.bootstrap import difference_intervals
from riskoff.significance.null import PAIR_METRICS, cagr_of, compare, drawdowns, pair_rng, path_metrics
from riskoff.significance.settings import SignificanceSettings
from riskoff.strategies.books import STATIC, exposure_matrix, target_weights, weight_arrays

NULL_KIND = "common_shift"
_BATCH = 128  # paths simulated before their metrics are taken (bounds memory at bars x 128 floats)


def window_spans(index: pd.DatetimeIndex, starts: Sequence[str], ends: Sequence[str]) -> np.ndarray:
    """Inclusive bar positions of each window (the bars ``equity.loc[start:end]`` selects)."""
    lo = index.searchsorted(pd.to_datetime(list(starts)), side="left")
    hi = index.searchsorted(pd.to_datetime(list(ends)), side="right") - 1
    return np.column_stack([lo, hi]).astype(np.int64).reshape(-1, 2)


def shifted_equity(book: Book, shifts: np.ndarray) -> np.ndarray:
    """(bars, len(shifts)) equity of the book with every sleeve rotated by each shift."""
    e = exposure_matrix(book.book, book.sleeves)
    w, d = weight_arrays(book.book)
    out = np.empty((len(e), len(shifts)))
    for k, s in enumerate(shifts):
        out[:, k] = run_prepared(book.prep, target_weights(np.roll(e, int(s), axis=0), w, d))[0][:, 0]
    return out


def book_null(book: Book, static: Book, spans: np.ndarray, paths: int, rng: np.random.Generator
              ) -> dict[str, float]:
    """The null of one book x strategy (see the module docstring): observed metrics, percentile and p."""
    ppy = book.periods_per_year
    bh = static.equity.to_numpy(dtype=float)
    bh_wdd = drawdowns(bh, spans)[1][:, 0]
    bh_cagr = float(cagr_of(np.array([bh[-1] / bh[0]]), len(bh), ppy)[0])
    obs = path_metrics(book.equity.to_numpy(dtype=float), ppy, spans, bh_wdd, bh_cagr)
    n = len(bh)
    shifts = rng.integers(1, n, size=paths)
    null = {k: [] for k in PAIR_METRICS}
    for lo in range(0, paths, _BATCH):
        m = path_metrics(shifted_equity(book, shifts[lo:lo + _BATCH]), ppy, spans, bh_wdd, bh_cagr)
        for k in PAIR_METRICS:
            null[k].append(m[k])
    row: dict[str, float] = {"null_kind": NULL_KIND, "null_paths": paths}
    for k, higher in PAIR_METRICS.items():
        values = np.concatenate(null[k]) if null[k] else np.empty(0)
        row[f"{k}_pct"], row[f"{k}_p"] = compare(float(obs[k][0]), values, higher)
    row["dd_avoided_mean"] = float(obs["dd_avoided_mean"][0])
    return row


def assess_books(books: Sequence[Book], windows: pd.DataFrame, settings: SignificanceSettings) -> pd.DataFrame:
    """One row per book x strategy (not the static books): null and bootstrap columns."""
    static = {b.name: b for b in books if b.strategy == STATIC}
    rows = []
    for b in books:
        if b.strategy == STATIC:
            continue
        row = {"book": b.name, "strategy": b.strategy}
        if settings.null and settings.paths > 0:
            mine = windows[(windows["book"] == b.name) & (windows["strategy"] == b.strategy)]
            spans = window_spans(b.equity.index, mine["start"], mine["end"])
            row.update(book_null(b, static[b.name], spans, settings.paths,
                                 pair_rng(settings.null_seed, f"book/{b.key}")))
        rows.append(row)
    out = pd.DataFrame(rows)
    if settings.bootstrap and len(out):
        parts = []
        for name, base in static.items():
            mine = [b for b in books if b.name == name and b.strategy != STATIC]
            if not mine:
                continue
            rets = pd.DataFrame({b.strategy: b.equity for b in mine}).pct_change().iloc[1:]
            iv = difference_intervals(rets, base.equity.pct_change().iloc[1:], ppy=base.periods_per_year,
                                      reps=settings.reps, confidence=settings.confidence,
                                      rng=pair_rng(settings.bootstrap_seed, f"bootstrap/book/{name}"),
                                      cash_return=base.cash_growth.iloc[1:] - 1.0)
            parts.append(iv.assign(book=name, confidence=settings.confidence).rename_axis("strategy").reset_index())
        if parts:
            out = out.merge(pd.concat(parts, ignore_index=True), on=["book", "strategy"], how="left")
    return out
