"""protection_table and window_outcome on hand-built numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from riskoff.reports.protection import (
    protection_table,
    significance_mark,
    window_outcome,
)


def _stats(rows):
    return pd.DataFrame([{"strategy": s, "asset": "X", "cagr": c, "sharpe": sh} for s, c, sh in rows])


def _windows(rows):
    return pd.DataFrame([{"strategy": s, "asset": "X", "window": w, "drawdown_avoided": a, "bh_max_dd": -0.2,
                          "exposure_at_trough": 0.0} for s, w, a in rows])


def test_frontier_first_then_by_protection_and_costs_against_buy_and_hold():
    stats = _stats([("buy_and_hold", 0.10, 0.8), ("cheap", 0.09, 0.9), ("strong", 0.05, 0.5),
                    ("dominated", 0.04, 0.4), ("free", 0.11, 1.0)])
    windows = _windows([("buy_and_hold", "w", 0.0), ("cheap", "w", 0.02), ("strong", "w", 0.10),
                        ("dominated", "w", 0.08), ("free", "w", 0.01)])
    t = protection_table(stats, windows).set_index("strategy")
    # strong (10 pp for 5 pp/yr), cheap (2 pp for 1), free (1 pp for -1) are undominated; dominated is
    # beaten by strong on both; buy & hold is last.
    assert list(t.sort_values("rank").index) == ["strong", "cheap", "free", "dominated", "buy_and_hold"]
    assert t.loc["dominated", "on_frontier"] == False  # noqa: E712
    assert t.loc["strong", "cagr_given_up"] == pytest.approx(0.05)
    assert t.loc["free", "cagr_given_up"] == pytest.approx(-0.01)
    assert t.loc["cheap", "sharpe_change"] == pytest.approx(0.1)


def test_outcomes_and_marks():
    base = {"bh_max_dd": -0.2, "drawdown_avoided": 0.0, "exposure_at_trough": 1.0}
    assert window_outcome(base) == "held"
    assert window_outcome({**base, "exposure_at_trough": 0.0}) == "no_gain"
    assert window_outcome({**base, "drawdown_avoided": 0.005}) == "protected"
    assert window_outcome({**base, "drawdown_avoided": -0.006}) == "worse"
    assert window_outcome({**base, "bh_max_dd": -0.029, "drawdown_avoided": 0.02}) == "nothing"
    assert [significance_mark(p) for p in (0.009, 0.049, 0.05, float("nan"), None)] == ["**", "*", "", "", ""]
