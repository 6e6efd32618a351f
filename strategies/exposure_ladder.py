"""Exposure steps down a ladder as signals fire: by default 100% / 50% / 0% for 0 / 1 / 2+ votes.

Votes: 1 per RISK_OFF signal plus ``caution_weight`` (default 0.5: caution counts as half) per
CAUTION signal. ``steps[i]`` is the exposure with i votes; fractional vote counts interpolate
linearly between neighbouring rungs (one caution = halfway to the next rung) and counts past the
last rung stay on it. NaN states do not vote; bars where no signal has an opinion give NaN.
"""
import numpy as np
import pandas as pd

from riskoff import Param
from riskoff.strategies.compose import off_votes

PARAMS = [
    Param("steps", (1.0, 0.5, 0.0), description="exposure with 0, 1, 2, ... risk-off votes"),
    Param("caution_weight", 0.5, low=0.0, high=1.0, description="vote of one CAUTION state"),
]


def _steps(steps):
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__len__") or len(steps) == 0:
        raise ValueError(f"steps = {steps!r}: expected a non-empty list of exposures like [1.0, 0.5, 0.0]")
    for s in steps:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s <= 10.0:
            raise ValueError(f"steps = {list(steps)!r}: every rung must be a number in 0 .. 10")
    return np.asarray(steps, dtype="float64")


def check(labels, steps=(1.0, 0.5, 0.0), **_):
    _steps(steps)


def target(ctx, steps=(1.0, 0.5, 0.0), caution_weight=0.5):
    rungs = _steps(steps)
    votes = off_votes(ctx.states, caution_weight)
    x = np.interp(votes.fillna(0.0).to_numpy(), np.arange(len(rungs), dtype="float64"), rungs)
    return pd.Series(x, index=ctx.close.index, dtype="float64").where(votes.notna())
