"""The shift null's range (riskoff.significance.null): a circular shift of 1 .. n-1 bars, never 0 (the
strategy's own path, a tie that is not random timing), every allowed shift reachable. Many seeds on
short series; each path is identified by rotating the decided values in a plain loop."""
from __future__ import annotations

import numpy as np
import pytest

from riskoff.significance.null import pair_rng, shift_paths


def _rotation(values: list[float], k: int) -> list[float]:
    """values rotated right by k bars: out[t] = values[(t - k) mod n]."""
    n = len(values)
    return [values[(t - k) % n] for t in range(n)]


def _shifts_drawn(values: list[float], warmup: int, seeds: range, paths: int) -> list[int]:
    target = np.r_[np.full(warmup, np.nan), values]
    n = len(values)
    drawn = []
    for seed in seeds:
        out = shift_paths(target, paths, pair_rng(seed, "rule/ASSET"))
        assert out.shape == (len(target), paths)
        assert np.isnan(out[:warmup]).all()  # the warm-up has no decision in any path
        for p in range(paths):
            col = list(out[warmup:, p])
            ks = [k for k in range(n) if _rotation(values, k) == col]
            assert len(ks) == 1, f"seed {seed} path {p}: {col} is not a rotation of {values}"
            drawn.append(ks[0])
    return drawn


@pytest.mark.parametrize("n, warmup", [(5, 0), (7, 3), (3, 2), (2, 0)])
def test_shift_is_never_zero_and_every_shift_is_reachable(n, warmup):
    values = [round(0.1 * (i + 1), 1) for i in range(n)]  # distinct, so each rotation is recognisable
    drawn = _shifts_drawn(values, warmup, range(60), paths=25)
    assert 0 not in drawn
    assert set(drawn) == set(range(1, n))
    # uniform over 1 .. n-1: 1,500 draws, each shift near 1500 / (n - 1)
    counts = np.bincount(drawn, minlength=n)[1:]
    expected = len(drawn) / (n - 1)
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
