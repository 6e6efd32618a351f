"""The cash rate on real dates: lagged EFFR before SOFR exists (2017), lagged SOFR after (2019).

Both are overnight rates published around 08:00-09:00 New York on the next business day (see the
data README, "Publication lags"), so a bar sees the rate of the last business day whose next
business day's publication came before the bar's decision time (17:00 New York for a US bar,
00:00 UTC at the end of the day for a UTC bar). The expected observation dates were worked out
by hand from the release calendar and the values are read straight from the CSV files.
"""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from riskoff.engine.cash import money_market_rate

# (calendar, bar, series the rate must come from, observation date whose value the bar carries)
PINNED = [
    ("us", "2017-03-13", "EFFR", "2017-03-10"),   # Monday: Friday's rate, published Monday 09:00
    ("us", "2017-03-16", "EFFR", "2017-03-15"),   # the day the March 2017 hike took effect: still 0.66
    ("us", "2017-03-17", "EFFR", "2017-03-16"),   # first bar that sees the new 0.91
    ("utc", "2017-03-18", "EFFR", "2017-03-16"),  # Saturday: Friday's rate is only out on Monday
    ("utc", "2017-03-20", "EFFR", "2017-03-17"),  # Monday (ends 20:00 New York): Friday's rate
    ("us", "2019-01-22", "SOFR", "2019-01-18"),   # Tuesday after MLK day: Friday's rate
    ("us", "2019-09-17", "SOFR", "2019-09-16"),   # repo spike day: the spike is not known yet
    ("us", "2019-09-18", "SOFR", "2019-09-17"),   # 5.25%, published 2019-09-18 08:00
    ("utc", "2019-09-17", "SOFR", "2019-09-16"),
    ("utc", "2019-09-18", "SOFR", "2019-09-17"),
    ("utc", "2019-09-21", "SOFR", "2019-09-19"),  # Saturday: Thursday's rate (published Friday)
]


def csv_values(data_dir, sid: str) -> dict[str, float]:
    with open(data_dir / "series" / "fred" / f"{sid}.csv", newline="") as fh:
        return {r["date"]: float(r["value"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def rates(data_dir) -> dict[str, pd.Series]:
    us = pd.DatetimeIndex(pd.to_datetime(["2017-03-08", "2017-03-09", "2017-03-10", "2017-03-13", "2017-03-14",
                                          "2017-03-15", "2017-03-16", "2017-03-17", "2019-01-17", "2019-01-18",
                                          "2019-01-22", "2019-09-16", "2019-09-17", "2019-09-18"]), name="date")
    return {"us": money_market_rate(us, "us", data_dir=data_dir),
            "utc": pd.concat([money_market_rate(pd.date_range(a, b, name="date"), "utc", data_dir=data_dir)
                              for a, b in [("2017-03-10", "2017-03-21"), ("2019-09-10", "2019-09-22")]])}


@pytest.mark.parametrize("calendar,bar,sid,obs", PINNED)
def test_cash_rate_is_the_lagged_overnight_rate(rates, data_dir, calendar, bar, sid, obs):
    assert rates[calendar].loc[bar] == csv_values(data_dir, sid)[obs]


def test_the_pins_would_see_a_missing_lag(data_dir):
    """Unlagged, the hike day and the spike day would carry a different value: the pins are sharp."""
    effr, sofr = csv_values(data_dir, "EFFR"), csv_values(data_dir, "SOFR")
    assert effr["2017-03-16"] != effr["2017-03-15"] and sofr["2019-09-17"] != sofr["2019-09-16"]
    assert "2017-03-16" not in sofr  # 2017 can only come from the EFFR fallback
