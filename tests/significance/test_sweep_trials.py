"""DSR's number of trials on a grid larger than the SPA's top cells (riskoff.significance.sweep): the
Deflated Sharpe Ratio is deflated by every cell the sweep tried and scored (N and the variance of
their Sharpe ratios), while only the SPA re-simulates the top ``SPA_LIMIT`` cells. The other sweep
tests' grids have fewer than 50 cells, where the two counts coincide.

The reference is Bailey & Lopez de Prado's formula written out here with scipy's normal quantiles on
the sweep's own results table, not riskoff's implementation."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kurtosis, norm, skew

from riskoff.significance.overfitting import SPA_LIMIT
from riskoff.significance.sweep import sweep_overfitting
from riskoff.sweep import (
    asset_context,
    parse_sweep_config,
    plan_sweep,
    run_sweep,
    sweep_equity,
)

WINDOWS = list(range(20, 260, 8))  # 30 lengths x 2 = 60 cells > SPA_LIMIT


@pytest.fixture(scope="module")
def swept(data_dir):
    doc = {"run": {"name": "t", "assets": ["SPY"], "start": "2019-01-01", "end": "2026-03-31"},
           "sweep": {"metric": "sharpe"}, "strategy": {"name": "ma", "rule": "ma_timing"},
           "grid": {"rule.window": WINDOWS, "overlays.min_bars_out": [0, 5]}}
    return run_sweep(plan_sweep(parse_sweep_config(doc, "t.toml"), data_dir=data_dir))


def _dsr_reference(sr: float, trials: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(DSR, SR0), per bar, from the paper's formulas."""
    gamma = 0.5772156649015329
    n = len(trials)
    v = np.var(trials, ddof=1)
    sr0 = np.sqrt(v) * ((1 - gamma) * norm.ppf(1 - 1 / n) + gamma * norm.ppf(1 - 1 / (n * np.e)))
    g3, g4 = skew(x), kurtosis(x, fisher=False)
    z = (sr - sr0) * np.sqrt(len(x) - 1) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr ** 2)
    return float(norm.cdf(z)), float(sr0)


@pytest.mark.parametrize("top", [SPA_LIMIT, 5])
def test_dsr_counts_every_scored_cell_not_the_spa_top(swept, top):
    res = swept.results
    scored = res[np.isfinite(res["sharpe"])]
    assert len(res) == 2 * len(WINDOWS) > SPA_LIMIT and len(scored) == len(res)
    row = sweep_overfitting(swept, top=top, reps=50).iloc[0]
    assert row.n_trials == len(scored) and row.spa_models == top
    ctx = asset_context(swept.plan, "SPY")
    root = np.sqrt(ctx.ppy)
    best = int(res.loc[res["rank"] == 1, "combo"].iloc[0])
    eq, _, _ = sweep_equity(swept.plan, "SPY", [best])
    x = eq[best].pct_change().iloc[1:].to_numpy() - (ctx.growth[1:] - 1.0)
    dsr, sr0 = _dsr_reference(float(res.loc[res["rank"] == 1, "sharpe"].iloc[0]) / root,
                              scored["sharpe"].to_numpy() / root, x)
    assert row.sr0 == pytest.approx(sr0 * root, rel=1e-9)
    assert row.dsr == pytest.approx(dsr, rel=1e-6)
    # deflating by the top cells only would be a different (smaller N, narrower spread) benchmark
    top_cells = res.sort_values("rank")["sharpe"].head(SPA_LIMIT).to_numpy() / root
    assert abs(_dsr_reference(row.sharpe / root, top_cells, x)[1] - sr0) > 1e-3 * abs(sr0)
