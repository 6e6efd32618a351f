"""The matched random-timing null: would a rule out of the market as often, at random times, do as well?

For one strategy on one asset the null is a set of random exposure paths with the strategy's own
de-risking budget, simulated through the engine's own per-bar account step
(``riskoff.engine.account.account_bar_nb``) with the same costs, cash rate and fills as the strategy. Each
path is generated, simulated and reduced to its metrics in one compiled pass (``_simulate_null_nb``),
so 1,000 paths never occupy a (bars, paths) matrix. Two constructions, chosen per pair from the
strategy's decided target (``classify``):

``episodes`` (rules with discrete de-risk episodes: ma_timing, any_off, k_of_n, ladders). An
    episode is a run of bars with the target below full (< 0.999, as in ``riskoff.evaluation.evaluate``).
    A null path keeps every episode whole (its duration and its bar-by-bar depth profile), puts
    them in a random order and places them at random: the free bars (bars outside episodes) are
    split into the gaps before, between and after the episodes uniformly at random over all
    splits that keep episodes apart (at least one free bar between two episodes, so their number
    stays the same). Free bars hold the rule's usual full exposure (its most common value at or
    above full: 1.0 for every built-in rule). Same number of episodes, same durations and depths,
    same time out of the market; only the timing is random.
``shift`` (rules whose exposure moves almost every bar: vol_target). Cutting such a path into
    episodes leaves nothing to move, so a null path is the whole decided path rotated by a random
    whole number of bars (a circular shift, 1 .. n-1). It keeps the exposure's distribution and
    its autocorrelation and breaks only its alignment with the market.

Data-driven criterion (recorded per pair in ``NullChoice``): ``shift`` when the target changes on
at least ``SHIFT_CHANGE_RATE`` (30%) of its decided bars, or fewer than ``SHIFT_FREE_SHARE``
(10%) of them are at full exposure (too little room to move episodes); ``episodes`` otherwise;
``none`` for a rule that never de-risks (buy & hold: nothing to test). On the default run every
vol_target pair changes on 36-99% of its bars and every other rule on at most 21%.

Admissible times: bars from the first decided (non-NaN) target to the last; a warm-up with no
decision stays in cash in every null path, as it does for the strategy.

Inference. For each metric the strategy's value is compared with the null's: ``percentile`` is
the share of null paths the strategy beats (ties count half), ``p`` the one-sided p-value of
"random timing does at least as well" with the +1 correction, (1 + #{null >= strategy}) /
(paths + 1), so p is never 0 and is exact under the null. "Better" means higher drawdown avoided
(mean across windows, and per window), lower CAGR given up, higher Calmar.

Seeds. Each pair draws from ``numpy.random.SeedSequence([seed, crc32(strategy/asset)])``: the
paths of a pair do not depend on which other pairs a run contains or in what order.
"""
from __future__ import annotations

import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

import riskoff.engine.account
import riskoff.engine.metrics
from riskoff.engine.account import (
    Costs,
    account_bar_nb,
    initial_account_state,
    single_inputs,
)
from riskoff.engine.metrics import max_drawdown_nb
from riskoff.evaluation.windows import something_to_avoid
from riskoff.util.numba_cache import drop_stale

__all__ = ["FULL", "SHIFT_CHANGE_RATE", "SHIFT_FREE_SHARE", "NullChoice", "NullResult", "classify",
           "episode_paths", "shift_paths", "pair_rng", "drawdowns", "path_metrics", "compare",
           "run_null"]

FULL = 0.999  # a target at or above this is fully invested (riskoff.evaluation.evaluate.FULL)
SHIFT_CHANGE_RATE = 0.30
SHIFT_FREE_SHARE = 0.10
_MOVE = 1e-9  # a target change smaller than this is float noise, not a move


@dataclass(frozen=True)
class NullChoice:
    """Which null a strategy got, and the figures the choice was made on.

    Attributes:
        kind: "episodes", "shift" or "none" (never de-risks).
        change_rate: share of decided bars whose target differs from the previous bar's.
        free_share: share of decided bars at full exposure.
        episodes: number of de-risk episodes (runs of bars below full).
        start: position of the first decided bar (earlier bars are a warm-up, in cash).
    """

    kind: str
    change_rate: float
    free_share: float
    episodes: int
    start: int


def _decided(target: np.ndarray) -> tuple[int, np.ndarray]:
    ok = np.flatnonzero(~np.isnan(target))
    if not len(ok):
        return len(target), target[:0]
    # a NaN inside the decided span means "no decision" = cash (0), as in the engine
    return int(ok[0]), np.nan_to_num(target[ok[0]:], nan=0.0)


def _runs(below: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends exclusive) of the runs of True in ``below``."""
    edges = np.diff(np.r_[0, below.astype(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def classify(target: np.ndarray | pd.Series) -> NullChoice:
    """Pick the null for a decided target path (see the module docstring for the criterion)."""
    start, t = _decided(np.asarray(target, dtype=float))
    if len(t) < 2:
        return NullChoice("none", 0.0, 1.0, 0, start)
    below = t < FULL
    n_ep = len(_runs(below)[0])
    change = float(np.mean(np.abs(np.diff(t)) > _MOVE))
    free = float(1.0 - below.mean())
    if n_ep == 0:
        kind = "none"
    elif change >= SHIFT_CHANGE_RATE or free < SHIFT_FREE_SHARE:
        kind = "shift"
    else:
        kind = "episodes"
    return NullChoice(kind, change, free, n_ep, start)


def pair_rng(seed: int, key: str) -> np.random.Generator:
    """The generator of one strategy/asset pair: independent of the other pairs of a run."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))


@njit(cache=True, nogil=True)
def _episode_firsts_nb(ep_len, order, u, free, taken, first):  # pragma: no cover - compiled
    """First bar of each placed episode of one path, into ``first`` (in the random ``order``).

    The k episodes split the ``free`` bars into k + 1 gaps, the inner ones at least 1 bar. With
    R = free - (k - 1) spare bars, a split is a choice of k "bar" slots among R + k = free + 1
    (stars and bars); Floyd's algorithm draws that k-subset uniformly from the k uniforms ``u``.
    ``taken`` is scratch space of free + 1 booleans.
    """
    k = ep_len.shape[0]
    slots = free + 1
    for c in range(slots):  # explicit loops, not slice assignments: numba compiles them much faster
        taken[c] = False
    for i in range(k):  # Floyd: j runs over the last k slot numbers
        j = slots - k + i
        r = min(int(u[i] * (j + 1)), j)
        if taken[r]:
            taken[j] = True
        else:
            taken[r] = True
    pos = 0
    prev = -1
    i = 0
    for c in range(slots):
        if taken[c]:
            pos += c - prev - 1 + (1 if i > 0 else 0)  # the gap before episode i
            first[i] = pos
            pos += ep_len[order[i]]
            prev = c
            i += 1


@njit(cache=True, nogil=True)
def _episode_path_nb(values, ep_start, ep_len, order, first, full, out):  # pragma: no cover - compiled
    """One episode path into ``out`` (the decided bars): ``full`` outside the placed episodes."""
    for t in range(out.shape[0]):
        out[t] = full
    for i in range(ep_len.shape[0]):
        e = order[i]
        for t in range(ep_len[e]):
            out[first[i] + t] = values[ep_start[e] + t]


@njit(cache=True, nogil=True)
def _shift_path_nb(values, shift, out):  # pragma: no cover - compiled
    """One circular shift into ``out``: out[t] = values[(t - shift) mod len]."""
    n = values.shape[0]
    shift = shift % n
    for t in range(shift):  # two plain copies: an integer modulo per bar cost more than the account step
        out[t] = values[n - shift + t]
    for t in range(shift, n):
        out[t] = values[t - shift]


@njit(cache=True, nogil=True)
def _null_path_nb(p, values, ep_start, ep_len, order, u, free, full, shifts, taken, first, out):  # pragma: no cover
    """Path ``p`` of the null into ``out``: a circular shift when ``shifts`` is given, else an
    episode placement drawn from ``order[p]`` and ``u[p]``. The one path generator of the module."""
    if shifts.shape[0]:
        _shift_path_nb(values, shifts[p], out)
    else:
        _episode_firsts_nb(ep_len, order[p], u[p], free, taken, first)
        _episode_path_nb(values, ep_start, ep_len, order[p], first, full, out)


@njit(cache=True, nogil=True)
def _paths_into_nb(values, ep_start, ep_len, order, u, free, full, shifts, out):  # pragma: no cover
    """Every path of the null into the columns of ``out`` (decided bars, paths)."""
    n_paths = out.shape[1]
    taken = np.zeros(free + 1, dtype=np.bool_)
    first = np.empty(ep_len.shape[0], dtype=np.int64)
    path = np.empty(out.shape[0])
    for p in range(n_paths):
        _null_path_nb(p, values, ep_start, ep_len, order, u, free, full, shifts, taken, first, path)
        for t in range(path.shape[0]):
            out[t, p] = path[t]


@dataclass(frozen=True)
class _Draws:
    """A null's random draws and the pieces of the decided path they rearrange (see ``_draws``)."""

    start: int               # first decided bar; earlier bars are a warm-up in cash
    values: np.ndarray       # the decided target (NaN = 0)
    ep_start: np.ndarray     # episodes: first bar and length of each run below full
    ep_len: np.ndarray
    order: np.ndarray        # (paths, episodes) random order of the episodes
    u: np.ndarray            # (paths, episodes) uniforms for the gap split
    free: int                # bars outside episodes
    full: float              # the exposure held outside episodes
    shifts: np.ndarray       # shift null: (paths,) rotations; empty for episodes

    @property
    def paths(self) -> int:
        return int(self.shifts.shape[0] or self.order.shape[0])


_NO_INT = np.zeros(0, dtype=np.int64)


def _draws(kind: str, target: np.ndarray, n: int, rng: np.random.Generator) -> _Draws:
    """Draw ``n`` paths of the ``kind`` null ("episodes" or "shift") for a decided target."""
    start, t = _decided(np.asarray(target, dtype=float))
    t = np.ascontiguousarray(t)
    if kind == "shift":
        return _Draws(start, t, _NO_INT, _NO_INT, np.zeros((0, 0), np.int64), np.zeros((0, 0)), 0, 1.0,
                      rng.integers(1, len(t), size=n).astype(np.int64))
    below = t < FULL
    s, e = _runs(below)
    at_full = t[~below]
    full = float(pd.Series(at_full).mode().iloc[0]) if len(at_full) else 1.0
    lengths = (e - s).astype(np.int64)
    order = rng.permuted(np.tile(np.arange(len(s), dtype=np.int64), (n, 1)), axis=1)
    u = rng.random((n, len(s)))
    return _Draws(start, t, s.astype(np.int64), lengths, order, u, int(len(t) - lengths.sum()), full, _NO_INT)


def _materialise(d: _Draws, n_bars: int) -> np.ndarray:
    out = np.full((n_bars, d.paths), np.nan)
    _paths_into_nb(d.values, d.ep_start, d.ep_len, d.order, d.u, d.free, d.full, d.shifts, out[d.start:])
    return out


def episode_paths(target: np.ndarray | pd.Series, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` episode-preserving random placements of ``target`` (bars, n); warm-up NaN kept."""
    target = np.asarray(target, dtype=float)
    start, t = _decided(target)
    if not len(_runs(t < FULL)[0]):
        out = np.full((len(target), n), np.nan)
        out[start:] = t[:, None]
        return out
    return _materialise(_draws("episodes", target, n, rng), len(target))


def shift_paths(target: np.ndarray | pd.Series, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` circular shifts of the decided part of ``target`` by 1 .. len - 1 bars (bars, n)."""
    target = np.asarray(target, dtype=float)
    start, t = _decided(target)
    if len(t) < 2:
        out = np.full((len(target), n), np.nan)
        out[start:] = t[:, None]
        return out
    return _materialise(_draws("shift", target, n, rng), len(target))


# the kernels inline metrics.max_drawdown_nb and engine.account_bar_nb; numba's cache would not
# notice a change in those modules
drop_stale(sys.modules[__name__], [riskoff.engine.metrics, riskoff.engine.account])


@njit(cache=True, nogil=True)
def _drawdowns_nb(equity, spans, mdd, wdd):  # pragma: no cover - compiled
    """Max drawdown of every column over all bars (mdd) and inside each span (wdd), with the
    metrics module's one drawdown step."""
    n_bars, n = equity.shape
    for j in range(n):
        col = equity[:, j]
        mdd[j] = max_drawdown_nb(col, 0, n_bars - 1)
        for i in range(spans.shape[0]):
            wdd[i, j] = max_drawdown_nb(col, spans[i, 0], spans[i, 1])


@njit(cache=True, nogil=True)
def _simulate_null_nb(close, price, growth, fee, slip, start, values, ep_start, ep_len, order, u, free, full,
                      shifts, spans, ratio, mdd, wdd):  # pragma: no cover - compiled
    """Generate, simulate and measure every null path of one pair, one path at a time.

    Each path is written into a bar-long scratch target (the warm-up stays 0, cash), stepped
    through the engine's ``account_bar_nb`` with the pair's own close, fill price, cash growth and
    costs (no rebalancing band, no leverage, 1.0 of initial cash: ``simulate``'s defaults), and
    reduced at once to its final/initial equity (``ratio``), its max drawdown and its drawdown in
    each span; so the (bars, paths) matrices of exposure and equity never exist.
    """
    n_bars = close.shape[0]
    target = np.zeros(n_bars)
    equity = np.empty(n_bars)
    taken = np.zeros(free + 1, dtype=np.bool_)
    first = np.empty(ep_len.shape[0], dtype=np.int64)
    for p in range(ratio.shape[0]):
        _null_path_nb(p, values, ep_start, ep_len, order, u, free, full, shifts, taken, first, target[start:])
        state = initial_account_state(1.0)
        for t in range(n_bars):
            state, eq, pv, filled = account_bar_nb(state, t, price[t], close[t], growth[t], target[t], fee, slip,
                                                   0.0, np.inf, False)
            equity[t] = eq
        ratio[p] = equity[n_bars - 1] / equity[0]
        mdd[p] = max_drawdown_nb(equity, 0, n_bars - 1)
        for i in range(spans.shape[0]):
            wdd[i, p] = max_drawdown_nb(equity, spans[i, 0], spans[i, 1])


def drawdowns(equity: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max drawdown per column over all bars, (spans, columns) max drawdown inside each span).

    ``riskoff.engine.metrics.max_drawdown_nb`` for every column of a (bars, columns) array at once;
    spans are inclusive (first, last) bar positions.
    """
    equity = np.require(equity, dtype=np.float64, requirements=["C"])
    if equity.ndim == 1:
        equity = equity[:, None]
    spans = np.require(np.asarray(spans, dtype=np.int64).reshape(-1, 2), requirements=["C"])
    mdd = np.empty(equity.shape[1])
    wdd = np.empty((len(spans), equity.shape[1]))
    _drawdowns_nb(equity, spans, mdd, wdd)
    return mdd, wdd


def path_metrics(equity: np.ndarray, ppy: int, spans: np.ndarray, bh_window_dd: np.ndarray,
                 bh_cagr: float) -> dict[str, np.ndarray]:
    """Metrics of many equity paths at once, with the definitions of ``riskoff.evaluation.evaluate``.

    Args:
        equity: (bars, paths) account values; no NaN.
        ppy: bars per year (annualisation).
        spans: (windows, 2) first and last bar position of each window (inclusive).
        bh_window_dd: (windows,) buy & hold max drawdown in each window.
        bh_cagr: buy & hold CAGR over the same bars.

    Returns:
        ``window_dd_avoided`` (windows, paths), ``dd_avoided_mean``, ``cagr``, ``cagr_given_up``,
        ``max_drawdown`` and ``calmar`` (paths,).
    """
    equity = np.asarray(equity, dtype=float)
    if equity.ndim == 1:
        equity = equity[:, None]
    mdd, wdd = drawdowns(equity, spans)
    return _metrics_from(equity[-1] / equity[0], equity.shape[0], mdd, wdd, ppy, bh_window_dd, bh_cagr)


def cagr_of(ratio: np.ndarray, n_bars: int, ppy: int) -> np.ndarray:
    """CAGR of paths from their final / initial value over ``n_bars`` bars (``ppy`` bars a year)."""
    return _cagr(ratio, n_bars, ppy)


def _cagr(ratio: np.ndarray, n_bars: int, ppy: int) -> np.ndarray:
    # quantstats' CAGR as riskoff.evaluation.evaluate uses it: growth ** (ppy / number of returns) - 1
    return ratio ** (ppy / (n_bars - 1)) - 1.0


def _metrics_from(ratio: np.ndarray, n_bars: int, mdd: np.ndarray, wdd: np.ndarray, ppy: int,
                  bh_window_dd: np.ndarray, bh_cagr: float) -> dict[str, np.ndarray]:
    """``path_metrics`` from each path's final/initial equity and drawdowns (``wdd`` is modified)."""
    cagr = _cagr(ratio, n_bars, ppy)
    with np.errstate(divide="ignore", invalid="ignore"):
        calmar = np.where(mdd < 0, cagr / np.abs(mdd), np.nan)
    bh_window_dd = np.asarray(bh_window_dd, dtype=float)
    wdd -= bh_window_dd[:, None]
    # the mean over the windows where buy & hold fell enough to have something to avoid (as reported)
    counted = something_to_avoid(bh_window_dd)
    mean = wdd[counted].mean(axis=0) if counted.any() else np.full(len(ratio), np.nan)
    return {"window_dd_avoided": wdd, "dd_avoided_mean": mean, "cagr": cagr, "cagr_given_up": bh_cagr - cagr,
            "max_drawdown": mdd, "calmar": calmar}


def compare(observed: float, null: np.ndarray, higher_is_better: bool = True) -> tuple[float, float]:
    """(percentile, p): the share of null values ``observed`` beats (ties half), in percent, and
    (1 + #{null at least as good}) / (n + 1). NaN if the observation or the null is missing."""
    null = np.asarray(null, dtype=float)
    null = null[~np.isnan(null)]
    if not len(null) or not np.isfinite(observed):
        return float("nan"), float("nan")
    if not higher_is_better:
        observed, null = -observed, -null
    # a relative tolerance: the strategy and a null path holding the same exposure agree only to
    # the engine's float noise, and such a tie must not count as a win
    tol = 1e-10 * max(1.0, abs(observed))
    beats = np.sum(null < observed - tol)
    ties = np.sum(np.abs(null - observed) <= tol)
    return float(100.0 * (beats + 0.5 * ties) / len(null)), float((1 + len(null) - beats) / (len(null) + 1))


#: metric -> higher is better; the pair-level metrics the null reports
PAIR_METRICS: Mapping[str, bool] = {"dd_avoided_mean": True, "cagr_given_up": False, "calmar": True}


@dataclass(frozen=True)
class NullResult:
    """The null of one pair: the choice, the strategy's metrics, and per-metric percentile and p.

    ``window_percentile`` and ``window_p`` are per window, in the order of ``spans``.
    """

    choice: NullChoice
    paths: int
    observed: dict[str, float]
    percentile: dict[str, float]
    p: dict[str, float]
    window_percentile: np.ndarray
    window_p: np.ndarray
    null_median: dict[str, float]
    #: every null path's metrics, as ``path_metrics`` returns them (empty for kind "none")
    null_values: dict[str, np.ndarray]


def run_null(close: pd.Series, target: pd.Series, equity: pd.Series, bh_equity: pd.Series, *, ppy: int,
             spans: np.ndarray, paths: int, rng: np.random.Generator, open: pd.Series | None = None,
             cash_rate: pd.Series | None = None, costs: Costs = Costs(), fill: str = "next_close"
             ) -> NullResult:
    """Simulate the matched random-timing null of one pair and place the strategy in it.

    Args:
        close, open, cash_rate, costs, fill: the asset and the engine settings the strategy ran with.
        target: the strategy's decided exposure on ``close``'s index (NaN = no decision).
        equity, bh_equity: the strategy's and buy & hold's equity on the same bars.
        ppy: bars per year; spans: (windows, 2) inclusive bar positions of the evaluated windows.
        paths: number of null paths; rng: e.g. ``pair_rng(seed, "strategy/asset")``.
    """
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    bh = bh_equity.to_numpy(dtype=float)
    bh_wdd = drawdowns(bh, spans)[1][:, 0]
    bh_cagr = float(_cagr(np.array([bh[-1] / bh[0]]), len(bh), ppy)[0])
    obs = path_metrics(equity.to_numpy(dtype=float), ppy, spans, bh_wdd, bh_cagr)
    observed = {k: float(obs[k][0]) for k in PAIR_METRICS}
    target_v = target.to_numpy(dtype=float)
    choice = classify(target_v)
    nan_w = np.full(len(spans), np.nan)
    if choice.kind == "none" or paths <= 0:
        nan = {k: float("nan") for k in PAIR_METRICS}
        return NullResult(choice, 0, observed, nan, dict(nan), nan_w, nan_w.copy(), dict(nan),
                          {k: np.empty(0) for k in obs})
    # the engine's own input checks and arrays (fill price, cash growth, costs), once per pair
    inp = single_inputs(close, target, open=open, cash_rate=cash_rate, costs=costs, fill=fill, rebalance=None,
                        rebalance_band=0.05, rebalance_every=0, max_leverage=1.0, init_cash=1.0)
    d = _draws(choice.kind, target_v, paths, rng)
    ratio, mdd = np.empty(paths), np.empty(paths)
    wdd = np.empty((len(spans), paths))
    _simulate_null_nb(np.ascontiguousarray(inp.close[:, 0]), np.ascontiguousarray(inp.price[:, 0]), inp.growth,
                      float(inp.fee[0]), float(inp.slip[0]), d.start, d.values, d.ep_start, d.ep_len, d.order, d.u,
                      d.free, d.full, d.shifts, spans, ratio, mdd, wdd)
    null = _metrics_from(ratio, len(target_v), mdd, wdd, ppy, bh_wdd, bh_cagr)
    percentile, p = {}, {}
    for k, better_high in PAIR_METRICS.items():
        percentile[k], p[k] = compare(observed[k], null[k], better_high)
    w = [compare(float(obs["window_dd_avoided"][i, 0]), null["window_dd_avoided"][i]) for i in range(len(spans))]
    return NullResult(choice, paths, observed, percentile, p,
                      np.array([x[0] for x in w]) if w else nan_w, np.array([x[1] for x in w]) if w else nan_w.copy(),
                      {k: float(np.nanmedian(null[k])) for k in PAIR_METRICS}, null)
