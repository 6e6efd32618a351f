"""US readings mapped onto UTC bars (``riskoff.signals.evaluate.map_to_calendar`` through ``run_signal``),
pinned on real dates and cut at every UTC bar of one sell-off.

The rule, from the calendars' decision times: a US bar d is decided at 17:00 New York on d (21:00
or 22:00 UTC, before that UTC day ends); a UTC bar d is decided at 00:00 UTC on d+1. So the UTC bar
of a US trading day sees that day's US reading; a Saturday, a Sunday or an NYSE holiday sees the
last US trading day before it. A mapping one day early (the UTC bar of Thursday seeing Friday's VIX)
is a look-ahead on every BTC rule driven by VIX, breadth or yields.
"""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from signal_testdata import spec_named

from riskoff.signals.evaluate import run_signal
from riskoff.testing import truncated_data_copy

SIGNAL = "vix_mean_reversion"  # a US signal whose output carries the VIX close it read ("vix")

# UTC bar -> the US trading day whose reading it must carry (worked out by hand from the rule above)
PINNED = [
    ("2020-01-03", "2020-01-03"),  # a winter Friday: 17:00 EST = 22:00 UTC, before the UTC day ends
    ("2020-01-04", "2020-01-03"),  # Saturday after a US Friday
    ("2020-01-05", "2020-01-03"),  # Sunday
    ("2020-01-06", "2020-01-06"),  # Monday: Monday's own close (decided 22:00 UTC Monday)
    ("2020-03-12", "2020-03-12"),  # Thursday (EDT: 17:00 New York = 21:00 UTC)
    ("2020-03-13", "2020-03-13"),  # Friday
    ("2020-03-14", "2020-03-13"),  # Saturday after a US Friday
    ("2020-03-15", "2020-03-13"),  # Sunday
    ("2020-03-16", "2020-03-16"),  # Monday: VIX closed at its record 82.69 that day
    ("2020-04-10", "2020-04-09"),  # Good Friday: NYSE closed, Thursday's close carries
    ("2020-04-12", "2020-04-09"),  # the Sunday after it
    ("2020-04-13", "2020-04-13"),  # Monday
]


def vix_closes(data_dir) -> dict[str, float]:
    """VIX closes read straight from the CSV (no riskoff code involved)."""
    with open(data_dir / "series" / "cboe" / "VIX.csv", newline="") as fh:
        return {row["date"]: float(row["close"]) for row in csv.DictReader(fh) if "2019-12" <= row["date"] <= "2020-05"}


@pytest.fixture(scope="module")
def mapped() -> pd.DataFrame:
    return run_signal(spec_named(SIGNAL), calendar="utc", start="2019-12-20", end="2020-04-30")


@pytest.mark.parametrize("utc_day,us_day", PINNED)
def test_a_utc_bar_carries_the_vix_close_of_the_last_us_session_decided_before_it_ends(mapped, data_dir,
                                                                                         utc_day, us_day):
    closes = vix_closes(data_dir)
    assert mapped.loc[utc_day, "vix"] == closes[us_day]


def test_the_pinned_days_are_sharp(data_dir):
    """Each pinned pair would differ if the mapping moved by one US session either way."""
    closes = vix_closes(data_dir)
    days = sorted(closes)
    for _, us_day in PINNED:
        i = days.index(us_day)
        assert closes[days[i - 1]] != closes[us_day] != closes[days[i + 1]]


def test_the_mapped_frame_keeps_every_column_of_the_us_reading(mapped):
    us = run_signal(spec_named(SIGNAL), calendar="us", start="2019-12-20", end="2020-04-30")
    for utc_day, us_day in PINNED:
        pd.testing.assert_series_equal(mapped.loc[utc_day], us.loc[us_day], check_names=False)


def test_cut_at_every_utc_bar_of_the_covid_crash(mapped, data_dir, tmp_path_factory):
    """With the files cut after UTC day t (the world as of t), bar t's mapped reading is unchanged."""
    spec = spec_named(SIGNAL)
    ids = [*spec.series_ids, *spec.optional_series_ids, "SPY", "SPX"]  # SPY/SPX make the US calendar
    for t in pd.date_range("2020-02-20", "2020-03-24", freq="D"):
        cut_dir = tmp_path_factory.mktemp(f"cut{t:%m%d}")
        truncated_data_copy(data_dir, cut_dir, ids, t)
        part = run_signal(spec, calendar="utc", end=t, data_dir=cut_dir)
        assert part.index[-1] == t
        got, want = part.loc[t].to_numpy(dtype=float), mapped.loc[t].to_numpy(dtype=float)
        assert np.array_equal(got, want, equal_nan=True), (t, got, want)


def test_a_us_reading_is_carried_onto_utc_bars_for_at_most_five_days():
    # Friday 2020-03-13 decided 21:00 UTC; UTC bar d ends 00:00 on d+1: Tue 03-17 ends 4 d 3 h later,
    # Wed 03-18 ends 5 d 3 h later (past the bound)
    from riskoff.signals.evaluate import CROSS_CALENDAR_STALE_DAYS, map_to_calendar

    assert CROSS_CALENDAR_STALE_DAYS == 5
    friday = pd.DataFrame({"reading": [1.5], "state": [2.0]}, index=pd.DatetimeIndex(["2020-03-13"], name="date"))
    out = map_to_calendar(friday, "us", "utc", end="2020-03-20")
    assert out["reading"].dropna().index.strftime("%m-%d").tolist() == ["03-13", "03-14", "03-15", "03-16", "03-17"]
