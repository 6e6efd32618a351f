"""Helpers rule modules compose with.

:func:`off_votes`, :func:`has_opinion`, :func:`state_scores` and the
numba latch :func:`reentry_latch`. Put numba kernels with ``cache=True`` in an importable module,
not in the plug-in file itself: plug-ins are imported under a synthetic module name that numba's
on-disk cache cannot re-import.

Conventions shared by the shipped rules: a NaN state is never counted as a risk-off vote, and a
bar on which no signal has an opinion gives NaN (cash).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from riskoff.signals.contract import CAUTION, RISK_OFF, RISK_ON

__all__ = ["has_opinion", "off_votes", "state_scores", "reentry_latch"]


# --------------------------------------------------------------------------------------------
# Helpers for rule modules
# --------------------------------------------------------------------------------------------
def has_opinion(states: pd.DataFrame) -> pd.Series:
    """True on bars where at least one signal has a state (not NaN)."""
    return states.notna().any(axis=1)


def off_votes(states: pd.DataFrame, caution_weight: float = 0.0) -> pd.Series:
    """Risk-off votes per bar: 1 per RISK_OFF signal plus ``caution_weight`` per CAUTION signal.

    NaN states do not vote; bars where no signal has an opinion are NaN.
    """
    v = (states == RISK_OFF).sum(axis=1).astype("float64")
    if caution_weight:
        v = v + caution_weight * (states == CAUTION).sum(axis=1)
    return v.where(has_opinion(states))


def state_scores(states: pd.DataFrame) -> pd.DataFrame:
    """States mapped to risk scores: RISK_ON 0, CAUTION 0.5, RISK_OFF 1, NaN stays NaN."""
    return states.replace({RISK_ON: 0.0, CAUTION: 0.5, RISK_OFF: 1.0}).astype("float64")


# --------------------------------------------------------------------------------------------
# numba helpers for rule modules
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _reentry_latch_kernel(states, exit_mask, entry_mask, entry_max_state, off_exposure, on_exposure):
    n, m = states.shape
    out = np.full(n, np.nan)
    last = np.full(m, -1.0)
    started = False
    invested = True
    for t in range(n):
        exit_edge = False
        opinion = False
        for j in range(m):
            s = states[t, j]
            if s == s:
                opinion = True
                if exit_mask[j] and s == 2.0 and last[j] != 2.0:
                    exit_edge = True
                last[j] = s
        if not started:
            if not opinion:
                continue
            started = True
        if invested:
            if exit_edge:
                invested = False
        elif not exit_edge:
            ok = True
            for j in range(m):
                if entry_mask[j]:
                    s = states[t, j]
                    if not (s == s and s <= entry_max_state):
                        ok = False
                        break
            if ok:
                invested = True
        out[t] = on_exposure if invested else off_exposure
    return out


def reentry_latch(states: np.ndarray, exit_mask: np.ndarray, entry_mask: np.ndarray, entry_max_state: float,
                  off_exposure: float, on_exposure: float) -> np.ndarray:
    """Edge-triggered exit / conditional re-entry latch over a (bars x signals) state array.

    Exit when a signal in ``exit_mask`` turns RISK_OFF (its last known state was not RISK_OFF);
    re-enter when every signal in ``entry_mask`` has a state <= ``entry_max_state`` and no exit
    fires on the bar. NaN before the first bar with an opinion. Used by strategies/reenter_when.py
    (numba's on-disk cache needs an importable module, so kernels live here, not in plug-ins).
    """
    return _reentry_latch_kernel(np.ascontiguousarray(states, dtype="float64"), np.asarray(exit_mask, np.bool_),
                                 np.asarray(entry_mask, np.bool_), float(entry_max_state), float(off_exposure),
                                 float(on_exposure))
