"""Performance metrics of an equity curve: one numba implementation for runs and sweeps.

:func:`segment_stats_nb` computes the full-period statistics of bars ``a .. b`` of one account
and :func:`window_stats_nb` the sell-off window figures; ``riskoff.evaluation.evaluate`` (the run path)
and the sweep kernels both call them, and tests hold them to quantstats' formulas:

    total_return     equity[b] / equity[a] - 1
    cagr             compounded return ** (periods_per_year / bars) - 1 (quantstats ``cagr``)
    volatility       sample std of bar returns x sqrt(periods_per_year)
    sharpe           mean / sample std of bar returns in excess of the cash return, x sqrt(ppy)
    sortino          mean excess return / sqrt(mean of squared negative excess returns), x sqrt(ppy)
    max_drawdown     worst fall from a running peak (a negative fraction)
    calmar           cagr / |max_drawdown|
    time_in_market   share of bars whose held weight exceeds 1e-6
    trades           number of fills

A ratio over a risk of zero is undefined, not infinite: ``sortino`` is NaN when no bar's excess
return is negative (quantstats 0.0.86 also gives NaN; empyrical divides by zero and gives inf) and
``calmar`` is NaN when the curve never falls (as empyrical; quantstats 0.0.86 gives inf). An inf would
rank first in a sweep sorted by that metric; NaN ranks last (tests/engine/test_metric_conventions.py).

Sharpe and Sortino are measured against the money-market rate (``cash_growth[t] - 1``, the
return cash earned from bar t-1 to t): a de-risked strategy earns that rate in cash, so a zero risk-free
rate would credit it with a premium it did not earn by taking risk.

Slots are named: ``out[Metric.SHARPE]``; the names (:data:`FULL_METRICS`, :data:`WINDOW_METRICS`)
are declared once here and every table, column and record is built from them.
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit

__all__ = ["FULL_METRICS", "WINDOW_METRICS", "Metric", "WindowMetric", "segment_stats_nb", "window_stats_nb",
           "max_drawdown_nb", "segment_stats", "CSCV_BLOCKS", "block_edges", "block_sums_nb"]

FULL_METRICS = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                "time_in_market", "trades")
WINDOW_METRICS = ("strategy_return", "strategy_max_dd", "drawdown_avoided", "exposure_at_trough")

#: slot of each full-period metric in a stats row
Metric = IntEnum("Metric", [(name.upper(), i) for i, name in enumerate(FULL_METRICS)])
#: slot of each window metric in a window row
WindowMetric = IntEnum("WindowMetric", [(name.upper(), i) for i, name in enumerate(WINDOW_METRICS)])

IN_MARKET_WEIGHT = 1e-6  # a held weight above this counts as "in the market"


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def segment_stats_nb(eq, pv, fl, cash_growth, rbuf, ppy, a, b, out):  # pragma: no cover - compiled
    """Full-period statistics of bars ``a .. b`` (inclusive) into ``out`` (slots :class:`Metric`).

    ``eq`` equity, ``pv`` position value (weight = pv / eq), ``fl`` 1 on bars with a fill,
    ``cash_growth`` 1 + the cash return of each bar (the engine's growth factors), ``rbuf`` scratch of at least b - a + 1 floats.
    Divisions are the cost here: each bar's return is computed once (into ``rbuf``); drawdowns and
    the time-in-market test divide only where the exact comparison could go either way. Sums
    may be reassociated (vectorised): ~1e-16 relative.
    """
    nan = np.nan
    for k in range(out.shape[0]):
        out[k] = nan
    if a < 0 or b <= a:
        return
    sq = np.sqrt(ppy)
    cnt = b - a
    x = eq[a:b + 1]  # views from 0: numba then proves indices non-negative and vectorises
    q = pv[a:b + 1]
    f = fl[a:b + 1]
    g = cash_growth[a:b + 1]
    rb = rbuf[:cnt + 1]
    prod = 1.0
    sm = 0.0
    sx = 0.0
    for t in range(1, cnt + 1):
        r = x[t] / x[t - 1] - 1.0
        rb[t] = r
        prod *= 1.0 + r
        sm += r
        sx += r - (g[t] - 1.0)
    mean = sm / cnt
    mean_x = sx / cnt
    ss = 0.0
    ssx = 0.0
    dn = 0.0
    for t in range(1, cnt + 1):
        r = rb[t]
        d = r - mean
        ss += d * d
        e = r - (g[t] - 1.0)
        dx = e - mean_x
        ssx += dx * dx
        dn += e * e if e < 0.0 else 0.0
    peak = x[0]
    mdd = 0.0
    fm = 1.0 + 1e-12
    inm = 0
    ntr = 0
    for t in range(cnt + 1):
        e = x[t]
        peak = max(peak, e)
        if e < peak * fm:  # a new low is possible only below peak x (1 + mdd), widened
            dd = e / peak - 1.0
            if dd < mdd:
                mdd = dd
                fm = (1.0 + mdd) * (1.0 + 1e-12)
        p = q[t]  # weight p / e > 1e-6, dividing only within 1e-9 of the threshold
        if e > 0.0 and p > IN_MARKET_WEIGHT * e * (1.0 - 1e-9):
            if p > IN_MARKET_WEIGHT * e * (1.0 + 1e-9) or p / e > IN_MARKET_WEIGHT:
                inm += 1
        ntr += f[t]
    std = np.sqrt(ss / (cnt - 1)) if cnt > 1 else nan
    std_x = np.sqrt(ssx / (cnt - 1)) if cnt > 1 else nan
    wealth = (prod - 1.0) + 1.0
    cagr = nan if wealth < 0.0 else abs(wealth) ** (1.0 / (cnt / ppy)) - 1.0
    down = np.sqrt(dn / cnt)
    out[Metric.TOTAL_RETURN] = eq[b] / eq[a] - 1.0
    out[Metric.CAGR] = cagr
    out[Metric.VOLATILITY] = std * sq
    out[Metric.SHARPE] = mean_x / std_x * sq
    out[Metric.SORTINO] = nan if down == 0.0 else mean_x / down * sq
    out[Metric.MAX_DRAWDOWN] = mdd
    out[Metric.CALMAR] = cagr / abs(mdd) if mdd < 0.0 else nan
    out[Metric.TIME_IN_MARKET] = inm / (cnt + 1)
    out[Metric.TRADES] = ntr


@njit(cache=True)
def max_drawdown_nb(eq, a, b) -> float:  # pragma: no cover - compiled
    """Worst fall from the running peak over bars ``a .. b`` (inclusive); 0 when it never falls."""
    peak = eq[a]
    mdd = 0.0
    for t in range(a, b + 1):
        if eq[t] > peak:
            peak = eq[t]
        dd = eq[t] / peak - 1.0
        if dd < mdd:
            mdd = dd
    return mdd


@njit(cache=True)
def window_stats_nb(eq, pv, ret_start, dd_start, end, trough, bh_max_dd, out):  # pragma: no cover - compiled
    """One sell-off window into ``out`` (slots :class:`WindowMetric`); -1 marks a missing bar.

    ``ret_start``/``end`` bound the window return, ``dd_start``..``end`` its drawdown, and the
    weight held at ``trough`` is the exposure at the trough.
    """
    for m in range(out.shape[0]):
        out[m] = np.nan
    if ret_start >= 0 and end >= 0:
        out[WindowMetric.STRATEGY_RETURN] = eq[end] / eq[ret_start] - 1.0
    if 0 <= dd_start <= end:
        mdd = max_drawdown_nb(eq, dd_start, end)
        out[WindowMetric.STRATEGY_MAX_DD] = mdd
        out[WindowMetric.DRAWDOWN_AVOIDED] = mdd - bh_max_dd
    if trough >= 0:
        e = eq[trough]
        p = pv[trough]
        out[WindowMetric.EXPOSURE_AT_TROUGH] = np.nan if not e > 0.0 else (p / e if p != 0.0 else 0.0)


#: blocks of the combinatorially symmetric cross-validation (PBO) a sweep accumulates (S = 16)
CSCV_BLOCKS = 16


def block_edges(n_returns: int, n_blocks: int = CSCV_BLOCKS) -> np.ndarray:
    """(n_blocks + 1,) boundaries cutting ``n_returns`` bar returns into contiguous blocks that
    differ in length by at most one (``numpy.array_split``'s cut)."""
    sizes = np.full(n_blocks, n_returns // n_blocks, dtype=np.int64)
    sizes[:n_returns % n_blocks] += 1
    return np.r_[0, np.cumsum(sizes)].astype(np.int64)


@njit(cache=True)
def block_sums_nb(eq, cash_growth, edges, sums, sumsq):  # pragma: no cover - compiled
    """Per block, the sum and the sum of squares of the bar returns in excess of cash.

    Return r is bar r -> r + 1 less the cash return of bar r + 1 (the Sharpe of
    ``segment_stats_nb`` is measured on the same excess returns); block b holds returns
    ``edges[b] .. edges[b + 1] - 1``. These are all that CSCV needs of a cell's returns, so a
    sweep keeps 2 x S numbers per cell instead of its return series.
    """
    for b in range(edges.shape[0] - 1):
        s = 0.0
        q = 0.0
        for r in range(edges[b], edges[b + 1]):
            x = eq[r + 1] / eq[r] - 1.0 - (cash_growth[r + 1] - 1.0)
            s += x
            q += x * x
        sums[b] = s
        sumsq[b] = q


def segment_stats(equity: np.ndarray, position_value: np.ndarray, fills: np.ndarray, cash_growth: np.ndarray,
                  periods_per_year: float) -> dict[str, float]:
    """:func:`segment_stats_nb` over a whole curve, as a dict keyed by :data:`FULL_METRICS`."""
    eq = np.ascontiguousarray(equity, dtype=np.float64)
    out = np.empty(len(FULL_METRICS))
    segment_stats_nb(eq, np.ascontiguousarray(position_value, dtype=np.float64),
                     np.ascontiguousarray(fills, dtype=np.int64), np.ascontiguousarray(cash_growth, dtype=np.float64),
                     np.empty(len(eq)), float(periods_per_year), 0, len(eq) - 1, out)
    return {name: float(out[i]) for i, name in enumerate(FULL_METRICS)}
