"""DSR, PBO (CSCV) and SPA against published values, hand-checked cases and plain re-computations."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.stats import kurtosis, rankdata, skew

from riskoff.significance.overfitting import (
    block_stats,
    deflated_sharpe,
    deflated_sharpe_of_best,
    expected_max_sharpe,
    pbo,
    probabilistic_sharpe,
    spa,
)


def test_dsr_reproduces_the_papers_numerical_example():
    # Bailey & Lopez de Prado (2014), section "A numerical example": best of N = 100 trials with an
    # annualised SR of 2.5 over T = 1,250 daily bars, skewness -3, kurtosis 10, and a variance of
    # the trials' annualised SRs of 1/2. The paper reports SR0 = 0.1132 (per day) and DSR = 0.9004.
    dsr, sr0 = deflated_sharpe(2.5 / np.sqrt(250), 1250, -3.0, 10.0, 100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=1e-4)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_psr_hand_checked():
    # normal returns (skew 0, kurtosis 3), SR 0.1 per bar over 101 bars against 0:
    # Z(0.1 x 10 / sqrt(1 + 0.5 x 0.01)) = Z(0.99751) = 0.84074
    assert probabilistic_sharpe(0.1, 0.0, 101, 0.0, 3.0) == pytest.approx(0.84074, abs=1e-4)
    assert probabilistic_sharpe(0.05, 0.05, 500, -1.0, 6.0) == pytest.approx(0.5)
    assert expected_max_sharpe(1, 0.01) == 0.0


def _pbo_reference(r: np.ndarray, s: int) -> tuple[float, np.ndarray]:
    """CSCV written out from the return matrix, as in the paper's steps."""
    blocks = np.array_split(np.arange(len(r)), s)
    lam = []
    for train in combinations(range(s), s // 2):
        test = [b for b in range(s) if b not in train]
        is_rows = np.concatenate([blocks[b] for b in train])
        oos_rows = np.concatenate([blocks[b] for b in test])
        is_sr = r[is_rows].mean(axis=0) / r[is_rows].std(axis=0)
        oos_sr = r[oos_rows].mean(axis=0) / r[oos_rows].std(axis=0)
        star = int(np.argmax(is_sr))
        w = rankdata(oos_sr)[star] / (r.shape[1] + 1)
        lam.append(np.log(w / (1 - w)))
    lam = np.array(lam)
    return float(np.mean(lam <= 0)), lam


def test_pbo_from_block_sums_equals_cscv_on_the_return_matrix():
    rng = np.random.default_rng(0)
    r = rng.normal(0.0002, 0.01, size=(503, 7)) + rng.normal(0, 0.002, size=(503, 1))
    ref_pbo, ref_lam = _pbo_reference(r, 6)
    got = pbo(block_stats(r, 6))
    assert got.n_splits == 20 and got.n_blocks == 6 and got.n_cells == 7
    np.testing.assert_allclose(got.logits, ref_lam, rtol=1e-10)
    assert got.pbo == ref_pbo


def test_pbo_hand_checked_extremes():
    # two blocks, two cells. A wins block 0 and loses block 1, B the reverse: the IS winner is
    # always the OOS loser: rank 1 of 2, w = 1/3, logit ln(1/2) < 0 on both splits -> PBO = 1
    a = np.r_[np.full(50, 0.02), np.full(50, -0.01)] + np.tile([0.001, -0.001], 50)
    b = np.r_[np.full(50, -0.01), np.full(50, 0.02)] + np.tile([0.001, -0.001], 50)
    res = pbo(block_stats(np.column_stack([a, b]), 2))
    assert res.pbo == 1.0
    np.testing.assert_allclose(res.logits, np.log(0.5))
    # A beats B in both blocks: rank 2 of 2, w = 2/3, logit ln 2 > 0 -> PBO = 0
    res = pbo(block_stats(np.column_stack([a + 0.05, a]), 2))
    assert res.pbo == 0.0
    np.testing.assert_allclose(res.logits, np.log(2.0))


def _grid(n_cells: int, edge: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    market = rng.standard_t(5, size=2000) * 0.01
    out = rng.random((2000, n_cells)) < 0.3  # each cell out of the market 30% of bars, at random
    r = np.where(out, 0.0, market[:, None]) + rng.normal(0, 0.002, size=(2000, n_cells))
    r[:, 0] += edge  # the planted edge: cell 0 earns a little extra on every bar
    return r


def _dsr_of_best(r: np.ndarray) -> float:
    sr = r.mean(axis=0) / r.std(axis=0, ddof=1)
    out = deflated_sharpe_of_best(sr, r[:, int(np.argmax(sr))])
    x = r[:, int(np.argmax(sr))]  # the helper's inputs, recomputed by hand
    assert out["n_trials"] == r.shape[1] and out["n_obs"] == len(x)
    assert out["sharpe"] == pytest.approx(sr.max()) and out["var_trials"] == pytest.approx(np.var(sr, ddof=1))
    assert out["kurtosis"] == pytest.approx(kurtosis(x, fisher=False)) and out["skew"] == pytest.approx(skew(x))
    return out["dsr"]


def test_noise_grids_overfit_and_planted_edges_do_not():
    # PBO of one noise grid is itself noisy (the splits share one sample), so the check is on 12
    # grids: their mean PBO is near 0.5 and the best cell's DSR is rarely significant (5% level)
    noise = [_grid(60, 0.0, seed=s) for s in range(10, 22)]
    res = [pbo(block_stats(r, 16)) for r in noise]
    assert res[0].n_splits == 12870
    assert 0.35 <= np.mean([x.pbo for x in res]) <= 0.65
    assert sum(_dsr_of_best(r) > 0.95 for r in noise) <= 2
    for seed in range(3):
        edge = _grid(60, 0.0015, seed=seed)
        res = pbo(block_stats(edge, 16))
        assert res.pbo < 0.05 and res.prob_oos_loss < 0.05
        assert _dsr_of_best(edge) > 0.95


def test_spa_rejects_only_with_an_edge():
    noise = _grid(20, 0.0, seed=2)
    bench = noise[:, 1:].mean(axis=1)  # a benchmark as good as the cells on average
    assert spa(bench, noise, reps=500, seed=0)["p_consistent"] > 0.1
    edge = _grid(20, 0.0015, seed=2)
    out = spa(bench, edge, reps=500, seed=0)
    assert out["p_consistent"] < 0.01 and out["models"] == 20
    assert out["p_lower"] <= out["p_consistent"] <= out["p_upper"]
