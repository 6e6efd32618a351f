"""Weighted risk score of the signal states, mapped to exposure by two thresholds.

Each state scores RISK_ON 0, CAUTION 0.5, RISK_OFF 1. The score is the weighted mean over the
signals that have an opinion at the bar (NaN states drop out and the weights renormalise), so it
lies in 0 .. 1. ``weights``: a table ``{ label = weight }`` (unlisted labels weigh 0) or a list in
signal order; empty = equal weights. Exposure: score >= ``off_threshold`` -> ``off_exposure``;
score >= ``caution_threshold`` -> ``caution_exposure``; else ``on_exposure``. Bars where no
weighted signal has an opinion give NaN (cash).
"""
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskoff import Param
from riskoff.util.errors import did_you_mean
from riskoff.strategies.compose import state_scores

PARAMS = [
    Param("weights", (), description="{ label = weight } or a list in signal order; empty = equal"),
    Param("caution_threshold", 0.25, low=0.0, high=1.0, description="score from which to hold caution_exposure"),
    Param("off_threshold", 0.5, low=0.0, high=1.0, description="score from which to hold off_exposure"),
    Param("on_exposure", 1.0, low=0.0, high=10.0, description="exposure below caution_threshold"),
    Param("caution_exposure", 0.5, low=0.0, high=10.0, description="exposure between the thresholds"),
    Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure at or above off_threshold"),
]


def _weights(labels, weights) -> np.ndarray:
    n = len(labels)
    if weights is None or (hasattr(weights, "__len__") and len(weights) == 0):
        w = np.ones(n)
    elif isinstance(weights, Mapping):
        for key in weights:
            if key not in labels:
                raise ValueError(f"weights names '{key}', which is not one of the signals"
                                 f"{did_you_mean(str(key), labels)}; signals: {', '.join(labels)}")
        w = np.array([weights.get(lab, 0.0) for lab in labels], dtype=object)
    elif isinstance(weights, (list, tuple)):
        if len(weights) != n:
            raise ValueError(f"weights has {len(weights)} entries for {n} signal(s) ({', '.join(labels)})")
        w = np.array(list(weights), dtype=object)
    else:
        raise ValueError(f"weights = {weights!r}: expected a table {{ label = weight }} or a list")
    for v in w:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"weights = {weights!r}: every weight must be a number >= 0")
    w = w.astype("float64")
    if n and w.sum() <= 0:
        raise ValueError(f"weights = {weights!r}: at least one weight must be > 0")
    return w


def check(labels, weights=(), caution_threshold=0.25, off_threshold=0.5, **_):
    _weights(tuple(labels), weights)
    if off_threshold < caution_threshold:
        raise ValueError(f"off_threshold = {off_threshold} is below caution_threshold = {caution_threshold}")


def target(ctx, weights=(), caution_threshold=0.25, off_threshold=0.5, on_exposure=1.0,
           caution_exposure=0.5, off_exposure=0.0):
    w = _weights(tuple(ctx.states.columns), weights)
    scores = state_scores(ctx.states).to_numpy()
    known = ~np.isnan(scores)
    wsum = (known * w).sum(axis=1)
    num = (np.nan_to_num(scores) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(wsum > 0, num / np.where(wsum > 0, wsum, 1.0), np.nan)
    x = np.where(score >= off_threshold - 1e-12, off_exposure,
                 np.where(score >= caution_threshold - 1e-12, caution_exposure, on_exposure))
    return pd.Series(np.where(np.isnan(score), np.nan, x), index=ctx.close.index, dtype="float64")
