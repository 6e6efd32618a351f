"""Events on publication time: each catalog rule stamps the right UTC instant; merged order; as-of views.

The truncation property (hypothesis over t on a two-month hourly slice): cutting the stream at t
leaves every view at or before t unchanged, and a view equals a plain-Python scan of the raw rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskoff.data import load_catalog, read_series
from riskoff.data.events import EventStream, event_stream, series_events, utc_ns

CAT = load_catalog()


def published(sid: str, observed: str, data_dir) -> pd.Timestamp:
    ev = series_events(CAT[sid], data_dir)
    i = int(np.searchsorted(ev.observed, pd.Timestamp(observed).value))
    assert ev.observed[i] == pd.Timestamp(observed).value, f"{sid} has no observation {observed}"
    return pd.Timestamp(ev.published[i])


@pytest.mark.parametrize("sid, observed, when", [
    ("SPY", "2025-10-10", "2025-10-10 20:00"),            # 16:00 New York, summer time
    ("SPY", "2026-02-05", "2026-02-05 21:00"),            # winter time
    ("VIX", "2025-10-10", "2025-10-10 20:15"),            # 16:15 New York
    ("VIX", "2026-02-05", "2026-02-05 21:15"),
    ("SOFR", "2025-10-09", "2025-10-10 12:00"),           # next business day 08:00 New York
    ("SOFR", "2025-10-10", "2025-10-14 12:00"),           # Monday 13 Oct is a federal holiday (Columbus Day)
    ("BTC-USD", "2025-10-10", "2025-10-11 00:00"),        # the UTC day's close, when the day ends
    ("BTC-MVRV", "2026-02-05", "2026-02-06 01:00"),       # on-chain: 01:00 UTC the next day
    ("WALCL", "2025-10-08", "2025-10-09 20:30"),          # H.4.1: Wednesday's week, released Thursday 16:30
    ("BINANCE-BTCUSDT", "2025-10-10 16:00", "2025-10-10 16:00"),      # funding at settlement
    ("BINANCE-BTCUSDT-1H", "2025-10-10 21:00", "2025-10-10 22:00"),   # a bar at its close
    ("BINANCE-BTCUSDT-5M", "2025-10-10 21:20", "2025-10-10 21:25"),
])
def test_publication_instants_follow_the_catalog_rules(sid, observed, when, data_dir):
    assert published(sid, observed, data_dir) == pd.Timestamp(when)


@pytest.fixture(scope="module")
def stream(data_dir):
    return event_stream(["BINANCE-BTCUSDT-1H", "SPY", "VIX", "SOFR", "BINANCE-BTCUSDT", "BTC-MVRV"],
                        "2025-09-20", "2025-11-20", data_dir=data_dir)


def test_merged_stream_is_in_publication_order_with_every_event(stream):
    ev = stream.events()
    assert ev["published"].is_monotonic_increasing
    assert len(ev) == sum(len(s) for s in stream.series.values())
    assert (ev["series"] == "BINANCE-BTCUSDT-1H").sum() == 61 * 24 + 1  # closes from 2025-09-20 00:00 to 2025-11-20 00:00, both included
    # on 2025-10-10 20:00 UTC the 19:00 bar closes and SPY closes at the same instant: series order breaks the tie
    at = ev[ev["published"] == pd.Timestamp("2025-10-10 20:00", tz="UTC")]
    assert list(at["series"]) == ["BINANCE-BTCUSDT-1H", "SPY"]


START = pd.Timestamp("2025-09-20")


def reference_latest(rows: list, t: pd.Timestamp) -> float:
    """Plain scan of raw rows (publication instant by hand, value): the last one published by t."""
    best = float("nan")
    for when, value in rows:
        if when > t:
            break
        if when >= START:  # the stream starts at START
            best = value
    return best


RULES = {
    "BINANCE-BTCUSDT-1H": ("close", lambda s: s + pd.Timedelta(hours=1)),
    "BINANCE-BTCUSDT": ("rate", lambda s: s),
    "SPY": ("close", lambda s: (s + pd.Timedelta(hours=16)).tz_localize("America/New_York").tz_convert("UTC")
            .tz_localize(None)),
}

SLICE_HOURS = 24 * 61


@pytest.fixture(scope="module")
def raw_rows(data_dir):
    out = {}
    for sid, (col, rule) in RULES.items():
        raw = read_series(CAT[sid], data_dir).loc["2025-09-10":"2025-11-25", col]
        out[sid] = [(rule(stamp), float(v)) for stamp, v in raw.items()]
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(min_value=0, max_value=SLICE_HOURS), minute=st.sampled_from([0, 15, 59]))
def test_truncation_leaves_every_earlier_view_unchanged(stream, raw_rows, h, minute):
    t = START + pd.Timedelta(hours=h, minutes=minute)
    cut = stream.truncate(t)
    assert len(cut) == int((stream.published <= t.value).sum())
    assert cut.published.max(initial=0) <= t.value
    # every decision instant at or before t sees the same values in the cut and in the full stream
    times = (START + pd.to_timedelta(np.arange(0, h + 1), "h")).to_numpy().astype(np.int64)
    a, b = stream.asof_frame(times), cut.asof_frame(times)
    pd.testing.assert_frame_equal(a, b)
    view = stream.as_of(t)
    for sid, (col, rule) in RULES.items():
        want = reference_latest(raw_rows[sid], t)
        got = view.latest(sid, col)
        assert got == want or (np.isnan(got) and np.isnan(want)), (sid, t, got, want)
        assert cut.as_of(t).latest(sid, col) == got or np.isnan(got)
        hist = view.history(sid)
        assert len(hist) == view.count(sid) and (len(hist) == 0 or rule(hist.index[-1]) <= t)


def test_view_of_the_2025_10_10_crash(stream):
    v = stream.as_of("2025-10-10T21:30:00Z")
    assert v.latest("VIX", "close") == 21.66  # Friday's close, public at 20:15 UTC
    assert v.latest("BINANCE-BTCUSDT-1H", "close") == 114266.82  # the 20:00 bar; the 21:00 bar closes at 22:00
    assert v.published_at("BINANCE-BTCUSDT-1H") == pd.Timestamp("2025-10-10 21:00", tz="UTC")
    assert stream.as_of("2025-10-10T22:00:00Z").latest("BINANCE-BTCUSDT-1H", "low") == 102000.0
    assert utc_ns("2025-10-10T22:00:00+02:00") == pd.Timestamp("2025-10-10 20:00").value
    with pytest.raises(Exception, match="not in this event stream"):
        v.latest("QQQ")


def test_empty_stream_is_harmless():
    s = EventStream([])
    assert len(s) == 0 and s.asof_frame(np.array([0], np.int64)).shape == (1, 0)
