"""Overfitting statistics for sweeps: Deflated Sharpe Ratio, PBO by CSCV, Hansen's SPA.

All Sharpe ratios here are per bar (not annualised), as the formulas require; multiply by
sqrt(bars per year) to annualise.

Deflated Sharpe Ratio (Bailey & Lopez de Prado 2014, "The Deflated Sharpe Ratio"). The best of N
trials has an expected Sharpe ratio above zero even without skill:
    SR0 = sqrt(V) x ((1 - g) x Z^-1(1 - 1/N) + g x Z^-1(1 - 1/(N e))),   g = Euler-Mascheroni,
with V the variance of the trials' Sharpe ratios. DSR is the Probabilistic Sharpe Ratio of the
selected cell against SR0:
    PSR(SR*) = Z((SR - SR*) x sqrt(T - 1) / sqrt(1 - skew x SR + (kurtosis - 1) / 4 x SR^2)),
with T, skewness and (non-excess) kurtosis from the selected cell's returns. DSR > 0.95 reads as
"significant at 5% after the number of trials".

Probability of Backtest Overfitting by CSCV (Bailey, Borwein, Lopez de Prado & Zhu 2017, "The
probability of backtest overfitting"). The bars are cut into S blocks (16 by default); for each of
the C(S, S/2) ways to pick half the blocks as in-sample (IS), the cell with the best IS Sharpe is
found and the relative rank w of its out-of-sample (OOS) Sharpe among all cells, w = rank /
(N + 1), gives the logit l = ln(w / (1 - w)). PBO is the share of splits with l <= 0 (the IS
winner is at or below the OOS median). The IS vs OOS degradation is the OLS slope of the winner's
OOS Sharpe on its IS Sharpe across splits, with the probability of an OOS loss (OOS Sharpe < 0).
A sweep keeps no return matrix, so CSCV works from per-block sufficient statistics: for every
block and cell the number of bars, the sum and the sum of squares of the cell's bar returns; the
Sharpe ratio of any union of blocks follows exactly (mean and population variance pooled).

Hansen's SPA test (Hansen 2005, "A Test for Superior Predictive Ability") of "no cell beats the
benchmark", with ``arch.bootstrap.SPA`` on losses = -returns (stationary bootstrap, studentised).
It needs the cells' return series; a sweep re-simulates only its top cells (``SPA_LIMIT``) by the
ranking metric, which leaves out cells that are worse by that metric: SPA's p-value is driven by
the best cells (poor ones barely move it, which is Hansen's point against White's reality check),
so the omission makes the test at most slightly liberal.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import norm

__all__ = ["EULER_GAMMA", "SPA_LIMIT", "BlockStats", "block_stats", "expected_max_sharpe",
           "probabilistic_sharpe", "deflated_sharpe", "deflated_sharpe_of_best", "PBOResult", "pbo", "spa"]

EULER_GAMMA = 0.5772156649015329
SPA_LIMIT = 50


def expected_max_sharpe(n_trials: int, var_sharpe: float) -> float:
    """SR0: the expected maximum Sharpe ratio of ``n_trials`` skill-less trials (per bar)."""
    if n_trials < 2:
        return 0.0
    n = float(n_trials)
    return float(np.sqrt(var_sharpe) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n)
                                        + EULER_GAMMA * norm.ppf(1 - 1 / (n * np.e))))


def probabilistic_sharpe(sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """PSR: the probability that the true per-bar Sharpe ratio exceeds ``benchmark``.

    ``kurtosis`` is the ordinary (non-excess) kurtosis: 3 for normal returns.
    """
    denom = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe ** 2
    if n_obs < 2 or not denom > 0:
        return float("nan")
    return float(norm.cdf((sharpe - benchmark) * np.sqrt(n_obs - 1) / np.sqrt(denom)))


def deflated_sharpe(sharpe: float, n_obs: int, skew: float, kurtosis: float, n_trials: int,
                    var_sharpe: float) -> tuple[float, float]:
    """(DSR, SR0) of a cell selected as the best of ``n_trials`` (per-bar Sharpe ratios)."""
    sr0 = expected_max_sharpe(n_trials, var_sharpe)
    return probabilistic_sharpe(sharpe, sr0, n_obs, skew, kurtosis), sr0


def deflated_sharpe_of_best(trial_sharpe: np.ndarray, selected_returns: np.ndarray) -> dict[str, float]:
    """DSR of a selected cell from a sweep's outputs.

    Args:
        trial_sharpe: per-bar Sharpe ratio of every trial (cell) of the sweep; NaN cells are not trials.
        selected_returns: bar returns of the selected cell (skewness, kurtosis, T and its Sharpe).

    Returns:
        ``dsr``, ``sr0`` (per bar), ``sharpe`` (per bar), ``n_trials``, ``var_trials`` (sample
        variance of the trials' Sharpe ratios), ``skew``, ``kurtosis`` (non-excess), ``n_obs``.
    """
    from scipy.stats import kurtosis, skew

    sr = np.asarray(trial_sharpe, dtype=float)
    sr = sr[np.isfinite(sr)]
    x = np.asarray(selected_returns, dtype=float)
    x = x[np.isfinite(x)]
    sharpe = float(x.mean() / x.std(ddof=1))
    var = float(np.var(sr, ddof=1)) if len(sr) > 1 else 0.0
    g3, g4 = float(skew(x)), float(kurtosis(x, fisher=False))
    dsr, sr0 = deflated_sharpe(sharpe, len(x), g3, g4, len(sr), var)
    return {"dsr": dsr, "sr0": sr0, "sharpe": sharpe, "n_trials": len(sr), "var_trials": var, "skew": g3,
            "kurtosis": g4, "n_obs": len(x)}


@dataclass(frozen=True)
class BlockStats:
    """Per-block sufficient statistics of many return series (cells) on the same bars.

    Attributes:
        count: (S,) bars per block.
        sums: (S, N) sum of each cell's bar returns per block.
        sumsq: (S, N) sum of squared bar returns per block.
    """

    count: np.ndarray
    sums: np.ndarray
    sumsq: np.ndarray


def block_stats(returns: np.ndarray, n_blocks: int = 16) -> BlockStats:
    """BlockStats of a (bars, cells) return matrix cut into ``n_blocks`` contiguous blocks.

    Blocks differ in length by at most one bar (``numpy.array_split``); a sweep's kernel
    accumulates the same three arrays bar by bar instead of keeping the matrix.
    """
    r = np.asarray(returns, dtype=float)
    r = r.reshape(len(r), -1)
    parts = np.array_split(np.arange(len(r)), n_blocks)
    return BlockStats(np.array([len(p) for p in parts], dtype=float),
                      np.array([r[p].sum(axis=0) for p in parts]), np.array([(r[p] ** 2).sum(axis=0) for p in parts]))


def _sharpe(n: np.ndarray, s: np.ndarray, ss: np.ndarray) -> np.ndarray:
    mean = s / n
    var = ss / n - mean ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, mean / np.sqrt(np.maximum(var, 0)), np.nan)


@dataclass(frozen=True)
class PBOResult:
    """CSCV outcome. ``logits`` has one entry per split; ``is_sharpe``/``oos_sharpe`` are the IS
    winner's per-bar Sharpe ratios in and out of sample per split."""

    pbo: float
    logits: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    slope: float
    prob_oos_loss: float
    n_splits: int
    n_blocks: int
    n_cells: int


def pbo(stats: BlockStats, chunk: int = 2048) -> PBOResult:
    """PBO by combinatorially symmetric cross-validation from per-block statistics (see above).

    Performance is the Sharpe ratio (population variance, pooled over the chosen blocks); ties for
    the OOS rank count half. Needs an even number of blocks and at least 2 cells.
    """
    n_blocks, n_cells = stats.sums.shape
    if n_blocks % 2 or n_blocks < 2 or n_cells < 2:
        raise ValueError(f"CSCV needs an even number of blocks (got {n_blocks}) and >= 2 cells (got {n_cells})")
    splits = np.array(list(combinations(range(n_blocks), n_blocks // 2)))
    mask = np.zeros((len(splits), n_blocks))
    mask[np.arange(len(splits))[:, None], splits] = 1.0
    logits, is_sr, oos_sr = [], [], []
    tot_n, tot_s, tot_ss = stats.count.sum(), stats.sums.sum(axis=0), stats.sumsq.sum(axis=0)
    for lo in range(0, len(mask), chunk):
        m = mask[lo:lo + chunk]
        n_in, s_in, ss_in = m @ stats.count, m @ stats.sums, m @ stats.sumsq
        sr_in = _sharpe(n_in[:, None], s_in, ss_in)
        sr_out = _sharpe((tot_n - n_in)[:, None], tot_s - s_in, tot_ss - ss_in)
        best = np.nanargmax(np.where(np.isnan(sr_in), -np.inf, sr_in), axis=1)
        rows = np.arange(len(m))
        win_out = sr_out[rows, best]
        below = np.sum(sr_out < win_out[:, None], axis=1)
        ties = np.sum(sr_out == win_out[:, None], axis=1)
        w = (below + (ties + 1) / 2) / (n_cells + 1)  # average rank (1 = worst) / (N + 1)
        logits.append(np.log(w / (1 - w)))
        is_sr.append(sr_in[rows, best])
        oos_sr.append(win_out)
    lam, x, y = np.concatenate(logits), np.concatenate(is_sr), np.concatenate(oos_sr)
    slope = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 0 else float("nan")
    return PBOResult(float(np.mean(lam <= 0)), lam, x, y, slope, float(np.mean(y < 0)), len(lam), n_blocks, n_cells)


def spa(benchmark: np.ndarray, models: np.ndarray, *, reps: int = 1000, block_size: float | None = None,
        seed: int = 0) -> dict[str, float]:
    """Hansen's SPA p-values of "no model beats the benchmark", from bar returns (higher = better).

    Args:
        benchmark: (bars,) the benchmark's returns (buy & hold).
        models: (bars, models) the candidates' returns.
        reps: bootstrap resamples; block_size: mean block length (None = arch's optimal stationary
            block length of the best model's return difference, at least 1); seed: arch's seed.

    Returns:
        ``p_lower``, ``p_consistent`` (Hansen's recommended one), ``p_upper``, ``models``, ``block_size``.
    """
    from arch.bootstrap import SPA

    from riskoff.significance.bootstrap import block_length

    b = np.asarray(benchmark, dtype=float)
    m = np.asarray(models, dtype=float).reshape(len(b), -1)
    diff = m - b[:, None]
    if block_size is None:
        block_size = block_length(diff[:, [int(np.argmax(diff.mean(axis=0)))]])
    test = SPA(-b, -m, block_size=int(round(block_size)), reps=reps, bootstrap="stationary",
               seed=np.random.default_rng(seed))
    test.compute()
    pv = test.pvalues
    return {"p_lower": float(pv["lower"]), "p_consistent": float(pv["consistent"]), "p_upper": float(pv["upper"]),
            "models": int(m.shape[1]), "block_size": float(block_size)}
