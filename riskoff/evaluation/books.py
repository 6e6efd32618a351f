"""Evaluation of books: full-period figures, per-window protection vs the static book, hedge check.

What differs from single assets (``riskoff.evaluation.evaluate``, whose window metrics are reused):

- The baseline is the book's **static book** (same weights and rebalancing, no rule), as buy &
  hold is for one asset; ``cagr_given_up`` = static CAGR - book CAGR.
- The **trough** of a window is the static book's lowest close inside it (books have no
  per-asset trough); ``exposure_at_trough`` is the book's decided exposure sum_i w_i e_i on the
  trough bar (1 - CASH when nothing is cut); lead time and re-entry lag are read from that
  exposure over the weights' sum (below 0.999 = some sleeve cut), with the single-asset rules.
- **Turnover** = traded notional over the book's value on the fill date, summed and divided by the
  years of the run (1.0 = the whole book traded once a year); **trading cost** and **rebalancing
  cost** = fees plus slippage (currency units, over the book's value on the fill date) per year,
  of every order and of the orders caused only by rebalancing (cause ``rebalance`` or ``band``).
- Annualisation: 365 days a year when the book holds a UTC-day (crypto) asset, its bar index then
  being every calendar day, else 252 NYSE sessions.

Hedge check (one row per book x window, on the static book): each asset's buy & hold return and
max drawdown in the window, the **diversification gap** = sum_i w_i |DD_i| - |DD_static| in
percentage points (positive: the book fell less than its sleeves' weighted falls, i.e.
diversification helped), and the average pairwise correlation of daily returns in the window and in
the 365 days before its start, on NYSE closes, computed only with at least 15 common returns
(else "n/a"). A UTC-day asset (crypto) has no NYSE close: it is sampled at 16:00 New York from an
hourly series of the same asset (:data:`NYSE_CLOSE_SOURCES`: the close of the bar that opens at
15:00 New York) when one covers the year before and the window, and the row names the source;
otherwise its daily close (00:00 UTC, four or five hours after the NYSE close) is used and the row
says ``asynchronous``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskoff.engine.metrics import segment_stats
from riskoff.evaluation.evaluate import max_drawdown, window_metrics
from riskoff.evaluation.windows import SellOffWindow, format_instant

MIN_COMMON_RETURNS = 15
#: hourly series of a UTC-day asset that can price it at the NYSE close, in order of preference
#: (Binance spot from 2021; the CryptoCompare aggregate reaches back to 2019-11 and ends 2025-05)
NYSE_CLOSE_SOURCES = {"BTC-USD": ("BINANCE-BTCUSDT-1H", "CRYPTOCOMPARE-BTCUSD-1H")}
YEAR_BEFORE_DAYS = 365
REBALANCE_CAUSES = ("rebalance", "band")

class Book(Protocol):
    """What the book figures read from one book x rule (``riskoff.run.books.BookResult`` has it)."""

    book: Any                  # riskoff.strategies.books.PortfolioConfig
    strategy: str
    calendar: str
    equity: pd.Series
    weights: pd.DataFrame
    exposure: pd.Series
    orders: pd.DataFrame
    cash_growth: pd.Series
    sleeves: pd.DataFrame | None
    prep: Any                  # riskoff.engine.books.PreparedBook

    @property
    def name(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def periods_per_year(self) -> int: ...

    @property
    def invested(self) -> pd.Series: ...


BOOK_WINDOW_COLUMNS = ["book", "strategy", "window", "start", "trough", "end", "book_return", "static_return",
                       "book_max_dd", "static_max_dd", "drawdown_avoided", "exposure_at_trough", "lead_time_days",
                       "reentry_lag_days", "return_given_up_60d"]


def _years(equity: pd.Series, ppy: int) -> float:
    return (len(equity.dropna()) - 1) / ppy


def order_costs(book: Book, causes: Sequence[str] | None = None) -> tuple[float, float]:
    """(turnover, cost) per year of a book's orders (all, or those with a cause in ``causes``),
    each order measured against the book's value on its fill date."""
    orders = book.orders
    if causes is not None:
        orders = orders[orders["cause"].isin(causes)]
    years = _years(book.equity, book.periods_per_year)
    if not len(orders) or years <= 0:
        return 0.0, 0.0
    value = book.equity.reindex(pd.DatetimeIndex(orders["date"])).to_numpy()
    turnover = float(np.sum(orders["notional"].to_numpy() / value) / years)
    cost = float(np.sum((orders["fee"] + orders["slippage"]).to_numpy() / value) / years)
    return turnover, cost


CAPPED_SHORTFALL = 1e-4  # of the book's value: a buy short by more than 1 bp counts as capped


def capped_buys(book: Book) -> int:
    """Buys capped at the cash there was by more than :data:`CAPPED_SHORTFALL` of the book (a
    rebalance with costs always leaves its buys a few bps short: the sells' fees and slippage)."""
    o = book.orders
    if not len(o):
        return 0
    value = book.equity.reindex(pd.DatetimeIndex(o["date"])).to_numpy()
    return int(np.sum(o["shortfall"].to_numpy() > CAPPED_SHORTFALL * value))


def book_stats(books: Sequence[Book], static: Mapping[str, Book]) -> pd.DataFrame:
    """One row per book x strategy: CAGR, volatility, Sharpe and Sortino (on returns over the cash
    rate), max drawdown, the CAGR given up vs the static book, average exposure, turnover, trading
    and rebalancing cost per year, orders, capped buys, and the annualisation."""
    rows = []
    for b in books:
        eq = b.equity
        invested = b.weights.sum(axis=1).to_numpy() * eq.to_numpy()
        m = segment_stats(eq.to_numpy(dtype=float), invested, np.zeros(len(eq), np.int64),
                          b.cash_growth.to_numpy(dtype=float), b.periods_per_year)
        base = static[b.name]
        s_cagr = segment_stats(base.equity.to_numpy(dtype=float), np.zeros(len(eq)), np.zeros(len(eq), np.int64),
                               base.cash_growth.to_numpy(dtype=float), b.periods_per_year)["cagr"]
        turnover, cost = order_costs(b)
        _, rebal_cost = order_costs(b, REBALANCE_CAUSES)
        rows.append({"book": b.name, "strategy": b.strategy, "periods_per_year": b.periods_per_year,
                     **{k: m[k] for k in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                                          "calmar")},
                     "static_cagr": s_cagr, "cagr_given_up": s_cagr - m["cagr"],
                     "avg_exposure": float(b.exposure.mean()), "turnover": turnover, "trading_cost": cost,
                     "rebalancing_cost": rebal_cost, "orders": len(b.orders),
                     "capped_buys": capped_buys(b)})
    return pd.DataFrame(rows)


def static_trough(window: SellOffWindow, static_equity: pd.Series) -> pd.Timestamp:
    """The static book's lowest close inside the window (the first one, on a tie)."""
    inside = static_equity.loc[window.start:window.end].dropna()
    return inside.idxmin()


def book_windows(books: Sequence[Book], static: Mapping[str, Book], windows: Mapping[str, SellOffWindow]
                 ) -> pd.DataFrame:
    """One row per book x strategy x window the book's data covers (see the module docstring)."""
    rows = []
    for b in books:
        base = static[b.name]
        for w in windows.values():
            eq = b.equity.dropna()
            if eq.empty or eq.index[0] > w.start or eq.index[-1] < w.end:
                continue
            trough = static_trough(w, base.equity)
            at = dataclasses.replace(w, trough=trough, troughs={})
            m = window_metrics(at, b.name, b.equity, base.equity, b.exposure, b.invested, clock=b.calendar)
            if m is None:
                continue
            rows.append({"book": b.name, "strategy": b.strategy, "window": w.id, "start": format_instant(w.start),
                         "trough": format_instant(trough), "end": format_instant(w.end),
                         "book_return": m["strategy_return"], "static_return": m["bh_return"],
                         "book_max_dd": m["strategy_max_dd"], "static_max_dd": m["bh_max_dd"],
                         **{k: m[k] for k in BOOK_WINDOW_COLUMNS[10:]}})
    return pd.DataFrame(rows, columns=BOOK_WINDOW_COLUMNS)


def average_correlation(returns: pd.DataFrame) -> tuple[float, int]:
    """(mean of the pairwise correlations, number of common returns) of the columns' returns on
    the dates all of them have; NaN with fewer than :data:`MIN_COMMON_RETURNS` common returns."""
    common = returns.dropna()
    n = len(common)
    if n < MIN_COMMON_RETURNS or returns.shape[1] < 2:
        return float("nan"), n
    c = np.corrcoef(common.to_numpy(dtype=float).T)
    iu = np.triu_indices(c.shape[0], 1)
    return float(np.nanmean(c[iu])), n


def nyse_close_sample(hourly_close: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """An hourly series' price at 16:00 New York on each of ``dates``: the close of the bar that opens
    at 15:00 New York (bars are indexed by their UTC open time); NaN where that bar is missing."""
    local = (pd.DatetimeIndex(dates).normalize() + pd.Timedelta(hours=15)).tz_localize("America/New_York")
    opens = local.tz_convert("UTC").tz_localize(None)
    return pd.Series(hourly_close.reindex(opens).to_numpy(), index=pd.DatetimeIndex(dates))


def nyse_close_returns(closes: Mapping[str, pd.Series], clocks: Mapping[str, str]) -> tuple[pd.DataFrame, bool]:
    """Daily returns at NYSE closes: US assets on their sessions; a UTC-day asset's daily close
    taken on each NYSE date (asynchronous: it closes at 00:00 UTC). Returns (returns, asynchronous)."""
    us = [a for a in closes if clocks[a] == "us"]
    if us:
        dates = closes[us[0]].dropna().index
        for a in us[1:]:
            dates = dates.union(closes[a].dropna().index)
    else:
        dates = pd.DatetimeIndex(sorted(set().union(*(closes[a].dropna().index for a in closes))))
    frame = pd.DataFrame({a: closes[a].reindex(dates) for a in closes})
    return frame.pct_change(fill_method=None).iloc[1:], any(clocks[a] == "utc" for a in closes) and bool(us)


def hedge_check(static_books: Sequence[Book], windows: Mapping[str, SellOffWindow], closes: Mapping[str, pd.Series],
                clocks: Mapping[str, str], hourly: Mapping[str, Mapping[str, pd.Series]] | None = None
                ) -> pd.DataFrame:
    """One row per book x window (see the module docstring); ``closes`` per asset on its own bars,
    ``hourly``: UTC-day asset -> {hourly series ID: its hourly closes} to sample at the NYSE close."""
    hourly = hourly or {}
    rows = []
    for b in static_books:
        assets = list(b.book.assets)
        w_of = b.book.weight
        rets, asynchronous = nyse_close_returns({a: closes[a] for a in assets}, clocks)
        eq = b.equity.dropna()
        for w in windows.values():
            if eq.empty or eq.index[0] > w.start or eq.index[-1] < w.end:
                continue
            row: dict = {"book": b.name, "window": w.id, "start": format_instant(w.start),
                         "end": format_instant(w.end)}
            book_dd = max_drawdown(b.equity.loc[w.start:w.end])
            row["static_return"] = float(b.equity.asof(w.end) / b.equity.asof(w.start) - 1.0)
            row["static_max_dd"] = book_dd
            weighted = 0.0
            for a in assets:
                c = closes[a].dropna()
                row[f"return:{a}"] = float(c.asof(w.end) / c.asof(w.start) - 1.0)
                row[f"max_dd:{a}"] = dd = max_drawdown(c.loc[w.start:w.end])
                weighted += w_of.get(a, 0.0) * abs(dd)
            row["weighted_asset_dd"] = -weighted
            row["diversification_gap_pp"] = 100.0 * (weighted - abs(book_dd))
            lo = w.start - pd.Timedelta(days=YEAR_BEFORE_DAYS)
            window_rets, sampled, unsampled = rets, [], []
            for a in assets:
                if clocks[a] != "utc" or not asynchronous:
                    continue
                for sid, series in hourly.get(a, {}).items():
                    have = series.dropna()
                    if len(have) and have.index[0] <= lo and have.index[-1] >= w.end:
                        dates = window_rets.index
                        prices = nyse_close_sample(series, pd.DatetimeIndex([lo, *dates]).sort_values().unique())
                        window_rets = window_rets.assign(**{a: prices.pct_change(fill_method=None).reindex(dates)})
                        sampled.append(f"{a} at 16:00 New York from {sid}")
                        break
                else:
                    unsampled.append(a)
            inside = window_rets.loc[(window_rets.index > w.start) & (window_rets.index <= w.end)]
            before = window_rets.loc[(window_rets.index > lo) & (window_rets.index <= w.start)]
            row["corr_window"], row["n_window"] = average_correlation(inside)
            row["corr_year_before"], row["n_year_before"] = average_correlation(before)
            row["corr_change"] = row["corr_window"] - row["corr_year_before"]
            notes = []
            if row["n_window"] < MIN_COMMON_RETURNS:
                notes.append(f"n/a: {row['n_window']} common NYSE-close returns in the window (< {MIN_COMMON_RETURNS})")
            if sampled:
                notes.append("; ".join(sampled))
            if unsampled:
                notes.append(f"asynchronous: {', '.join(unsampled)} daily close (00:00 UTC) against NYSE closes "
                             "(no hourly series covers the year before and the window)")
            row["corr_note"] = "; ".join(notes)
            rows.append(row)
    return pd.DataFrame(rows)
