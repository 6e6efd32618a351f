"""De-risk when any signal turns risk-off; re-enter only when a named set of signals is risk-on.

Example: exit on any of VIX mean reversion, breadth collapse or an MA break, and re-enter only
once ``signals = ["vix_mean_reversion", "breadth_thrust"]`` are both back RISK_ON (VIX reverted
AND a breadth thrust), whatever the others say.

State machine, bar by bar (causal):
    invested    an *exit* is a signal in ``exit_on`` (default: all) turning RISK_OFF, i.e. its
                state is RISK_OFF and its last known (non-NaN) state before was not (a signal's
                first opinion being RISK_OFF also counts). Exits are edge-triggered so that a
                signal left off after a re-entry does not kick the strategy out again at once.
    de-risked   re-enter (``on_exposure``) when every signal in ``signals`` (default: all) is
                RISK_ON on the bar (or CAUTION too with ``caution_ok``) and no exit fires on it.
Exposure: ``on_exposure`` while invested, ``off_exposure`` while de-risked, NaN before any signal
has an opinion (cash). The strategy starts invested at the first bar with an opinion.
"""
import numpy as np
import pandas as pd

from riskoff import Param
from riskoff.util.errors import did_you_mean
from riskoff.strategies.compose import reentry_latch

PARAMS = [
    Param("signals", (), description="labels that must be back risk-on to re-enter; empty = all"),
    Param("exit_on", (), description="labels whose turn to risk-off de-risks; empty = all"),
    Param("caution_ok", False, description="a CAUTION state counts as recovered for re-entry"),
    Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure while de-risked"),
    Param("on_exposure", 1.0, low=0.0, high=10.0, description="exposure while invested"),
]


def _select(labels, names, key):
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{key} = {names!r}: expected a list of signal labels")
    for n in names:
        if n not in labels:
            raise ValueError(f"{key} names '{n}', which is not one of the signals"
                             f"{did_you_mean(n, labels)}; signals: {', '.join(labels)}")
    chosen = set(names) if names else set(labels)
    return np.array([lab in chosen for lab in labels], dtype=np.bool_)


def check(labels, signals=(), exit_on=(), **_):
    _select(tuple(labels), signals, "signals")
    _select(tuple(labels), exit_on, "exit_on")


def target(ctx, signals=(), exit_on=(), caution_ok=False, off_exposure=0.0, on_exposure=1.0):
    labels = tuple(ctx.states.columns)
    x = reentry_latch(ctx.states.to_numpy(dtype="float64"), _select(labels, exit_on, "exit_on"),
                      _select(labels, signals, "signals"), 1.0 if caution_ok else 0.0, off_exposure, on_exposure)
    return pd.Series(x, index=ctx.close.index, dtype="float64")
