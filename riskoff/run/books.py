"""Books in a run: each ``[[portfolios]]`` book x each of its strategies (and its static book),
simulated on one shared cash balance from the exposures the run already decided per asset.

Wiring only: the targets formula is ``riskoff.strategies.books``, the account
``riskoff.engine.books``, the figures ``riskoff.evaluation.books``. A book's bar index is the union
of its assets' bars (every calendar day when it holds crypto, NYSE sessions otherwise); each
asset's decided exposure is carried to the dates its own market is closed (the last decision
stands), so a target at bar t uses only what each asset's rule had decided by then.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskoff.engine.account import cash_growth
from riskoff.engine.annualisation import periods_per_year
from riskoff.engine.books import PreparedBook, prepare_book, simulate_book
from riskoff.significance.settings import Market
from riskoff.strategies.books import STATIC, PortfolioConfig, book_exposure, book_targets, rebalance_flags


@dataclass
class BookResult:
    """One book run by one strategy (``strategy == "static"``: the book's baseline, no rule).

    ``exposure`` is the book's decided exposure sum_i w_i e_i; ``invested`` the same divided by
    the weights' sum (1 = nothing cut), the series lead time and re-entry are read from.
    """

    book: PortfolioConfig
    strategy: str
    calendar: str                      # "utc" when the book holds a UTC-day asset, else "us"
    equity: pd.Series
    weights: pd.DataFrame              # held sleeve weights at each close
    target: pd.DataFrame               # decided target weights
    exposure: pd.Series
    orders: pd.DataFrame
    cash_growth: pd.Series
    sleeves: pd.DataFrame | None = None  # the strategy's exposure per asset on the book's index
    prep: PreparedBook | None = None     # the book's engine inputs (the null re-runs shifted sleeves)
    cash_rate: pd.Series | None = None   # the annual money-market rate its cash earned (percent)

    @property
    def key(self) -> str:
        return f"{self.book.name}/{self.strategy}"

    @property
    def name(self) -> str:
        return self.book.name

    @property
    def periods_per_year(self) -> int:
        return periods_per_year(self.calendar, "1d")

    @property
    def invested(self) -> pd.Series:
        total = sum(w for _, w in self.book.weights)
        return self.exposure / total


def book_index(book: PortfolioConfig, markets: Mapping[str, Market]) -> pd.DatetimeIndex:
    """The union of the book's assets' bars."""
    index = markets[book.assets[0]].close.index
    for a in book.assets[1:]:
        index = index.union(markets[a].close.index)
    return index


def carried(series: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """``series`` on ``index``: on a date its own market is closed, the value of its last bar
    (NaN included: a rule that had not decided yet still has not)."""
    return series.reindex(index, method="ffill")


def book_market(book: PortfolioConfig, markets: Mapping[str, Market], clocks: Mapping[str, str]):
    """(index, close, open or None, cash rate, clocks) of a book: the engine's inputs."""
    index = book_index(book, markets)
    cols = list(book.assets)
    close = pd.DataFrame({a: markets[a].close.reindex(index) for a in cols})
    opens = None
    if any(markets[a].open is not None for a in cols):
        opens = pd.DataFrame({a: markets[a].open.reindex(index) for a in cols})
    # the money-market rate on every bar: a UTC-day asset's calendar covers every date
    order = sorted(cols, key=lambda a: clocks[a] != "utc")
    rate = None
    for a in order:
        r = markets[a].cash_rate
        if r is not None:
            r = r.reindex(index)
            rate = r if rate is None else rate.fillna(r)
    return index, close, opens, rate


def simulate_books(portfolios: Sequence[PortfolioConfig], targets: Mapping[tuple[str, str], pd.Series],
                   markets: Mapping[str, Market], clocks: Mapping[str, str], fill: str) -> list[BookResult]:
    """Every book x (static + its strategies).

    ``targets``: (strategy, asset) -> the strategy's decided exposure on the asset's own bars
    (the run's pairs); a pair that does not exist is an asset the strategy does not cover (1).
    """
    out = []
    for book in portfolios:
        index, close, opens, rate = book_market(book, markets, clocks)
        calendar = "utc" if any(clocks[a] == "utc" for a in book.assets) else "us"
        rebal = rebalance_flags(index, book.rebalance, us=any(clocks[a] == "us" for a in book.assets))
        costs = {a: markets[a].costs for a in book.assets}
        growth = pd.Series(cash_growth(rate, index), index=index)
        prep = None
        for strategy in (STATIC, *book.strategies):
            if strategy == STATIC:
                # the always-invested rule: full on each asset's own bars from its first one (before
                # it, like any rule's undecided bars, nothing), so a rule that is always in equals it
                sleeves = pd.DataFrame({a: carried(pd.Series(1.0, index=markets[a].close.index), index)
                                        for a in book.assets}, index=index)
            else:
                sleeves = pd.DataFrame({a: carried(targets[(strategy, a)], index) for a in book.assets
                                        if (strategy, a) in targets}, index=index)
            tgt = book_targets(book, sleeves)
            sim = simulate_book(close, tgt, clocks=clocks, open=opens, cash_rate=rate, costs=costs, fill=fill,
                                rebalance_at=rebal, band=book.band)
            if prep is None:
                prep = prepare_book(close, tgt, clocks=clocks, open=opens, cash_rate=rate, costs=costs, fill=fill,
                                    rebalance_at=rebal, band=book.band)
            out.append(BookResult(book, strategy, calendar, sim.equity, sim.weights, tgt,
                                  book_exposure(book, sleeves), sim.orders, growth, sleeves, prep, rate))
    return out


def static_of(books: Sequence[BookResult]) -> dict[str, BookResult]:
    """book name -> its static book."""
    return {b.name: b for b in books if b.strategy == STATIC}


def nan_safe(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x
