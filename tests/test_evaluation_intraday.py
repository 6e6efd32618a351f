"""Window metrics on an intraday clock: lead and re-entry in hours, on hand-built hourly paths.

The convention (riskoff.evaluation.evaluate.window_metrics): bars are labelled by their open time
T and decided at their close T + bar. A rule is "out at the trough" only on a bar decided (closed)
by the trough instant; ``lead_time_hours`` runs from the close of the first bar of the de-risk run
to the trough, ``reentry_lag_hours`` from the trough to the close of the first bar back at full.
The expected values below are written out by hand from the bar times.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.evaluation.evaluate import window_metrics
from riskoff.evaluation.windows import SellOffWindow

T = pd.Timestamp


def run(out_from: str, back_at: str, trough: str, clock: str = "1h", level: float = 0.0):
    """Window metrics of a rule whose target is ``level`` from bar ``out_from`` up to the bar
    before ``back_at`` (labels = open times), full otherwise; buy & hold falls to ``trough``."""
    idx = pd.date_range("2025-10-08", "2025-10-13 23:55", freq=pd.Timedelta(clock.replace("m", "min")))
    target = pd.Series(1.0, idx)
    target[(idx >= T(out_from)) & (idx < T(back_at))] = level
    bh = pd.Series(np.where(idx <= T(trough), 1.0, 0.7), idx)
    exposure = target.shift(1).fillna(1.0)
    w = SellOffWindow("w", "w", T("2025-10-09"), T(trough), T("2025-10-12"))
    return window_metrics(w, "X", pd.Series(1.0, idx), bh, exposure, target, clock=clock)


def same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-9)


@pytest.mark.parametrize("out_from, trough, lead_hours, lead_days", [
    ("2025-10-10 20:00", "2025-10-10 21:20", 1 / 3, 0),      # decided 21:00: out 20 minutes before the trough
    ("2025-10-10 20:00", "2025-10-10 21:00", 0.0, 0),        # decided at the trough instant itself: out by then
    ("2025-10-09 09:00", "2025-10-10 21:20", 35 + 1 / 3, 1),  # decided 10-09 10:00
    ("2025-10-10 21:00", "2025-10-10 21:20", np.nan, np.nan),  # cut on the bar holding the trough: it closes at 22:00
    ("2025-10-10 21:00", "2025-10-10 21:00", np.nan, np.nan),  # decided 22:00, an hour after the trough
    ("2025-10-10 22:00", "2025-10-10 21:20", np.nan, np.nan),  # after the trough
])
def test_lead_counts_only_bars_closed_by_the_trough(out_from, trough, lead_hours, lead_days):
    m = run(out_from, "2025-10-11 06:00", trough)
    assert same(m["lead_time_hours"], lead_hours), m
    assert same(m["lead_time_days"], lead_days), m


def test_a_cut_on_the_unclosed_trough_bar_is_not_out_at_the_trough():
    m = run("2025-10-10 21:00", "2025-10-11 06:00", "2025-10-10 21:20")
    # nothing was out when the price bottomed: no lead, and no re-entry lag either
    assert np.isnan(m["lead_time_hours"]) and np.isnan(m["lead_time_days"])
    assert np.isnan(m["reentry_lag_hours"])
    # one bar earlier, the same rule is out at the trough and both hour columns are set
    m = run("2025-10-10 20:00", "2025-10-11 06:00", "2025-10-10 21:20")
    assert m["lead_time_hours"] == pytest.approx(1 / 3) and m["reentry_lag_hours"] == pytest.approx(9 + 2 / 3)


@pytest.mark.parametrize("back_at, trough, reentry_hours, reentry_days", [
    ("2025-10-11 03:00", "2025-10-10 21:00", 7.0, 0),         # back on the 03:00 bar, decided at 04:00
    ("2025-10-11 03:00", "2025-10-10 21:20", 6 + 2 / 3, 0),
    ("2025-10-10 21:00", "2025-10-10 21:20", 2 / 3, 0),       # back on the bar holding the trough: its close, 22:00
    ("2025-10-10 22:00", "2025-10-10 21:00", 2.0, 0),         # the first bar opening at/after the trough
    ("2025-10-12 00:00", "2025-10-10 21:00", 28.0, 1),        # decided 10-12 01:00
])
def test_reentry_is_measured_to_the_close_of_the_first_bar_back(back_at, trough, reentry_hours, reentry_days):
    m = run("2025-10-10 15:00", back_at, trough)
    assert m["lead_time_hours"] == pytest.approx((T(trough) - T("2025-10-10 16:00")) / pd.Timedelta(hours=1))
    assert same(m["reentry_lag_hours"], reentry_hours), m
    assert m["reentry_lag_days"] == reentry_days


def test_partial_exposure_is_not_back():
    # out at half exposure through 10-11 05:00: "back" means full again, at the 06:00 bar (decided 07:00)
    m = run("2025-10-10 15:00", "2025-10-11 06:00", "2025-10-10 21:00", level=0.5)
    assert m["lead_time_hours"] == pytest.approx(5.0) and m["reentry_lag_hours"] == pytest.approx(10.0)


def test_five_minute_clock():
    # a 5m bar opening at 21:15 closes at 21:20: out at a 21:20 trough; the 21:20 bar is not
    assert run("2025-10-10 21:15", "2025-10-10 23:00", "2025-10-10 21:20", clock="5m")["lead_time_hours"] == 0.0
    m = run("2025-10-10 21:20", "2025-10-10 23:00", "2025-10-10 21:20", clock="5m")
    assert np.isnan(m["lead_time_hours"]) and np.isnan(m["reentry_lag_hours"])
    m = run("2025-10-10 20:00", "2025-10-10 23:00", "2025-10-10 21:20", clock="5m")
    assert m["lead_time_hours"] == pytest.approx(1 + 1 / 4)              # decided 20:05
    assert m["reentry_lag_hours"] == pytest.approx(1 + 2 / 3 + 1 / 12)   # the 23:00 bar, decided 23:05


def test_daily_clocks_have_no_hour_columns():
    idx = pd.date_range("2025-09-01", "2025-11-30", freq="D")
    target = pd.Series(1.0, idx)
    target["2025-10-08":"2025-10-12"] = 0.0
    one = pd.Series(1.0, idx)
    w = SellOffWindow("w", "w", T("2025-10-01"), T("2025-10-10"), T("2025-10-20"))
    m = window_metrics(w, "X", one, one, target.shift(1).fillna(1.0), target, clock="utc")
    assert "lead_time_hours" not in m and "reentry_lag_hours" not in m
    assert m["lead_time_days"] == 2 and m["reentry_lag_days"] == 3
