"""Overfitting statistics of a finished sweep: number of trials, DSR of the selected cell, SPA, PBO.

Per asset of a sweep result:
    n_trials       combinations with a Sharpe ratio (every one the sweep tried and could score)
    selected       the combination ranked first by the sweep's metric
    dsr, sr0       Deflated Sharpe Ratio of the selected cell (riskoff.significance.overfitting):
                   the trials' Sharpe ratios give N and their variance, the selected cell's bar
                   returns (in excess of the cash return, as the sweep's Sharpe) its skewness and
                   kurtosis; sr0 and sharpe are annualised here for reading
    spa_*          Hansen's SPA p-values of "none of the top cells beats buy & hold" on bar returns,
                   the top ``SPA_LIMIT`` (50) cells by the sweep's ranking, re-simulated through the
                   sweep's own kernel (the sweep keeps no return matrix)
    pbo_*          Probability of Backtest Overfitting by CSCV (S = 16 blocks) over every scored
                   cell, from the per-block sums and sums of squares of its bar returns in excess of
                   cash that the sweep kernel accumulated while it ran (``SweepResult.blocks``,
                   ``riskoff.engine.metrics.block_sums_nb``): no return series is kept or re-simulated;
                   ``pbo_slope`` is the IS -> OOS
                   Sharpe degradation slope, ``pbo_prob_oos_loss`` the share of splits whose IS
                   winner lost out of sample.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kurtosis, skew

from riskoff.engine.account import simulate
from riskoff.engine.metrics import CSCV_BLOCKS
from riskoff.significance.overfitting import (
    SPA_LIMIT,
    BlockStats,
    deflated_sharpe,
    pbo,
    spa,
)

__all__ = ["sweep_overfitting", "sweep_block_stats", "SWEEP_COLUMNS"]

SWEEP_COLUMNS = ["asset", "n_trials", "selected", "sharpe", "sr0", "dsr", "spa_models", "spa_p_lower",
                 "spa_p_consistent", "spa_p_upper", "spa_block_size", "pbo", "pbo_slope", "pbo_prob_oos_loss",
                 "pbo_blocks"]

PBO_BLOCKS = CSCV_BLOCKS


def sweep_block_stats(result, asset: str, combos: list[int]) -> BlockStats:
    """The per-block sums and sums of squares the sweep kernel accumulated for ``combos``, as ``BlockStats``."""
    from riskoff.sweep import asset_context

    done, blk = result.blocks[asset]
    combos = np.asarray(combos, dtype=np.int64)
    rows = np.minimum(np.searchsorted(done, combos), max(len(done) - 1, 0))
    if not len(done) or np.any(done[rows] != combos):
        raise KeyError(f"{asset}: the sweep has no block sums for some of the combinations asked for")
    edges = asset_context(result.plan, asset).edges
    return BlockStats(np.diff(edges).astype(float), np.ascontiguousarray(blk[rows, 0].T),
                      np.ascontiguousarray(blk[rows, 1].T))


def sweep_overfitting(result, *, top: int = SPA_LIMIT, reps: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per asset of ``result`` (a ``riskoff.sweep.SweepResult``) with ``SWEEP_COLUMNS``."""
    from riskoff.sweep import asset_context, sweep_equity

    rows = []
    for asset, g in result.results.groupby("asset", sort=False):
        ctx = asset_context(result.plan, asset)
        root = np.sqrt(ctx.ppy)
        scored = g[np.isfinite(g["sharpe"].to_numpy(dtype=float))].sort_values("rank")
        if scored.empty:
            continue
        combos = [int(c) for c in scored["combo"].head(top)]
        eq, _, _ = sweep_equity(result.plan, asset, combos)
        rets = eq.pct_change().iloc[1:]
        cash = pd.Series(ctx.growth, index=ctx.index).reindex(rets.index).fillna(1.0) - 1.0
        best = rets[combos[0]].to_numpy() - cash.to_numpy()
        trial = scored["sharpe"].to_numpy(dtype=float) / root
        dsr, sr0 = deflated_sharpe(trial[0], len(best), float(skew(best)), float(kurtosis(best, fisher=False)),
                                   len(trial), float(np.var(trial, ddof=1)) if len(trial) > 1 else 0.0)
        bh = simulate(ctx.close_s, pd.Series(1.0, index=ctx.close_s.index), cash_rate=ctx.cash_rate,
                      costs=ctx.costs).equity.iloc[:, 0].reindex(eq.index)
        test = spa(bh.pct_change().iloc[1:].to_numpy(), rets.to_numpy(), reps=reps, seed=seed)
        cells = [int(c) for c in scored["combo"]]
        cv = pbo(sweep_block_stats(result, asset, cells)) if len(cells) >= 2 else None
        rows.append({"asset": asset, "n_trials": len(trial), "selected": combos[0], "sharpe": trial[0] * root,
                     "sr0": sr0 * root, "dsr": dsr, "spa_models": test["models"], "spa_p_lower": test["p_lower"],
                     "spa_p_consistent": test["p_consistent"], "spa_p_upper": test["p_upper"],
                     "spa_block_size": test["block_size"], "pbo": cv.pbo if cv else np.nan,
                     "pbo_slope": cv.slope if cv else np.nan, "pbo_prob_oos_loss": cv.prob_oos_loss if cv else np.nan,
                     "pbo_blocks": PBO_BLOCKS})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)
