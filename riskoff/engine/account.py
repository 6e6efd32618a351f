"""The simulation engine: target exposures in, equity curves out.

Timing. All inputs share one daily bar index. ``exposure`` at bar t is the target decided at
bar t: the fraction of the account's value to hold in the asset, between 0 and ``max_leverage``.
NaN means "no decision yet" and counts as 0 (fully in cash), so a warm-up period sits in cash and
earns the cash rate. The order that implements the decision of bar t fills on bar t+1, never on
bar t: at the close of t+1 (``fill="next_close"``, the default) or its open (``fill="next_open"``).
An account starts at bar 0 all in cash with ``init_cash``; the first fill is on bar 1 at the
earliest.

Orders. An order is sent only when the decided target changes (compared with the previous bar's
decision; before bar 0 the decision counts as 0). Between changes the position is left alone and
its weight drifts with the price, as a real investor's would. Two optional rebalancing rules add
orders back to the current target, decided at a bar's close and filled on the next bar like any
other order: ``rebalance="threshold"`` re-trades when the drifted weight of an asset differs from
its target by more than ``rebalance_band`` (0.05 = 5 points); ``rebalance_every=n`` (n > 0)
re-trades at every bar whose position in the index is a positive multiple of n. Both may be
combined. In a multi-asset account a rebalance re-trades every asset of the account.

Sizing (vectorbt's target-percent convention, matched exactly). At a fill the account is valued
at the fill price (before slippage): V = cash + units x price. The target is w x V / price units.
A sell sells exactly the excess units; its slippage and fee come out of the proceeds. A buy spends
exactly the dollar gap (w x V - current value), fee and slippage included, so the units bought
are gap / (price x (1 + slippage) x (1 + fee)); the post-trade weight is therefore a few bps
under target. This is what vectorbt does when its buy is cash-limited ("partial fill"), which is
always the case on the [asset, CASH] construction below once costs are non-zero. A buy never
takes cash below -(max_leverage - 1) x V; that cap only binds in multi-asset accounts (untraded
assets drifted above target, or a buy on a day the asset funding it is closed). A capped buy is a
partial fill: the rest is dropped, not kept pending (a rebalancing rule tops it up later).
A fill worth less than 1e-12 of the account (float residue of a target already met) is skipped.

Costs. ``fee_bps`` is a commission on traded notional (notional = units x fill price after
slippage); ``slippage_bps`` moves the fill price against the trade (buys pay price x (1 + s),
sells get price x (1 - s)). ``DEFAULT_COSTS`` holds defaults per asset class: equity, index, bond
and fx 1 bp fee + 2 bps slippage, commodity 1 + 3, volatility 2 + 5, crypto 10 + 5.

Cash. Uninvested cash earns ``cash_rate`` (annual, in percent, point-in-time: the value at bar t is
the rate for the period ending at t). From bar t-1 to bar t cash grows by
1 + rate_t / 100 x days(t-1, t) / 360 (ACT/360 on the calendar days between the bars' dates, so a
Friday-to-Monday gap earns 3 days). Interest accrues on the balance held at the previous close,
before bar t's fill. A NaN rate accrues nothing. With leverage (exposure > 1) cash is negative and
pays the same rate.

Calendars and missing prices. A NaN close means the asset does not trade that bar (a weekend for
an equity on a 7-day crypto index, a holiday, a gap). A pending order waits for the next bar with
a price; a newer decision replaces it. For valuation the last close is carried forward: the
position is unchanged, nothing is filled at the carried price. With ``fill="next_open"`` a bar
trades only if both its open and close are present. An account whose value falls to zero or below
stops trading (as in vectorbt).

Engines. The numba path steps bar by bar with shared per-bar functions: ``account_bar_nb``
advances a one-asset account (cash accrual, a pending fill, valuation, the bar's decision) and is
built from the order steps ``order_gap_nb``, ``sell_nb``, ``buy_nb`` and ``accrue_cash_nb``;
``simulate`` runs one such account per column, ``simulate_portfolio`` runs the same order steps
on a shared cash balance (sells first), and the sweep kernels and the event-driven engine call
the same functions.
``to_vectorbt`` builds the same simulation as a ``vbt.Portfolio`` (``simulate(engine="vectorbt")``
wraps it): each account is a cash-sharing group [asset, CASH] where CASH is a synthetic price
index compounding ``cash_rate``; orders are ``size_type="targetpercent"`` (w on the asset,
1 - w on CASH) placed only on fill bars, ``call_seq="auto"`` so the selling leg goes first, and
bar 0 moves the initial cash into CASH. Leverage is a short CASH position. The two engines agree
to ~1e-12 on next_close and next_open fills, NaN gaps, leverage and periodic rebalancing.
Threshold rebalancing cannot be expressed in ``from_orders`` (the order schedule depends on the
simulated weights), nor can ``simulate_portfolio`` (vectorbt sizes a cash-short buy in its own
call order, not ours); both are numba only.

How this differs from vectorbt's defaults: vectorbt fills an order on the bar of its size array
(here always one bar later); it pays no interest on cash; its NaN size means "no order" (here NaN
exposure means target 0); it values a NaN close as NaN (here the last close is carried); its
default call sequence is column order (here sells before buys); its default init_cash is 100
(here 1.0); and it allows shorting (here exposures are long-only, in [0, max_leverage]).
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numba import njit

from riskoff.util.errors import RiskoffError

if TYPE_CHECKING:
    import vectorbt as vbt

__all__ = ["Costs", "DEFAULT_COSTS", "EngineInputError", "SimResult", "simulate", "simulate_portfolio",
           "to_vectorbt", "AccountState", "initial_account_state", "account_bar_nb", "accrue_cash_nb", "order_gap_nb",
           "sell_nb", "buy_nb", "weight_nb", "cash_growth", "simulate_shared_cash_nb", "prepare_inputs", "CAUSES"]

FILLS = ("next_close", "next_open")
REBALANCES = (None, "threshold")
ENGINES = ("numba", "vectorbt")
_TOL = 1e-12  # slack on bounds checks for weights that went through float arithmetic


class EngineInputError(RiskoffError, ValueError):
    """Bad input to the engine (also a ValueError): the message names the column and the date."""


@dataclass(frozen=True)
class Costs:
    """Trading costs of one asset.

    Args:
        fee_bps: commission in basis points of traded notional.
        slippage_bps: fill price moved against the trade, in basis points.
    """

    fee_bps: float = 0.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        if not (0 <= self.fee_bps < 10_000 and 0 <= self.slippage_bps < 10_000):
            raise EngineInputError(f"Costs({self.fee_bps}, {self.slippage_bps}): bps must be in [0, 10000)")


DEFAULT_COSTS: dict[str, Costs] = {
    "equity": Costs(1.0, 2.0),
    "index": Costs(1.0, 2.0),
    "bond": Costs(1.0, 2.0),
    "commodity": Costs(1.0, 3.0),
    "fx": Costs(1.0, 2.0),
    "volatility": Costs(2.0, 5.0),
    "crypto": Costs(10.0, 5.0),
}


@dataclass(frozen=True)
class SimResult:
    """Output of a simulation.

    Attributes:
        equity: account value at each bar's close, one column per account; starts at init_cash.
        returns: simple return per bar (0 on the first bar).
        exposure: actual (drifted) weight of each asset at each bar's close, after that bar's fills.
        orders: one row per fill: date, column, side ("buy"/"sell"), size (units, > 0), price
            (after slippage), notional (size x price), fee, target (the weight the order aimed at).
    """

    equity: pd.DataFrame
    returns: pd.DataFrame
    exposure: pd.DataFrame
    orders: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# per-bar steps (numba): the only implementation of fills, costs and cash. ``simulate``, the
# shared-cash ``simulate_portfolio``, the sweep kernels and the event-driven engine all call them.

#: the state of a one-asset account between bars (passed by value: numba keeps it in registers)
AccountState = namedtuple("AccountState", [
    "cash",      # cash balance (negative when leveraged)
    "units",     # units of the asset held
    "last",      # last close seen (valuation price carried over bars without a price)
    "decided",   # the latest decided target weight
    "pending",   # an order towards ``decided`` waits for the next bar with a price
])


@njit(cache=True)
def initial_account_state(init_cash: float) -> AccountState:
    """All in cash, nothing decided."""
    return AccountState(init_cash, 0.0, np.nan, 0.0, False)


@njit(cache=True)
def accrue_cash_nb(cash: float, growth: float) -> float:
    """Cash after one period of interest (``growth`` = 1 + rate x days / 360)."""
    return cash * growth


@njit(cache=True)
def order_gap_nb(decided: float, value: float, price: float, units: float) -> float:
    """Units to trade so the position is ``decided`` x ``value`` at ``price``.

    0 for a float residue of a target already met (under 1e-12 of the account): not an order.
    """
    gap = decided * value / price - units
    if abs(gap) * price <= 1e-12 * value:
        return 0.0
    return gap


@njit(cache=True)
def sell_nb(gap: float, price: float, fee: float, slip: float) -> float:
    """Cash received for selling ``-gap`` units: slippage moves the price down, the fee is on notional."""
    notional = -gap * price * (1.0 - slip)
    return notional - notional * fee


@njit(cache=True)
def buy_nb(gap: float, price: float, cash: float, floor: float, fee: float, slip: float):
    """(cash spent, units bought) for a buy of ``gap`` units, never taking cash below ``floor``.

    The dollar gap is spent fee and slippage included (vectorbt's cash-limited target-percent buy);
    a capped buy is a partial fill.
    """
    spend = min(gap * price, cash - floor)
    if spend > 0.0:
        return spend, spend / (price * (1.0 + slip) * (1.0 + fee))
    return 0.0, 0.0


@njit(cache=True)
def weight_nb(position_value: float, equity: float) -> float:
    """The held weight: position value / equity, NaN when the account is worth nothing."""
    if not equity > 0.0:
        return np.nan
    return position_value / equity if position_value != 0.0 else 0.0


@njit(cache=True, inline="always")
def account_bar_nb(state: AccountState, t: int, price: float, close: float, growth: float, target: float,
                   fee: float, slip: float, floor_frac: float, band: float, rebalance: bool):
    """One bar of a one-asset account: (state, equity, position value, units filled).

    In order: cash accrues from the previous bar (t > 0); a pending order fills at ``price`` when
    the bar has a price and the account is worth something; the account is valued at ``close``
    (the last close carried when NaN); the decision of bar t is taken (an order is pending when
    the target changed, the held weight drifted more than ``band`` from it, or ``rebalance``).
    """
    cash, units, last, decided, pending = state
    if t > 0:
        cash = accrue_cash_nb(cash, growth)
    filled = 0.0
    if pending and not (np.isnan(close) or np.isnan(price)):
        value = cash + units * price if units != 0.0 else cash
        if value > 0.0:
            pending = False
            gap = order_gap_nb(decided, value, price, units)
            if gap < 0.0:
                cash += sell_nb(gap, price, fee, slip)
                units += gap
                filled = gap
            elif gap > 0.0:
                spend, q = buy_nb(gap, price, cash, floor_frac * value, fee, slip)
                if spend > 0.0:
                    cash -= spend
                    units += q
                    filled = q
    if not np.isnan(close):
        last = close
    pv = units * last if units != 0.0 else 0.0
    equity = cash + pv
    # the drift test divides: only with a finite band (sweeps pass inf and skip it)
    if rebalance or (band < np.inf and abs(weight_nb(pv, equity) - target) > band):
        pending = True
    if target != decided:
        decided = target
        pending = True
    return AccountState(cash, units, last, decided, pending), equity, pv, filled


# nogil: callers may run independent batches (e.g. the null of different strategies) in threads
@njit(cache=True, nogil=True)
def _simulate_accounts_nb(close_t, price_t, target_t, growth, src, fee, slip, band, every, floor_frac,
                          init_cash):  # pragma: no cover - compiled
    """Independent one-asset accounts, one per target column, each stepped by ``account_bar_nb``.

    Arrays come transposed, (columns, bars), so that each account walks contiguous memory; so do
    the outputs: equity, weight and signed units filled, each (accounts, bars).
    """
    n, n_bars = target_t.shape
    equity = np.empty((n, n_bars))
    weight = np.empty((n, n_bars))
    fills = np.zeros((n, n_bars))
    for j in range(n):
        state = initial_account_state(init_cash)
        k = src[j]
        for t in range(n_bars):
            periodic = every > 0 and t > 0 and t % every == 0
            state, eq, pv, filled = account_bar_nb(state, t, price_t[k, t], close_t[k, t], growth[t],
                                                   target_t[j, t], fee[j], slip[j], floor_frac, band, periodic)
            equity[j, t] = eq
            weight[j, t] = weight_nb(pv, eq)
            fills[j, t] = filled
    return equity, weight, fills


#: why a shared-cash order was sent (the ``cause`` output of ``simulate_shared_cash_nb``)
CAUSES = ("", "initial", "rule", "rebalance", "band")
_INITIAL, _RULE, _REBALANCE, _BAND = 1, 2, 3, 4


@njit(cache=True)
def simulate_shared_cash_nb(close, price, target, growth, src, fee, slip, band, every, cash_floor,
                             init_cash, slot, n_slots, rebal, band_each):  # pragma: no cover - compiled
    """One account holding every column with a shared cash balance (``simulate_portfolio``, books).

    The same order steps as a one-asset account. Within a bar the fills run in ``n_slots`` groups,
    in the order of ``slot[j]`` (the UTC instant an asset's fill happens on that date: a US close
    before the crypto day's close at 00:00 UTC). Each group is sized on the account's value at its
    own instant (assets of this or an earlier group marked at this bar's fill price, the others at
    their last close), its sells run first and fund its buys, and cash a later group raises is never
    available to an earlier one. With one slot this is the plain two-pass bar: every fill sized on
    the same pre-trade value, sells first.

    Orders are sent when an asset's target changes (cause ``rule``; ``initial`` for its first
    target), when
    ``rebal[t]`` (a calendar rebalance decided at bar t's close, every asset, cause ``rebalance``),
    every ``every`` bars (cause ``rebalance``), and when a held weight drifts more than ``band`` from
    its target: only that asset when ``band_each``, else every asset (cause ``band``). A rule change
    overrides the cause of an order still waiting; a rebalance never relabels a rule's order.
    Buys run from the smallest dollar gap to the largest (vectorbt's ``call_seq="auto"``), so when
    cash runs short the largest buy is capped. Returns equity (bars, 1), weight, signed units
    filled, the cause code per fill (bars, cols), each fill's position in its bar's execution
    sequence (1, 2, ...) and the dollars a capped buy could not spend (0 for a full fill).
    """
    n_bars, n_cols = target.shape
    equity = np.empty((n_bars, 1))
    weight = np.zeros((n_bars, n_cols))
    fills = np.zeros((n_bars, n_cols))
    cause = np.zeros((n_bars, n_cols), dtype=np.int8)
    cash = init_cash
    units = np.zeros(n_cols)
    last = np.full(n_cols, np.nan)
    decided = np.zeros(n_cols)
    pending = np.zeros(n_cols, dtype=np.bool_)
    why = np.zeros(n_cols, dtype=np.int8)
    entered = np.zeros(n_cols, dtype=np.bool_)
    seq = np.zeros((n_bars, n_cols), dtype=np.int32)
    short = np.zeros((n_bars, n_cols))
    gap = np.zeros(n_cols)
    val = np.zeros(n_cols)
    for t in range(n_bars):
        if t > 0:
            cash = accrue_cash_nb(cash, growth[t])
        n_seq = 0
        for s in range(n_slots):
            n_fill = 0
            value = cash
            for j in range(n_cols):
                p = price[t, src[j]]
                live = not (np.isnan(close[t, src[j]]) or np.isnan(p))
                if live and pending[j] and slot[j] == s:
                    n_fill += 1
                if units[j] != 0.0:
                    # an asset whose fill instant today is at or before this group's is marked at
                    # today's price; a later one is still at its last close
                    value += units[j] * (p if live and slot[j] <= s else last[j])
            if n_fill == 0 or not value > 0.0:
                continue
            floor = cash_floor * value
            for j in range(n_cols):
                p = price[t, src[j]]
                gap[j] = 0.0
                if slot[j] == s and pending[j] and not (np.isnan(close[t, src[j]]) or np.isnan(p)):
                    pending[j] = False
                    gap[j] = order_gap_nb(decided[j], value, p, units[j])
            for j in range(n_cols):  # sells first: they fund the buys of the same instant
                if gap[j] < 0.0:
                    cash += sell_nb(gap[j], price[t, src[j]], fee[j], slip[j])
                    units[j] += gap[j]
                    fills[t, j] = gap[j]
                    cause[t, j] = why[j]
                    n_seq += 1
                    seq[t, j] = n_seq
            # buys from the smallest to the largest dollar gap (vectorbt's call_seq="auto"): when cash
            # runs short, the largest buy is the one capped
            for j in range(n_cols):
                val[j] = gap[j] * price[t, src[j]] if gap[j] > 0.0 else np.inf
            order = np.argsort(val, kind="mergesort")
            for k in range(n_cols):
                j = order[k]
                if not gap[j] > 0.0:
                    break
                want = gap[j] * price[t, src[j]]
                spend, q = buy_nb(gap[j], price[t, src[j]], cash, floor, fee[j], slip[j])
                if spend > 0.0:
                    cash -= spend
                    units[j] += q
                    fills[t, j] = q
                    cause[t, j] = why[j]
                    short[t, j] = want - spend  # > 0: a buy capped at the cash there was
                    n_seq += 1
                    seq[t, j] = n_seq
        eq = cash
        for j in range(n_cols):
            c = close[t, src[j]]
            if not np.isnan(c):
                last[j] = c
            if units[j] != 0.0:
                eq += units[j] * last[j]
        equity[t, 0] = eq
        every_asset = (every > 0 and t > 0 and t % every == 0) or rebal[t]
        every_why = _REBALANCE
        for j in range(n_cols):
            weight[t, j] = weight_nb(units[j] * last[j] if units[j] != 0.0 else 0.0, eq)
            if abs(weight[t, j] - target[t, j]) > band:
                if band_each:
                    if not pending[j]:
                        pending[j] = True
                        why[j] = _BAND
                elif not every_asset:
                    every_asset = True
                    every_why = _BAND
            if target[t, j] != decided[j]:
                # the first decision to hold an asset at all is its entry, not a rule's move
                why[j] = _RULE if entered[j] else _INITIAL
                entered[j] = True
                decided[j] = target[t, j]
                pending[j] = True
        if every_asset:
            for j in range(n_cols):
                if not pending[j]:
                    pending[j] = True
                    why[j] = every_why
    return equity, weight, fills, cause, seq, short


# ---------------------------------------------------------------------------------------------
# input preparation (shared by both engines)


@dataclass(frozen=True)
class _Inputs:
    index: pd.DatetimeIndex
    columns: pd.Index          # asset columns (one per account in simulate)
    close: np.ndarray          # (bars, k)
    price: np.ndarray          # (bars, k) fill prices
    src: np.ndarray            # (n,) int64
    target: np.ndarray         # (bars, n), NaN -> 0
    growth: np.ndarray         # (bars,)
    fee: np.ndarray            # (n,)
    slip: np.ndarray           # (n,)
    band: float
    every: int
    max_leverage: float
    init_cash: float


def _kernel_array(a: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    # pandas hands out read-only views, and numba compiles a separate kernel per array flavour;
    # one flavour (C-contiguous, writeable) keeps it to a single compile and a single cache entry.
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def _frame(x: pd.Series | pd.DataFrame, default_name: str) -> pd.DataFrame:
    if isinstance(x, pd.Series):
        return x.to_frame(x.name if x.name is not None else default_name)
    if isinstance(x, pd.DataFrame):
        return x
    raise EngineInputError(f"expected a pandas Series or DataFrame, got {type(x).__name__}")


def _check_index(index: pd.Index, other: pd.Index, what: str) -> None:
    if not index.equals(other):
        diff = other.symmetric_difference(index)
        first = diff[0] if len(diff) else "order differs"
        raise EngineInputError(f"{what} index does not match the close index (first difference: {first})")


def _check_prices(values: np.ndarray, columns: pd.Index, index: pd.Index, what: str) -> None:
    bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise EngineInputError(f"{what} column {columns[j]!r}: price {values[t, j]} on "
                               f"{index[t].date()} is not a positive number")


def _check_weights(values: np.ndarray, columns: pd.Index, index: pd.Index, max_leverage: float,
                   what: str) -> None:
    bad = ~np.isnan(values) & ~((values >= 0) & (values <= max_leverage + _TOL))
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise EngineInputError(f"{what} column {columns[j]!r}: value {values[t, j]} on {index[t].date()} "
                               f"is outside [0, {max_leverage}]")


def cash_growth(cash_rate: pd.Series | None, index: pd.DatetimeIndex) -> np.ndarray:
    """1 + the cash return of each bar: rate_t / 100 x days elapsed since the previous bar / 360
    (ACT/360; growth[0] = 1). ``cash_rate`` is annual, in percent, on ``index``; NaN earns nothing."""
    growth = np.ones(len(index))
    if cash_rate is None:
        return growth
    if not isinstance(cash_rate, pd.Series):
        raise EngineInputError(f"cash_rate must be a pandas Series, got {type(cash_rate).__name__}")
    _check_index(index, cash_rate.index, "cash_rate")
    rate = np.nan_to_num(cash_rate.to_numpy(dtype=float), nan=0.0)
    # Elapsed time between bars in days (ACT/360 per bar: an hourly run earns what a daily one
    # does). Daily bars count calendar days between their local dates, so a tz-aware index
    # crossing a DST change still counts whole days.
    stamps = index.tz_localize(None) if index.tz is not None else index
    intraday = len(stamps) and (stamps != stamps.normalize()).any()
    dates = stamps if intraday else stamps.normalize()
    days = np.asarray((dates[1:] - dates[:-1]) / pd.Timedelta(days=1), dtype=float)
    growth[1:] = 1.0 + rate[1:] / 100.0 * days / 360.0
    return growth


def _cost_arrays(costs: Costs | Mapping[str, Costs], columns: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(costs, Costs):
        per_col = [costs] * len(columns)
    else:
        missing = [c for c in columns if c not in costs]
        if missing:
            raise EngineInputError(f"costs: no entry for column {missing[0]!r}; given: {sorted(map(str, costs))}")
        per_col = [costs[c] for c in columns]
    fee = np.array([c.fee_bps for c in per_col], dtype=float) / 1e4
    slip = np.array([c.slippage_bps for c in per_col], dtype=float) / 1e4
    return fee, slip


def _prepare(close: pd.DataFrame, target: pd.DataFrame, src: np.ndarray, *, open, cash_rate, costs, fill,
             rebalance, rebalance_band, rebalance_every, max_leverage, init_cash) -> _Inputs:
    index = close.index
    if not isinstance(index, pd.DatetimeIndex):
        raise EngineInputError(f"close must have a DatetimeIndex, got {type(index).__name__}")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise EngineInputError("close index must be increasing and without duplicates")
    _check_index(index, target.index, "exposure")
    if fill not in FILLS:
        raise EngineInputError(f"fill = {fill!r}; expected one of {list(FILLS)}")
    if rebalance not in REBALANCES:
        raise EngineInputError(f"rebalance = {rebalance!r}; expected one of {list(REBALANCES)}")
    if rebalance == "threshold" and not rebalance_band > 0:
        raise EngineInputError(f"rebalance_band = {rebalance_band!r}; expected a number > 0")
    if isinstance(rebalance_every, bool) or not isinstance(rebalance_every, (int, np.integer)) or rebalance_every < 0:
        raise EngineInputError(f"rebalance_every = {rebalance_every!r}; expected a whole number >= 0")
    if not (np.isfinite(max_leverage) and max_leverage > 0):
        raise EngineInputError(f"max_leverage = {max_leverage!r}; expected a number > 0")
    if not (np.isfinite(init_cash) and init_cash > 0):
        raise EngineInputError(f"init_cash = {init_cash!r}; expected a number > 0")

    close_v = _kernel_array(close.to_numpy(dtype=float))
    _check_prices(close_v, close.columns, index, "close")
    if fill == "next_open":
        if open is None:
            raise EngineInputError("fill='next_open' needs the open prices (open=...)")
        if isinstance(open, pd.Series) and close.shape[1] == 1:
            open = open.to_frame(close.columns[0])  # a Series is the open of the one close column
        open_f = _frame(open, str(close.columns[0]))
        _check_index(index, open_f.index, "open")
        if list(open_f.columns) != list(close.columns):
            raise EngineInputError(f"open columns {list(open_f.columns)} differ from close columns "
                                   f"{list(close.columns)}")
        price_v = _kernel_array(open_f.to_numpy(dtype=float))
        _check_prices(price_v, close.columns, index, "open")
    else:
        price_v = close_v

    target_v = target.to_numpy(dtype=float)
    _check_weights(target_v, target.columns, index, max_leverage, "exposure")
    fee, slip = _cost_arrays(costs, target.columns)
    return _Inputs(index=index, columns=target.columns, close=close_v, price=price_v,
                   src=_kernel_array(src, np.int64),
                   target=_kernel_array(np.nan_to_num(target_v, nan=0.0)),
                   growth=cash_growth(cash_rate, index), fee=fee, slip=slip,
                   band=float(rebalance_band) if rebalance == "threshold" else np.inf,
                   every=int(rebalance_every), max_leverage=float(max_leverage), init_cash=float(init_cash))


def _run_kernel(inp: _Inputs, shared_cash: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if shared_cash:
        n_cols = inp.target.shape[1]
        eq, w, f, _, _, _ = simulate_shared_cash_nb(inp.close, inp.price, inp.target, inp.growth, inp.src, inp.fee,
                                               inp.slip, inp.band, inp.every, 1.0 - inp.max_leverage, inp.init_cash,
                                               np.zeros(n_cols, np.int64), 1, np.zeros(len(inp.index), np.bool_),
                                               False)
        return eq, w, f
    # one account at a time walks each column: hand the kernel (columns, bars) arrays
    close_t = np.ascontiguousarray(inp.close.T)
    price_t = close_t if inp.price is inp.close else np.ascontiguousarray(inp.price.T)
    eq, w, f = _simulate_accounts_nb(close_t, price_t, np.ascontiguousarray(inp.target.T), inp.growth, inp.src,
                                     inp.fee, inp.slip, inp.band, inp.every, 1.0 - inp.max_leverage, inp.init_cash)
    return eq.T, w.T, f.T


def orders_table(index: pd.Index, columns: pd.Index, t: np.ndarray, j: np.ndarray, size: np.ndarray,
                 price: np.ndarray, fee: np.ndarray, target: np.ndarray, **extra: np.ndarray) -> pd.DataFrame:
    """The orders table every account writes, one row per fill already in execution order: bar ``t``,
    column ``j``, signed ``size`` (units; > 0 buys), fill ``price`` with slippage, ``fee`` paid and the
    ``target`` the order aimed at; ``extra`` columns follow (a book's cause and shortfall)."""
    buy = size > 0
    return pd.DataFrame({
        "date": index[t],
        "column": columns[j],
        "side": np.where(buy, "buy", "sell"),
        "size": np.abs(size),
        "price": price,
        "notional": np.abs(size) * price,
        "fee": fee,
        "target": target,
        **extra,
    })


def _orders_frame(inp: _Inputs, t: np.ndarray, j: np.ndarray, size: np.ndarray, price: np.ndarray,
                  fee: np.ndarray) -> pd.DataFrame:
    order = np.lexsort((j, size > 0, t))  # execution order: per bar, sells before buys
    t, j, size, price, fee = t[order], j[order], size[order], price[order], fee[order]
    # fills are on bar >= 1; the target is the latest decision
    return orders_table(inp.index, inp.columns, t, j, size, price, fee, inp.target[t - 1, j])


def _result(inp: _Inputs, equity: np.ndarray, equity_cols: pd.Index, weight: np.ndarray,
            orders: pd.DataFrame) -> SimResult:
    eq = pd.DataFrame(equity, index=inp.index, columns=equity_cols)
    prev = eq.shift(1)
    prev.iloc[0] = eq.iloc[0]
    return SimResult(equity=eq, returns=eq / prev - 1.0,
                     exposure=pd.DataFrame(weight, index=inp.index, columns=inp.columns), orders=orders)


def _kernel_orders(inp: _Inputs, fills: np.ndarray) -> pd.DataFrame:
    t, j = np.nonzero(fills)
    size = fills[t, j]
    px = inp.price[t, inp.src[j]] * np.where(size > 0, 1.0 + inp.slip[j], 1.0 - inp.slip[j])
    return _orders_frame(inp, t, j, size, px, np.abs(size) * px * inp.fee[j])


# ---------------------------------------------------------------------------------------------
# public API


def prepare_inputs(close: pd.DataFrame, target: pd.DataFrame, src: np.ndarray, **kw) -> _Inputs:
    """The engine's checked input arrays for ``close`` and ``target`` columns (``src[j]``: the close
    column of target column j); ``kw`` as :func:`simulate` (open, cash_rate, costs, fill, rebalance,
    rebalance_band, rebalance_every, max_leverage, init_cash). The book engine prepares with it."""
    return _prepare(close, target, src, **kw)


def single_inputs(close, exposure, **kw) -> _Inputs:
    """The engine's prepared input arrays (close, fill price, cash growth, fees ...) for one close
    series or frame and its target exposure; ``kw`` as :func:`simulate` (open, cash_rate, costs, fill,
    rebalance, rebalance_band, rebalance_every, max_leverage, init_cash)."""
    close_f = _frame(close, "asset")
    if isinstance(exposure, pd.Series):
        if isinstance(close, pd.Series):
            name = close.name if close.name is not None else exposure.name
            close_f = close.to_frame("asset" if name is None else name)
        target = pd.DataFrame({c: exposure for c in close_f.columns}, index=exposure.index)
        src = np.arange(close_f.shape[1])
    elif isinstance(exposure, pd.DataFrame):
        target = exposure
        if isinstance(close, pd.Series):
            src = np.zeros(target.shape[1], dtype=np.int64)  # many exposure columns on one asset
        else:
            if list(close_f.columns) != list(target.columns):
                raise EngineInputError(f"exposure columns {list(target.columns)} differ from close columns "
                                       f"{list(close_f.columns)}")
            src = np.arange(close_f.shape[1])
    else:
        raise EngineInputError(f"exposure must be a pandas Series or DataFrame, got {type(exposure).__name__}")
    return _prepare(close_f, target, src, **kw)


def simulate(close: pd.Series | pd.DataFrame, exposure: pd.Series | pd.DataFrame, *,
             open: pd.Series | pd.DataFrame | None = None, cash_rate: pd.Series | None = None,
             costs: Costs | Mapping[str, Costs] = Costs(), fill: str = "next_close",
             rebalance: str | None = None, rebalance_band: float = 0.05, rebalance_every: int = 0,
             max_leverage: float = 1.0, init_cash: float = 1.0, engine: str = "numba") -> SimResult:
    """Simulate independent single-asset accounts (asset + its own cash), one per column.

    Columns are matched as follows: a close Series with an exposure DataFrame runs every exposure
    column on that one asset (a parameter sweep); a close DataFrame with an exposure DataFrame
    needs the same columns; an exposure Series is applied to every close column.

    Args:
        close: closing prices; NaN = the asset does not trade that bar.
        exposure: decided target weight per bar in [0, max_leverage]; NaN = no decision (cash).
        open: opening prices, same shape as close; required for fill="next_open".
        cash_rate: annual money-market rate in percent on the close index (None = no interest).
        costs: one Costs for every column, or a mapping column -> Costs.
        fill: "next_close" or "next_open" (of the bar after the decision).
        rebalance: None or "threshold" (re-trade when |weight - target| > rebalance_band).
        rebalance_band: band for threshold rebalancing, in weight units.
        rebalance_every: re-trade to target every n bars (0 = never).
        max_leverage: upper bound on exposure; above 1 the cash goes negative and pays cash_rate.
        init_cash: starting value of each account.
        engine: "numba" (default) or "vectorbt" (slower; no threshold rebalancing).

    Returns:
        SimResult with one equity/exposure column per account.

    Raises:
        EngineInputError (a ValueError): mismatched indexes or columns, exposure out of bounds,
            non-positive prices or invalid options; the message names the column and first date.
    """
    if engine not in ENGINES:
        raise EngineInputError(f"engine = {engine!r}; expected one of {list(ENGINES)}")
    inp = single_inputs(close, exposure, open=open, cash_rate=cash_rate, costs=costs, fill=fill,
                         rebalance=rebalance, rebalance_band=rebalance_band, rebalance_every=rebalance_every,
                         max_leverage=max_leverage, init_cash=init_cash)
    if engine == "vectorbt":
        return _from_vectorbt(inp, _vectorbt_portfolio(inp))
    equity, weight, fills = _run_kernel(inp, shared_cash=False)
    return _result(inp, equity, inp.columns, weight, _kernel_orders(inp, fills))


def simulate_portfolio(close: pd.DataFrame, weights: pd.DataFrame, *,
                       open: pd.DataFrame | None = None, cash_rate: pd.Series | None = None,
                       costs: Mapping[str, Costs] | Costs = Costs(), fill: str = "next_close",
                       rebalance: str | None = None, rebalance_band: float = 0.05, rebalance_every: int = 0,
                       max_leverage: float = 1.0, init_cash: float = 1.0) -> SimResult:
    """Simulate one account holding several assets with a shared cash balance (numba only).

    Each asset gets its own orders when its own target changes; on a bar, every fill of the
    account is sized on the same pre-trade value and sells run before buys. Assets on different
    calendars share a union index (e.g. every day) with NaN closes on days an asset is closed; its
    orders wait for its next trading day.

    Args:
        close: closing prices, one column per asset.
        weights: decided target weights, same index and columns as close; each in
            [0, max_leverage] and summing to at most max_leverage per bar; NaN = 0.
        open, cash_rate, costs, fill, rebalance, rebalance_band, rebalance_every, max_leverage,
        init_cash: as in ``simulate``. ``costs`` is usually a mapping asset -> Costs (e.g. from
            ``DEFAULT_COSTS`` by asset class).

    Returns:
        SimResult with one equity column "portfolio" and one exposure column per asset.

    Raises:
        EngineInputError (a ValueError): as in ``simulate``, plus weights summing above max_leverage.
    """
    if not isinstance(close, pd.DataFrame) or not isinstance(weights, pd.DataFrame):
        raise EngineInputError("simulate_portfolio needs DataFrames for close and weights")
    if sorted(map(str, weights.columns)) != sorted(map(str, close.columns)) or weights.columns.has_duplicates:
        raise EngineInputError(f"weights columns {list(weights.columns)} differ from close columns "
                               f"{list(close.columns)}")
    weights = weights[close.columns]
    total = weights.fillna(0.0).sum(axis=1).to_numpy()
    over = np.flatnonzero(total > max_leverage + _TOL)
    if len(over):
        raise EngineInputError(f"weights sum to {total[over[0]]} on {weights.index[over[0]].date()}, "
                               f"above max_leverage {max_leverage}")
    inp = _prepare(close, weights, np.arange(close.shape[1]), open=open, cash_rate=cash_rate, costs=costs,
                   fill=fill, rebalance=rebalance, rebalance_band=rebalance_band,
                   rebalance_every=rebalance_every, max_leverage=max_leverage, init_cash=init_cash)
    equity, weight, fills = _run_kernel(inp, shared_cash=True)
    return _result(inp, equity, pd.Index(["portfolio"]), weight, _kernel_orders(inp, fills))


# ---------------------------------------------------------------------------------------------
# vectorbt path


def _vectorbt_portfolio(inp: _Inputs) -> vbt.Portfolio:
    import vectorbt as vbt

    if np.isfinite(inp.band):
        raise EngineInputError("threshold rebalancing depends on simulated weights and has no vectorbt "
                               "from_orders equivalent; use engine='numba'")
    n_bars, n = inp.target.shape
    bars = np.arange(n_bars)
    cash_index = np.cumprod(np.r_[1.0, inp.growth[1:]])
    close = inp.close[:, inp.src]
    price = inp.price[:, inp.src]
    live = ~np.isnan(close) & ~np.isnan(price)

    # Order schedule: a decision (target change or periodic rebalance) at bar t fills on the first
    # bar after t where the asset trades.
    prev = np.vstack([np.zeros((1, n)), inp.target[:-1]])
    decide = inp.target != prev
    if inp.every > 0:
        decide[(bars > 0) & (bars % inp.every == 0)] = True
    next_live = np.where(live, bars[:, None], n_bars)
    next_live = np.minimum.accumulate(next_live[::-1], axis=0)[::-1]
    fill_at = np.vstack([next_live[1:], np.full((1, n), n_bars)])  # first live bar strictly after t
    fill = np.zeros((n_bars + 1, n), dtype=bool)
    t_dec, j_dec = np.nonzero(decide)
    fill[fill_at[t_dec, j_dec], j_dec] = True
    fill = fill[:n_bars]

    # Columns interleaved per account: (col, "asset"), (col, "CASH").
    size = np.full((n_bars, 2 * n), np.nan)
    order_price = np.full((n_bars, 2 * n), np.nan)
    lagged = np.vstack([np.zeros((1, n)), inp.target[:-1]])
    size[:, 0::2] = np.where(fill, lagged, np.nan)
    size[:, 1::2] = np.where(fill, 1.0 - lagged, np.nan)
    size[0, 1::2] = 1.0  # move the initial cash into CASH so it earns the rate
    order_price[:, 0::2] = np.where(fill, price, np.nan)
    order_price[:, 1::2] = np.where(fill, cash_index[:, None], np.nan)
    order_price[0, 1::2] = cash_index[0]
    # Valuation close: carried forward (and back before the first price, where the position is 0).
    val_close = pd.DataFrame(close).ffill().bfill().to_numpy()
    vclose = np.empty((n_bars, 2 * n))
    vclose[:, 0::2] = val_close
    vclose[:, 1::2] = cash_index[:, None]
    fees = np.zeros((1, 2 * n))
    fees[0, 0::2] = inp.fee
    slippage = np.zeros((1, 2 * n))
    slippage[0, 0::2] = inp.slip

    cols = pd.MultiIndex.from_arrays([np.repeat(np.asarray(inp.columns, dtype=object), 2),
                                      np.tile(["asset", "CASH"], n)], names=["column", "leg"])
    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=inp.index, columns=cols)

    return vbt.Portfolio.from_orders(
        close=frame(vclose), size=frame(size), size_type="targetpercent", direction="both",
        price=frame(order_price), fees=np.broadcast_to(fees, size.shape).copy(),
        slippage=np.broadcast_to(slippage, size.shape).copy(), init_cash=inp.init_cash, cash_sharing=True,
        # accounts start at 1.0, so a rebalance in a 60,000 USD asset can be under vectorbt's default
        # min_size of 1e-8 units; dropping those orders would make the two engines drift apart
        min_size=0.0,
        group_by=cols.get_level_values("column"), call_seq="auto", freq="1D")


def to_vectorbt(close: pd.Series | pd.DataFrame, exposure: pd.Series | pd.DataFrame, *,
                open: pd.Series | pd.DataFrame | None = None, cash_rate: pd.Series | None = None,
                costs: Costs | Mapping[str, Costs] = Costs(), fill: str = "next_close",
                rebalance_every: int = 0, max_leverage: float = 1.0, init_cash: float = 1.0) -> vbt.Portfolio:
    """Build the ``simulate`` run as a vectorbt Portfolio (for its stats, plots and cross-checks).

    Args:
        close, exposure, open, cash_rate, costs, fill, rebalance_every, max_leverage, init_cash:
            as in ``simulate`` (threshold rebalancing is not expressible in vectorbt).

    Returns:
        ``vbt.Portfolio`` with columns (column, "asset"|"CASH") grouped per column with cash
        sharing; ``pf.value()`` is the equity of each account.
    """
    inp = single_inputs(close, exposure, open=open, cash_rate=cash_rate, costs=costs, fill=fill,
                         rebalance=None, rebalance_band=0.05, rebalance_every=rebalance_every,
                         max_leverage=max_leverage, init_cash=init_cash)
    return _vectorbt_portfolio(inp)


def _from_vectorbt(inp: _Inputs, pf: vbt.Portfolio) -> SimResult:
    n_bars = len(inp.index)
    equity = pf.value().to_numpy().reshape(n_bars, -1)  # a single group comes back as a Series
    asset_value = pf.asset_value(group_by=False).to_numpy().reshape(n_bars, -1)[:, 0::2]
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(equity > 0, asset_value / equity, np.nan)
    rec = pf.orders.values
    rec = rec[rec["col"] % 2 == 0]
    sign = np.where(rec["side"] == 0, 1.0, -1.0)  # vectorbt OrderSide: 0 = buy, 1 = sell
    orders = _orders_frame(inp, rec["idx"].astype(np.int64), (rec["col"] // 2).astype(np.int64),
                           rec["size"] * sign, rec["price"], rec["fees"])
    return _result(inp, equity, inp.columns, weight, orders)
