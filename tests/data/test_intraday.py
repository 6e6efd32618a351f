"""Intraday bar series: catalog keys, validation of bad files, real anchors and the hourly clock."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load, load_catalog, read_series
from riskoff.data.calendars import bar_range, decision_times
from riskoff.data.sources import first_off_grid, gaps_over
from riskoff.util.errors import ConfigError, DataError

CATALOG = load_catalog()
HEAD = "time,open,high,low,close,volume\n"
H1 = "BINANCE-BTCUSDT-1H"


def bars(*stamps: str) -> str:
    return HEAD + "".join(f"{s},100,101,99,100.5,3\n" for s in stamps)


def put(tmp_path: Path, series_id: str, text: str) -> None:
    path = tmp_path / CATALOG[series_id].relpath()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def error_for(tmp_path: Path, series_id: str = H1, catalog=CATALOG) -> str:
    with pytest.raises(DataError) as info:
        read_series(catalog[series_id], tmp_path, parquet_cache=False)
    msg = str(info.value)
    assert str(tmp_path) in msg and series_id in msg, msg
    return msg


def test_catalog_declares_bar_series_with_their_own_key():
    h1, m5, cc = CATALOG[H1], CATALOG["BINANCE-BTCUSDT-5M"], CATALOG["CRYPTOCOMPARE-BTCUSD-1H"]
    assert (h1.bar, h1.max_gap, h1.calendar, h1.stamp_column) == ("1h", "6h", "utc", "time")
    assert (m5.bar, cc.bar) == ("5m", "1h") and h1.bar_delta == pd.Timedelta(hours=1)
    # calendar = "intraday" keeps its meaning: funding prints aggregated to UTC days on daily clocks
    fund = CATALOG["BINANCE-BTCUSDT"]
    assert fund.calendar == "intraday" and fund.bar is None
    assert fund.frame_columns() == ["BINANCE-BTCUSDT.sum", "BINANCE-BTCUSDT.mean", "BINANCE-BTCUSDT.count"]


def test_bar_needs_the_utc_calendar_and_a_readable_span():
    with pytest.raises(ConfigError, match=r"series.X: bar = '1h' needs calendar = \"utc\""):
        load_catalog(extra={"series": {"X": {"family": "intraday", "calendar": "us"}}})
    with pytest.raises(ConfigError, match=r"series.X.max_gap: 'six hours' is not a time span"):
        load_catalog(extra={"series": {"X": {"family": "intraday", "max_gap": "six hours"}}})


@pytest.mark.parametrize("text, expected", [
    (bars("2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z", "2021-01-01T01:00:00Z"),
     "line 4: duplicate time 2021-01-01T01:00:00Z"),
    (bars("2021-01-01T00:00:00Z", "2021-01-01T02:00:00Z", "2021-01-01T01:00:00Z"),
     "line 4: stamps are not ascending: 2021-01-01T01:00:00Z comes after 2021-01-01T02:00:00Z"),
    (bars("2021-01-01T00:00:00Z", "2021-01-01T09:00:00+08:00"),
     "line 3: time '2021-01-01T09:00:00+08:00' is not YYYY-MM-DDTHH:MM:SSZ (UTC, 'Z' suffix, no offset) "
     "(timestamp carries a UTC offset; convert to UTC)"),
    (bars("2021-01-01T00:00:00Z", "2021-01-01 01:00:00"), "line 3: time '2021-01-01 01:00:00' is not"),
    (bars("2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z", "2021-01-01T02:30:00Z"),
     "line 4: time 2021-01-01T02:30:00Z is off the 1h bar grid"),
    (bars("2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z", "2021-01-01T08:00:00Z"),
     "line 4: gap of 0 days 07:00:00 between bars 2021-01-01T01:00:00Z and 2021-01-01T08:00:00Z is longer "
     "than the declared max_gap 6h"),
])
def test_bad_intraday_files_name_file_series_and_row(tmp_path, text, expected):
    put(tmp_path, H1, text)
    msg = error_for(tmp_path)
    assert expected in msg, msg


def test_a_six_hour_step_is_allowed_and_the_gap_rule_follows_the_declaration(tmp_path):
    put(tmp_path, H1, bars("2021-01-01T00:00:00Z", "2021-01-01T06:00:00Z", "2021-01-01T07:00:00Z"))
    assert len(read_series(CATALOG[H1], tmp_path, parquet_cache=False)) == 3
    strict = load_catalog(extra={"series": {H1: {"family": "intraday", "max_gap": "5h"}}})
    assert "line 3: gap of 0 days 06:00:00" in error_for(tmp_path, catalog=strict)


def test_real_outages_pass_6h_and_the_longest_is_caught_by_a_4h_rule(data_dir):
    assert len(read_series(CATALOG[H1], data_dir)) == 48771
    strict = load_catalog(extra={"series": {H1: {"family": "intraday", "max_gap": "4h"}}})
    with pytest.raises(DataError) as info:  # the cached parse is re-checked against the stricter rule
        read_series(strict[H1], data_dir)
    msg = str(info.value)
    assert "2021-08-13T01:00:00Z and 2021-08-13T06:00:00Z" in msg and H1 in msg and "line " in msg


def test_sanity_rules_on_plain_stamps():
    idx = pd.DatetimeIndex(["2021-01-01 00:00", "2021-01-01 01:00", "2021-01-01 04:00", "2021-01-01 05:00"])
    assert list(gaps_over(idx, pd.Timedelta("3h").value)) == []
    assert list(gaps_over(idx, pd.Timedelta("2h").value)) == [2]
    assert list(gaps_over(idx, pd.Timedelta("30min").value)) == [1, 2, 3]
    assert list(gaps_over(idx[:1], pd.Timedelta("1h").value)) == []
    assert first_off_grid(idx, pd.Timedelta("1h")) is None
    assert first_off_grid(idx, pd.Timedelta("2h")) == 1


def test_real_intraday_anchors(data_dir):
    h1 = read_series(CATALOG[H1], data_dir)
    bar = h1.loc["2025-10-10 21:00"]
    assert (bar.open, bar.high, bar.low, bar.close) == (114266.82, 115112.69, 102000.0, 113451.86)
    assert h1.loc["2026-02-05 23:00", "close"] == 62909.86 and h1.loc["2026-02-06 00:00", "low"] == 60000.0
    m5 = read_series(CATALOG["BINANCE-BTCUSDT-5M"], data_dir)
    assert m5.loc["2025-10-10 21:20", "low"] == 102000.0 == m5.loc["2025-10-10 21:00":"2025-10-10 21:55", "low"].min()
    # the 5m file aggregated to hours equals the 1h file (README sanity anchor), here on October 2025
    oct5 = m5.loc["2025-10"]
    agg = oct5.resample("1h").agg({"open": "first", "high": "max", "low": "min", "close": "last"})
    np.testing.assert_array_equal(agg.to_numpy(), h1.loc["2025-10", ["open", "high", "low", "close"]].to_numpy())


def test_hourly_clock_sees_each_series_when_it_is_published(data_dir):
    f = load([H1, "SPY", "VIX", "BINANCE-BTCUSDT"], "2025-10-09", "2025-10-10", calendar="1h", data_dir=data_dir)
    assert f.index[0] == pd.Timestamp("2025-10-09") and f.index[-1] == pd.Timestamp("2025-10-10 23:00")
    # the bar opening at 21:00 is decided at its close, 22:00, and sees its own close
    assert f.loc["2025-10-10 21:00", f"{H1}.close"] == 113451.86
    # SPY's close (16:00 New York = 20:00 UTC in October) reaches the bar closing at 20:00, not a day later
    spy = f["SPY.close"]
    assert spy.loc["2025-10-10 19:00"] != spy.loc["2025-10-10 18:00"]
    assert spy.loc["2025-10-10 18:00"] == spy.loc["2025-10-09 19:00"]
    # VIX (16:15 New York = 20:15 UTC) first at the bar closing 21:00
    vix = f["VIX.close"]
    assert vix.loc["2025-10-10 19:00"] == vix.loc["2025-10-09 20:00"] != vix.loc["2025-10-10 20:00"] == 21.66
    # funding prints as printed, usable at settlement (00:00, 08:00, 16:00 UTC)
    raw = read_series(CATALOG["BINANCE-BTCUSDT"], data_dir)["rate"]
    assert f.loc["2025-10-10 15:00", "BINANCE-BTCUSDT.rate"] == raw.loc["2025-10-10 16:00"]
    assert f.loc["2025-10-10 14:00", "BINANCE-BTCUSDT.rate"] == raw.loc["2025-10-10 08:00"]


def test_winter_us_closes_arrive_an_hour_later(data_dir):
    f = load(["SPY"], "2026-02-04", "2026-02-05", calendar="1h", data_dir=data_dir)["SPY.close"]
    assert f.loc["2026-02-05 19:00"] == f.loc["2026-02-04 20:00"] != f.loc["2026-02-05 20:00"]


def test_bar_range_and_decision_times():
    idx = bar_range("2021-01-01", "2021-01-02", pd.Timedelta("1h"))
    assert len(idx) == 48 and idx[-1] == pd.Timestamp("2021-01-02 23:00")
    assert len(bar_range("2021-01-01 05:00", "2021-01-01 07:00", pd.Timedelta("5min"))) == 25
    t = decision_times(idx[:2], "1h")
    assert list(t) == [pd.Timestamp("2021-01-01 01:00").value, pd.Timestamp("2021-01-01 02:00").value]
    with pytest.raises(ConfigError, match="expected 'us', 'utc', a bar clock"):
        decision_times(idx, "hourly")
