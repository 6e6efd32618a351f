"""Scorecard edges (riskoff.evaluation.scorecard) on a hand-built path with one sell-off: the catch
window ends at the trough bar (a warning on it catches, one a bar later does not), and the chance rate
of a signal whose readings start late (and stop early) is taken over its span of readings only, as
the module docstring defines it. References are plain loops over bar positions, not the module's code."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.evaluation.scorecard import (
    CATCH_LOOKBACK_DAYS,
    EpisodeBars,
    episodes_for,
    score_pair,
)

IDX = pd.bdate_range("2016-01-04", periods=221)
# up from 100 to the peak 120 on bar 80, down to the trough 96 (-20%) on bar 100, a 12.5% rally to
# bar 110 (the episode ends there, "rally") and a slow rise to 150: exactly one 10% episode
CLOSE = pd.Series(np.r_[np.linspace(100, 120, 81), np.linspace(120, 96, 21)[1:], np.linspace(96, 108, 11)[1:],
                        np.linspace(108, 150, 111)[1:]], index=IDX)
PEAK, TROUGH = 80, 100


def _lookback_bar() -> int:
    """First bar on or after the peak minus CATCH_LOOKBACK_DAYS calendar days (plain loop)."""
    start = IDX[PEAK] - pd.Timedelta(days=CATCH_LOOKBACK_DAYS)
    return next(i for i, d in enumerate(IDX) if d >= start)


LOOKBACK = _lookback_bar()


def _bars() -> EpisodeBars:
    eps = episodes_for("X", CLOSE, "equity", {})
    assert [(e.peak, e.trough) for e in eps] == [(IDX[PEAK], IDX[TROUGH])]  # the path is what it says
    return EpisodeBars.of(IDX, eps)


def _states(warn_bars, first: int = 0, last: int = len(IDX) - 1, value: float = RISK_OFF) -> pd.Series:
    s = np.full(len(IDX), float(RISK_ON))
    s[list(warn_bars)] = value
    s[:first] = np.nan
    s[last + 1:] = np.nan
    return pd.Series(s, index=IDX)


@pytest.mark.parametrize("bar, caught", [
    (TROUGH + 1, 0),    # the first bar of the rebound: too late, the fall is over
    (TROUGH + 5, 0),
    (TROUGH, 1),        # on the trough bar itself
    (TROUGH - 1, 1),
    (PEAK, 1),
    (LOOKBACK, 1),      # the first bar of the look-back
    (LOOKBACK - 1, 0),
])
def test_catch_window_runs_from_the_lookback_to_the_trough_bar(bar, caught):
    for level in (RISK_OFF, CAUTION):
        row = score_pair(_states([bar], value=level), CLOSE, _bars(), "equity")
        assert row["eligible"] == 1
        assert row["caught"] == caught and row["catch_rate"] == caught
        # plain reference: a warning on a bar of [look-back, trough]
        assert caught == int(LOOKBACK <= bar <= TROUGH)


def test_a_warning_at_the_trough_has_suffered_the_whole_fall():
    at = score_pair(_states([TROUGH]), CLOSE, _bars(), "equity")
    assert at["fall_at_fire"] == pytest.approx(1.0)
    after = score_pair(_states([TROUGH + 1]), CLOSE, _bars(), "equity")
    assert np.isnan(after["fall_at_fire"]) and after["lead_n"] == 0


def _chance_reference(state: pd.Series) -> float:
    """Share of the circular shifts of the warning pattern, within the span of readings, under which
    the episode's bars (look-back .. trough) hold a warning: an explicit rotation per shift."""
    has = [i for i in range(len(state)) if not np.isnan(state.iloc[i])]
    a, b = has[0], has[-1]
    pattern = [bool(state.iloc[i] >= CAUTION) for i in range(a, b + 1)]  # no reading inside the span = no warning
    m = len(pattern)
    hits = 0
    for k in range(m):
        rotated = [pattern[(t - k) % m] for t in range(m)]
        hits += any(rotated[t - a] for t in range(LOOKBACK, TROUGH + 1))
    return hits / m


@pytest.mark.parametrize("first, last", [(30, 220), (30, 195), (0, 220)])
def test_chance_rate_is_over_the_span_of_readings(first, last):
    # a 6-bar warning run after the episode and a lone caution bar, further apart than the episode's
    # span (look-back to trough) on the ring: neither catches the episode
    st = _states([*range(140, 146), 190], first=first, last=last)
    st.iloc[190] = CAUTION
    row = score_pair(st, CLOSE, _bars(), "equity")
    assert row["eligible"] == 1 and row["caught"] == 0
    span = TROUGH - LOOKBACK + 1
    expected = _chance_reference(st)
    # closed form for these two warning runs on a ring of m bars: (6 + span - 1) + (1 + span - 1) shifts
    assert expected == pytest.approx((6 + span - 1 + span) / (last - first + 1))
    assert row["chance_rate"] == pytest.approx(expected, rel=1e-12)
    assert row["catch_edge"] == pytest.approx(0.0 - expected, rel=1e-12)
    assert row["years"] == pytest.approx((last - first + 1) / 252)


def test_chance_rate_counts_an_unread_bar_inside_the_span_as_no_warning():
    st = _states([*range(140, 146)], first=30, last=200)
    st.iloc[150:160] = np.nan  # a gap in the readings, inside the span
    row = score_pair(st, CLOSE, _bars(), "equity")
    assert row["chance_rate"] == pytest.approx(_chance_reference(st), rel=1e-12)
    assert row["chance_rate"] == pytest.approx((6 + TROUGH - LOOKBACK) / (200 - 30 + 1))
