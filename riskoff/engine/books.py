"""A book's shared-cash account: assets on different clocks, one cash balance, orders with a cause.

``simulate_book`` runs the shared-cash kernel of ``riskoff.engine.account``
(``simulate_shared_cash_nb``, built from the same order steps as the one-asset account) on a book's
daily union index: every date any of its assets trades, each asset's close NaN on the dates its
market is closed. What differs from ``simulate_portfolio``:

- Fill order within a date follows the UTC instant of each fill: with ``next_close`` a US asset
  fills at the NYSE close (16:00 New York) and a crypto asset at its UTC day's close (00:00 UTC
  the next day), so US fills run first; with ``next_open`` crypto fills at 00:00 UTC and US at the
  09:30 New York open. Each group is sized on the book's value at its own instant (an asset whose
  price is not yet known at that instant is marked at its last close), and cash a later fill
  raises never funds an earlier one.
- A buy larger than the cash available at its instant is capped (a partial fill; the rest is
  dropped, and the ``shortfall`` column of the orders says how many currency units could not be
  spent) - a book never borrows. With costs a rebalance's buys always fall a few bps short (the
  sells' fees and slippage); a shortfall above 1 bp of the book counts as a capped buy in the stats.
- Calendar rebalancing at given bars (``rebalance_at``, every asset) and band rebalancing per
  asset (``band``: an asset whose weight at a bar's close is more than ``band`` from its target
  is re-traded, alone).
- Every order carries a ``cause``: ``initial`` (the first decision), ``rule`` (its target
  changed), ``rebalance`` (calendar) or ``band``; fees and slippage are in the orders table in
  currency units, so the rebalancing cost is the sum over the orders caused only by rebalancing.

Fills, costs and cash are otherwise exactly the single-asset engine's (module docstring of
``riskoff.engine.account``): a decision at bar t fills at the asset's next bar with a price.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskoff.engine.account import (
    CAUSES,
    Costs,
    EngineInputError,
    orders_table,
    prepare_inputs,
    simulate_shared_cash_nb,
)

#: fill groups within a date, in UTC instant order, per fill convention and clock
_SLOTS = {"next_close": {"us": 0, "utc": 1}, "next_open": {"utc": 0, "us": 1}}


@dataclass(frozen=True)
class BookSim:
    """A simulated book.

    Attributes:
        equity: book value at each date's last close (starts at ``init_cash``).
        weights: each asset's held weight at the date's close (the sleeves), after its fills.
        orders: one row per fill in execution order: date, column, side, size (units), price (after
            slippage), notional, fee, slippage (currency units), target, cause, shortfall (currency
            units a capped buy could not spend; 0 for a full fill; a buy with no cash at all has no row).
    """

    equity: pd.Series
    weights: pd.DataFrame
    orders: pd.DataFrame


def fill_slots(clocks: Mapping[str, str], columns, fill: str) -> np.ndarray:
    """The fill group of each column: its rank by UTC fill instant within a date."""
    out = []
    for c in columns:
        clock = clocks.get(c, "us")
        if clock not in ("us", "utc"):
            raise EngineInputError(f"book column {c!r} is on a {clock!r} clock; books are daily only")
        out.append(_SLOTS[fill][clock])
    return np.asarray(out, dtype=np.int64)


@dataclass(frozen=True)
class PreparedBook:
    """A book's engine inputs, checked and converted once (``prepare_book``), so that many target
    paths (the null's shifted sleeves, a sweep's baskets) run through the kernel without pandas."""

    inp: object            # riskoff.engine.account._Inputs
    slot: np.ndarray
    rebal: np.ndarray
    band: float


def prepare_book(close: pd.DataFrame, targets: pd.DataFrame, *, clocks: Mapping[str, str],
                 open: pd.DataFrame | None = None, cash_rate: pd.Series | None = None,
                 costs: Mapping[str, Costs] | Costs = Costs(), fill: str = "next_close",
                 rebalance_at: np.ndarray | None = None, band: float | None = None,
                 init_cash: float = 1.0) -> PreparedBook:
    """Check and convert a book's inputs (arguments as :func:`simulate_book`)."""
    if list(targets.columns) != list(close.columns):
        raise EngineInputError(f"targets columns {list(targets.columns)} differ from close columns "
                               f"{list(close.columns)}")
    total = targets.fillna(0.0).sum(axis=1).to_numpy()
    over = np.flatnonzero(total > 1.0 + 1e-9)
    if len(over):
        raise EngineInputError(f"book targets sum to {total[over[0]]} on {targets.index[over[0]].date()}, above 1")
    slot = fill_slots(clocks, close.columns, fill)
    inp = prepare_inputs(close, targets, np.arange(close.shape[1]), open=open, cash_rate=cash_rate, costs=costs,
                   fill=fill, rebalance=None, rebalance_band=0.05, rebalance_every=0, max_leverage=1.0,
                   init_cash=init_cash)
    n = len(inp.index)
    rebal = np.zeros(n, np.bool_) if rebalance_at is None else np.ascontiguousarray(rebalance_at, dtype=np.bool_)
    if len(rebal) != n:
        raise EngineInputError(f"rebalance_at has {len(rebal)} values for {n} bars")
    return PreparedBook(inp, slot, rebal, float(band) if band is not None else np.inf)


def run_prepared(prep: PreparedBook, target: np.ndarray | None = None, band: float | None = None):
    """The kernel's raw outputs for ``prep`` (or for another (bars, assets) ``target`` array, in
    [0, 1] and summing to at most 1 per bar, and another ``band``): equity (bars, 1), weight,
    fills, cause, sequence, shortfall."""
    inp = prep.inp
    tgt = inp.target if target is None else np.require(target, dtype=np.float64, requirements=["C", "W"])
    return simulate_shared_cash_nb(inp.close, inp.price, tgt, inp.growth, inp.src, inp.fee, inp.slip,
                                    prep.band if band is None else band, 0, 0.0, inp.init_cash, prep.slot,
                                    int(prep.slot.max()) + 1, prep.rebal, True)


def simulate_book(close: pd.DataFrame, targets: pd.DataFrame, *, clocks: Mapping[str, str],
                  open: pd.DataFrame | None = None, cash_rate: pd.Series | None = None,
                  costs: Mapping[str, Costs] | Costs = Costs(), fill: str = "next_close",
                  rebalance_at: np.ndarray | None = None, band: float | None = None,
                  init_cash: float = 1.0) -> BookSim:
    """Simulate one book (see the module docstring).

    Args:
        close: closes on the book's union date index, one column per asset (NaN = closed).
        targets: decided target weights, same index and columns, each in [0, 1], summing to <= 1.
        clocks: asset -> "us" or "utc" (its calendar; intraday clocks are refused).
        open, cash_rate, costs, fill, init_cash: as in ``riskoff.engine.account.simulate``.
        rebalance_at: bools on the index; True = a calendar rebalance decided at that bar's close.
        band: re-trade an asset whose weight drifted more than this from its target (None = off).
    """
    prep = prepare_book(close, targets, clocks=clocks, open=open, cash_rate=cash_rate, costs=costs, fill=fill,
                        rebalance_at=rebalance_at, band=band, init_cash=init_cash)
    inp = prep.inp
    eq, w, fills, cause, seq, short = run_prepared(prep)
    return BookSim(equity=pd.Series(eq[:, 0], index=inp.index, name="book"),
                   weights=pd.DataFrame(w, index=inp.index, columns=inp.columns),
                   orders=_orders(inp, fills, cause, seq, short))


def _orders(inp, fills: np.ndarray, cause: np.ndarray, seq: np.ndarray, short: np.ndarray) -> pd.DataFrame:
    t, j = np.nonzero(fills)
    order = np.lexsort((seq[t, j], t))  # execution order
    t, j = t[order], j[order]
    size = fills[t, j]
    raw = inp.price[t, inp.src[j]]
    px = raw * np.where(size > 0, 1.0 + inp.slip[j], 1.0 - inp.slip[j])
    return orders_table(inp.index, inp.columns, t, j, size, px, np.abs(size) * px * inp.fee[j], inp.target[t - 1, j],
                        slippage=np.abs(size) * raw * inp.slip[j],
                        cause=np.asarray(CAUSES, dtype=object)[cause[t, j]], shortfall=short[t, j])
