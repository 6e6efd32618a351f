"""At least ``k`` signals risk-off -> ``off_exposure`` (default 0), otherwise ``on_exposure``.

Votes: 1 per RISK_OFF signal plus ``caution_weight`` per CAUTION signal (default 0: caution does
not vote). NaN states do not vote; bars where no signal has an opinion give NaN (cash). ``k``
must not exceed the number of signals (checked against the config before any data is loaded).
k = 1 is ``any_off``; k = n is ``all_off``.
"""
import numpy as np
import pandas as pd

from riskoff import Param
from riskoff.strategies.compose import off_votes

PARAMS = [
    Param("k", 2, low=1, high=100, description="risk-off votes needed to de-risk"),
    Param("caution_weight", 0.0, low=0.0, high=1.0, description="vote of one CAUTION state"),
    Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure with >= k votes"),
    Param("on_exposure", 1.0, low=0.0, high=10.0, description="exposure otherwise"),
]


def check(labels, k=2, **_):
    if k > len(labels):
        raise ValueError(f"k = {k} but only {len(labels)} signal(s) are listed ({', '.join(labels)}); "
                         f"expected 1 .. {len(labels)}")


def target(ctx, k=2, caution_weight=0.0, off_exposure=0.0, on_exposure=1.0):
    votes = off_votes(ctx.states, caution_weight)
    out = pd.Series(np.where(votes >= k - 1e-9, off_exposure, on_exposure), index=ctx.close.index,
                    dtype="float64")
    return out.where(votes.notna())
