"""Stationary-bootstrap intervals for the CAGR and Sharpe difference against buy & hold.

The bar returns of every strategy on an asset and of buy & hold are resampled *together* with
``arch.bootstrap.StationaryBootstrap`` (Politis & Romano 1994: blocks of random, geometric length,
so the serial dependence of returns survives the resampling): one set of resampled bars per asset,
so the intervals of the strategies on that asset are comparable. The mean block length is
``arch.bootstrap.optimal_block_length`` (Politis & White 2004, Patton, Politis & White 2009) of
each strategy's return difference against buy & hold, the median over the asset's strategies,
at least 1.

For each resample the statistics are those of ``riskoff.engine.metrics`` (quantstats' formulas): CAGR =
prod(1 + r) ** (ppy / n) - 1 and Sharpe = mean / sd (ddof 1) x sqrt(ppy) of the returns in excess
of the cash return of the same bar (the money-market rate the engine credits to cash). The interval is the percentile interval of the resampled
differences (strategy minus buy & hold) at ``confidence``; the point estimate is the difference on
the actual returns. Drawdowns are not bootstrapped: a sell-off window is one path, and about ten
windows are too few for a trustworthy resample, so the mean drawdown avoided is judged by the
random-timing null (``riskoff.significance.null``) and always shown with its number of windows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

__all__ = ["block_length", "resample_indices", "resampled_stats", "difference_intervals"]


def block_length(differences: np.ndarray) -> float:
    """Mean stationary-bootstrap block length: median of arch's optimal length over the columns."""
    d = np.asarray(differences, dtype=float)
    d = d.reshape(len(d), -1)
    keep = [j for j in range(d.shape[1]) if np.nanstd(d[:, j]) > 0]  # buy & hold vs itself: nothing
    if not keep:
        return 1.0
    from arch.bootstrap import optimal_block_length  # arch loads on first use

    opt = optimal_block_length(d[:, keep])["stationary"].to_numpy()
    return float(max(1.0, np.nanmedian(opt)))


def resample_indices(n: int, block: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """(reps, n) bar positions of ``reps`` stationary-bootstrap resamples, drawn by arch."""
    from arch.bootstrap import StationaryBootstrap

    bs = StationaryBootstrap(block, np.empty(n), seed=rng)
    out = np.empty((reps, n), dtype=np.int64)
    for i, _ in enumerate(bs.bootstrap(reps)):
        out[i] = bs.index
    return out


@njit(cache=True, nogil=True)
def _stats_nb(returns, excess, idx, ppy, cagr, sharpe):  # pragma: no cover - compiled
    reps, n = idx.shape
    m = returns.shape[1]
    logr = np.log1p(returns)
    for b in range(reps):
        for j in range(m):
            s = 0.0
            s1 = 0.0
            s2 = 0.0
            for t in range(n):
                i = idx[b, t]
                s += logr[i, j]
                s1 += excess[i, j]
                s2 += excess[i, j] * excess[i, j]
            cagr[b, j] = np.exp(s * ppy / n) - 1.0
            mean = s1 / n
            var = (s2 - n * mean * mean) / (n - 1)
            sharpe[b, j] = mean / np.sqrt(var) * np.sqrt(ppy) if var > 0 else np.nan


def resampled_stats(returns: np.ndarray, idx: np.ndarray, ppy: int,
                    cash_return: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(CAGR, Sharpe), each (reps, columns), of every column of ``returns`` (bars, columns) on
    each resample ``idx`` (reps, bars); Sharpe in excess of ``cash_return`` (bars,), default 0."""
    returns = np.require(np.asarray(returns, dtype=np.float64).reshape(len(returns), -1), requirements=["C"])
    cash = np.zeros(len(returns)) if cash_return is None else np.asarray(cash_return, dtype=float)
    excess = np.ascontiguousarray(returns - cash[:, None])
    idx = np.require(idx, dtype=np.int64, requirements=["C"])
    cagr = np.empty((idx.shape[0], returns.shape[1]))
    sharpe = np.empty_like(cagr)
    _stats_nb(returns, excess, idx, float(ppy), cagr, sharpe)
    return cagr, sharpe


def difference_intervals(returns: pd.DataFrame, bh: pd.Series, *, ppy: int, reps: int, confidence: float,
                         rng: np.random.Generator, cash_return: pd.Series | None = None) -> pd.DataFrame:
    """Bootstrap intervals of each column's CAGR and Sharpe minus buy & hold's.

    Args:
        returns: bar returns (from the second bar on), one column per strategy, no NaN.
        bh: buy & hold's bar returns on the same bars.
        ppy: bars per year; reps: resamples; confidence: e.g. 0.95; rng: the asset's generator.
        cash_return: the cash return of each bar (Sharpe's benchmark); None = 0.

    Returns:
        One row per column: ``cagr_diff``, ``cagr_diff_lo``, ``cagr_diff_hi``, ``sharpe_diff``,
        ``sharpe_diff_lo``, ``sharpe_diff_hi``, ``block_length``, ``bootstrap_reps``.
    """
    r = np.column_stack([returns.to_numpy(dtype=float), bh.to_numpy(dtype=float)])
    block = block_length(r[:, :-1] - r[:, -1:])
    cash = None if cash_return is None else cash_return.to_numpy(dtype=float)
    point_c, point_s = resampled_stats(r, np.arange(len(r))[None, :], ppy, cash)
    cagr, sharpe = resampled_stats(r, resample_indices(len(r), block, reps, rng), ppy, cash)
    dc, ds = cagr[:, :-1] - cagr[:, -1:], sharpe[:, :-1] - sharpe[:, -1:]
    q = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]
    lo_c, hi_c = np.nanquantile(dc, q, axis=0)
    lo_s, hi_s = np.nanquantile(ds, q, axis=0)
    return pd.DataFrame({"cagr_diff": point_c[0, :-1] - point_c[0, -1], "cagr_diff_lo": lo_c, "cagr_diff_hi": hi_c,
                         "sharpe_diff": point_s[0, :-1] - point_s[0, -1], "sharpe_diff_lo": lo_s,
                         "sharpe_diff_hi": hi_s, "block_length": block, "bootstrap_reps": reps},
                        index=returns.columns)
