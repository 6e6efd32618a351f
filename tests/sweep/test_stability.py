"""The stability score prefers a broad plateau to an isolated peak."""
from __future__ import annotations

import numpy as np

from riskoff.sweep import stability_scores


def test_plateau_beats_isolated_peak():
    rng = np.random.default_rng(3)
    surface = rng.normal(0.0, 0.05, (15, 15))
    surface[2:8, 2:8] = 0.8 + rng.normal(0, 0.01, (6, 6))      # broad plateau
    surface[11, 11] = 1.0                                        # isolated, higher peak
    assert np.unravel_index(np.nanargmax(surface), surface.shape) == (11, 11)
    score = stability_scores(surface, penalty=1.0)
    best = np.unravel_index(np.nanargmax(score), score.shape)
    assert 3 <= best[0] <= 6 and 3 <= best[1] <= 6             # inside the plateau, away from its edge
    assert score[11, 11] < score[best] - 0.3
    # without the dispersion penalty the neighbourhood mean alone already prefers the plateau
    assert np.unravel_index(np.nanargmax(stability_scores(surface, penalty=0.0)), surface.shape) != (11, 11)


def test_definition_on_a_small_grid():
    v = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]])
    s = stability_scores(v, penalty=0.5)
    # cell (0, 0): neighbours 1, 2, 4 (the NaN is ignored)
    nb = np.array([1.0, 2.0, 4.0])
    assert np.isclose(s[0, 0], nb.mean() - 0.5 * nb.std())
    # cell (1, 2): neighbours 2, 3, 6
    nb = np.array([2.0, 3.0, 6.0])
    assert np.isclose(s[1, 2], nb.mean() - 0.5 * nb.std())
    assert np.isnan(s[1, 1])


def test_flat_surface_keeps_its_level_in_any_dimension():
    for shape in [(7,), (4, 5), (3, 3, 3)]:
        s = stability_scores(np.full(shape, 0.25), penalty=2.0)
        assert np.allclose(s, 0.25)
