"""NYSE sessions from exchange_calendars against the real trading days, and the rule for rows
that US series carry on days the NYSE was closed."""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from riskoff.data.align import load, trading_calendar
from riskoff.data.calendars import nyse_sessions
from riskoff.data.catalog import load_catalog

CATALOG = load_catalog()


def file_dates(data_dir, sid: str) -> pd.DatetimeIndex:
    """The first column of a series file, read with the csv module (not riskoff's reader)."""
    with open(data_dir / CATALOG[sid].relpath(), newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        return pd.DatetimeIndex([r[0] for r in rows])


def test_sessions_equal_spy_dates_1995_to_2026_06_05(data_dir):
    spy = file_dates(data_dir, "SPY")
    spy = spy[(spy >= "1995-01-01") & (spy <= "2026-06-05")]
    sessions = nyse_sessions()
    sessions = sessions[(sessions >= "1995-01-01") & (sessions <= "2026-06-05")]
    assert len(spy) == 7909
    assert sessions.difference(spy).empty and spy.difference(sessions).empty


def test_closures_no_holiday_rule_predicts_are_not_sessions():
    sessions = set(nyse_sessions())
    for day in ("2001-09-11", "2001-09-14", "2004-06-11", "2007-01-02", "2012-10-29", "2012-10-30",
                "2018-12-05", "2025-01-09"):
        assert pd.Timestamp(day) not in sessions, day
    assert pd.Timestamp("2001-09-17") in sessions  # reopened


def test_us_calendar_past_the_data_end_is_sessions_and_prefix_stable(data_dir):
    full = trading_calendar("us", pd.Timestamp("2026-06-01"), pd.Timestamp("2026-07-10"), data_dir, CATALOG)
    assert pd.Timestamp("2026-06-19") not in full and pd.Timestamp("2026-07-03") not in full  # Juneteenth, July 4th observed
    cut = trading_calendar("us", pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-22"), data_dir, CATALOG)
    assert cut.equals(full[full <= "2026-06-22"])


@pytest.mark.parametrize("sid, count", [("VIX", 33), ("S5TH", 25), ("NEW-HIGHS", 3)])
def test_non_session_rows_never_make_a_bar(data_dir, sid, count):
    dates = file_dates(data_dir, sid)
    sessions = nyse_sessions()
    extra = dates[(dates >= sessions[0]) & (dates <= sessions[-1])].difference(sessions)
    assert len(extra) == count
    frame = load([sid], extra[0] - pd.Timedelta(days=10), extra[-1] + pd.Timedelta(days=10), calendar="us",
                 data_dir=data_dir, stale="allow")
    assert not frame.index.isin(extra).any()


def test_a_non_session_row_is_seen_by_the_next_session_unless_superseded(tmp_path):
    folder = tmp_path / "series" / "cboe"
    folder.mkdir(parents=True)
    # 2004-06-11: NYSE closed (national day of mourning), CBOE printed. No row on 06-14 in this file.
    (folder / "VIX.csv").write_text("date,open,high,low,close\n2004-06-10,15,15,15,15.0\n"
                                    "2004-06-11,16,16,16,16.0\n2004-06-15,17,17,17,17.0\n")
    frame = load(["VIX"], "2004-06-10", "2004-06-15", calendar="us", data_dir=tmp_path, stale="allow")
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2004-06-10", "2004-06-14", "2004-06-15"]
    assert frame["VIX.close"].tolist() == [15.0, 16.0, 17.0]
    assert np.isfinite(frame.to_numpy()).all()


def test_cached_sessions_are_the_librarys(tmp_path, monkeypatch):
    # the sessions come from an on-disk cache keyed by the exchange_calendars version: built once,
    # then read back; both equal what the library builds now
    import exchange_calendars as xcals

    import riskoff.data.sources as sources
    from riskoff.data.calendars import NYSE_END, NYSE_START

    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path)
    nyse_sessions.cache_clear()
    try:
        built = nyse_sessions()
        assert len(list((tmp_path / ".parsed").glob("nyse-sessions-*.npy"))) == 1
        nyse_sessions.cache_clear()
        read = nyse_sessions()
    finally:
        nyse_sessions.cache_clear()
    cal = xcals.get_calendar("XNYS", start=NYSE_START, end=NYSE_END)
    ref = pd.DatetimeIndex(cal.sessions.tz_localize(None) if cal.sessions.tz is not None else cal.sessions)
    assert built.equals(ref.as_unit("ns")) and read.equals(built) and read.name == "date"


def test_cached_array_builds_once_rebuilds_damage_and_obeys_the_switch(tmp_path, monkeypatch):
    import riskoff.data.sources as sources

    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path)
    calls = []

    def build():
        calls.append(1)
        return np.arange(5)

    assert list(sources.cached_array("k", build)) == list(range(5))
    assert list(sources.cached_array("k", build)) == list(range(5)) and len(calls) == 1
    (tmp_path / ".parsed" / "k.npy").write_bytes(b"not numpy")
    assert list(sources.cached_array("k", build)) == list(range(5)) and len(calls) == 2
    monkeypatch.setenv("RISKOFF_PARQUET_CACHE", "0")
    sources.cached_array("off", build)
    assert len(calls) == 3 and not (tmp_path / ".parsed" / "off.npy").exists()
