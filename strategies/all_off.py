"""Every signal risk-off -> ``off_exposure`` (default 0), otherwise ``on_exposure`` (default 1).

The most patient combination: de-risk only when all listed signals agree. A signal that is still
warming up (NaN) is not a risk-off vote, so it keeps the strategy invested; bars where no signal
has an opinion give NaN (cash). With ``caution_is_off`` a CAUTION state counts as risk-off.
"""
import numpy as np
import pandas as pd

from riskoff import Param
from riskoff.strategies.compose import off_votes

PARAMS = [
    Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure while every signal is risk-off"),
    Param("on_exposure", 1.0, low=0.0, high=10.0, description="exposure otherwise"),
    Param("caution_is_off", False, description="count CAUTION as a risk-off vote"),
]


def target(ctx, off_exposure=0.0, on_exposure=1.0, caution_is_off=False):
    n = ctx.states.shape[1]
    votes = off_votes(ctx.states, 1.0 if caution_is_off else 0.0)
    out = pd.Series(np.where(votes >= n, off_exposure, on_exposure), index=ctx.close.index, dtype="float64")
    return out.where(votes.notna())
