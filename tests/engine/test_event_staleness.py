"""Staleness on the event path, measured from publication, on hand-built series with gaps.

The snapshot's series have no gap longer than their ``max_stale_days``, so on real data it never
shows whether the event path's bound (``EventStream.asof_frame(stale=True)``, which the event
engine's ``asset_bars`` uses) counts from the publication instant or from the observation stamp.
Here a synthetic data dir holds an hourly bar series and SOFR, each with a gap, under the real
catalog entries. The references are publication instants written out by hand from the catalog's
rules, and a plain loop over them:

- SOFR (fred family, ``publish_time = "08:00"`` New York, one US business day later,
  ``max_stale_days = 7``): a print for day d is public at 08:00 New York on the next business
  day (12:00 UTC in October, summer time); Monday 2025-10-13 is a federal holiday (Columbus Day).
- BINANCE-BTCUSDT-1H (intraday family, ``bar = "1h"``, ``max_stale_days = 2``): a bar stamped at
  its open time T is public at its close T + 1h.
- a bar T of the 1h clock is decided at its close T + 1h and sees what is public by then.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load_catalog
from riskoff.data.events import EventStream, SeriesEvents, event_stream, series_events
from riskoff.engine.event_driven import asset_bars

H1 = "BINANCE-BTCUSDT-1H"
# the reader refuses a bar series with a hole longer than its max_gap (6h in the catalog): a user
# who accepts outages declares a longer one, and then the staleness bound is what ends the carry
CAT = load_catalog(extra={"series": {H1: {"family": "intraday", "max_gap": "3d"}}})
HOUR, DAY = pd.Timedelta(hours=1), pd.Timedelta(days=1)

# SOFR prints (observation date, percent) and, by hand, when each is public (UTC)
SOFR_ROWS = [("2025-10-01", 4.11), ("2025-10-10", 4.22), ("2025-10-27", 4.33)]
SOFR_PUBLIC = {
    "2025-10-01": "2025-10-02 12:00",   # Wednesday's print: Thursday 08:00 New York (EDT = UTC-4)
    "2025-10-10": "2025-10-14 12:00",   # Friday's print: Monday is Columbus Day, so Tuesday 08:00
    "2025-10-27": "2025-10-28 12:00",
}
SOFR_STALE = 7 * DAY

# hourly bars 2025-10-06 00:00 .. 10:00, then nothing until 2025-10-09 00:00 .. 05:00
BAR_STAMPS = list(pd.date_range("2025-10-06 00:00", "2025-10-06 10:00", freq="1h")) + \
    list(pd.date_range("2025-10-09 00:00", "2025-10-09 05:00", freq="1h"))
BAR_STALE = 2 * DAY


def bar_close(stamp: pd.Timestamp) -> float:
    return 60000.0 + 10.0 * (stamp - BAR_STAMPS[0]) / HOUR


@pytest.fixture(scope="module")
def gap_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("gapdata")
    (root / "series" / "fred").mkdir(parents=True)
    (root / "series" / "intraday").mkdir(parents=True)
    (root / "series" / "fred" / "SOFR.csv").write_text(
        "date,value\n" + "".join(f"{d},{v}\n" for d, v in SOFR_ROWS))
    lines = ["time,open,high,low,close,volume"]
    for t in BAR_STAMPS:
        c = bar_close(t)
        lines.append(f"{t:%Y-%m-%dT%H:%M:%SZ},{c - 5},{c + 20},{c - 20},{c},1.5")
    (root / "series" / "intraday" / f"{H1}.csv").write_text("\n".join(lines) + "\n")
    return root


def reference(decide: pd.Timestamp, published: list[tuple[pd.Timestamp, float]], bound: pd.Timedelta) -> float:
    """The last value public by ``decide`` if it was published at most ``bound`` before; else NaN."""
    best = None
    for when, value in published:
        if when <= decide:
            best = (when, value)
    if best is None or decide - best[0] > bound:
        return float("nan")
    return best[1]


def sofr_published() -> list[tuple[pd.Timestamp, float]]:
    return [(pd.Timestamp(SOFR_PUBLIC[d]), v) for d, v in SOFR_ROWS]


def bars_published() -> list[tuple[pd.Timestamp, float]]:
    return [(t + HOUR, bar_close(t)) for t in BAR_STAMPS]


def test_the_synthetic_series_are_published_by_the_catalog_rules(gap_dir):
    sofr = series_events(CAT["SOFR"], gap_dir)
    assert list(pd.to_datetime(sofr.published)) == [w for w, _ in sofr_published()]
    assert sofr.max_stale_ns == SOFR_STALE.value
    bars = series_events(CAT[H1], gap_dir)
    assert list(pd.to_datetime(bars.published)) == [w for w, _ in bars_published()]
    assert bars.max_stale_ns == BAR_STALE.value


@pytest.fixture(scope="module")
def engine_bars(gap_dir):
    stream = event_stream([H1, "SOFR"], data_dir=gap_dir, catalog=CAT)
    return asset_bars(stream, CAT[H1], "2025-10-06", "2025-10-22", cash="SOFR", data_dir=gap_dir, catalog=CAT)


def test_engine_bars_carry_each_value_for_its_bound_after_publication(engine_bars):
    b = engine_bars
    assert b.index[0] == pd.Timestamp("2025-10-06 00:00") and len(b.index) == 17 * 24
    decide = b.index + HOUR  # each hourly bar is decided at its close
    assert np.array_equal(b.decided_at, decide.as_unit("ns").asi8)
    want_close = [reference(d, bars_published(), BAR_STALE) for d in decide]
    want_rate = [reference(d, sofr_published(), SOFR_STALE) for d in decide]
    np.testing.assert_array_equal(b.close.to_numpy(), np.array(want_close))
    np.testing.assert_array_equal(b.cash_rate.to_numpy(), np.array(want_rate))


@pytest.mark.parametrize("bar, close", [
    # the 10:00 bar of 10-06 closes (is published) at 11:00: carried until 2025-10-08 11:00 inclusive
    ("2025-10-08 09:00", 60100.0),     # decided 10:00: 47 h after publication (and 48 h after the stamp)
    ("2025-10-08 10:00", 60100.0),     # decided 11:00: exactly two days after publication
    ("2025-10-08 11:00", np.nan),      # decided 12:00: past the bound
    ("2025-10-08 23:00", np.nan),      # decided 10-09 00:00: the 00:00 bar is not closed yet
    ("2025-10-09 00:00", 60720.0),     # decided 01:00: its own close
])
def test_a_bar_series_gap_goes_stale_two_days_after_the_last_close(engine_bars, bar, close):
    got = engine_bars.close[pd.Timestamp(bar)]
    assert (np.isnan(got) and np.isnan(close)) or got == close


@pytest.mark.parametrize("bar, rate", [
    ("2025-10-06 00:00", 4.11),
    ("2025-10-07 23:00", 4.11),      # decided 10-08 00:00: 7 days after the stamp, 5.5 after publication
    ("2025-10-09 11:00", 4.11),      # decided 12:00: exactly 7 days after publication
    ("2025-10-09 12:00", np.nan),    # decided 13:00: past the bound
    ("2025-10-14 10:00", np.nan),    # decided 11:00: Friday's print waits for Tuesday (holiday Monday)
    ("2025-10-14 11:00", 4.22),      # decided 12:00: published at that very instant
    ("2025-10-17 00:00", 4.22),      # 7 days after Friday's stamp, 2.5 after its publication
    ("2025-10-21 11:00", 4.22),      # decided 12:00: exactly 7 days after publication
    ("2025-10-21 12:00", np.nan),
])
def test_the_cash_rate_goes_stale_seven_days_after_publication(engine_bars, bar, rate):
    got = engine_bars.cash_rate[pd.Timestamp(bar)]
    assert (np.isnan(got) and np.isnan(rate)) or got == rate


def test_direct_stream_with_a_long_publication_lag():
    """A monthly print usable 45 days after the month it measures, then two missing months: the
    bound (70 days) runs from publication, not from the stamp (which would end it 45 days early)."""
    day = 86_400 * 10**9
    observed = pd.DatetimeIndex(["2025-05-01", "2025-08-01"]).as_unit("ns").asi8
    published = observed + 45 * day + pd.Timedelta(hours=12, minutes=30).value   # 06-15 and 09-15 12:30
    values = pd.DataFrame({"value": [320.0, 321.0]}, index=pd.DatetimeIndex(observed))
    stream = EventStream([SeriesEvents("CPI", observed, published, values, 70 * day)])
    t = pd.DatetimeIndex(["2025-06-15 12:29:59", "2025-06-15 12:30", "2025-07-10 00:00:01", "2025-08-24 12:30",
                          "2025-08-24 12:30:01", "2025-09-15 12:30", "2025-11-24 12:30:01"]).as_unit("ns").asi8
    got = stream.asof_frame(t, stale=True)["CPI"].to_numpy()
    np.testing.assert_array_equal(got, [np.nan, 320.0, 320.0, 320.0, np.nan, 321.0, np.nan])
    # without the bound the last value is carried for ever
    assert stream.asof_frame(t[-1:], stale=False)["CPI"].iloc[0] == 321.0
