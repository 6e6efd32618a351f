"""Bad input: each error class names the file, the series, the line and what was expected."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from riskoff.data import load, load_catalog, read_series
from riskoff.util.errors import DataError

CATALOG = load_catalog()


def put(tmp_path: Path, series_id: str, text: str | bytes) -> Path:
    path = tmp_path / CATALOG[series_id].relpath()
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def error_for(tmp_path: Path, series_id: str) -> str:
    with pytest.raises(DataError) as info:
        read_series(CATALOG[series_id], tmp_path, parquet_cache=False)
    msg = str(info.value)
    assert str(tmp_path) in msg and series_id in msg, msg
    return msg


PRICES_HEAD = "date,open,high,low,close,volume\n"


@pytest.mark.parametrize("series_id, text, expected", [
    ("SPY", "", "file is empty"),
    ("SPY", PRICES_HEAD, "header only"),
    ("SPY", "date,open,high,low,volume\n2020-01-02,1,1,1,5\n", "missing column(s) ['close']"),
    ("SOFR", "date,value,extra\n2020-01-02,1.5,3\n", "unexpected column(s) ['extra']"),
    ("SOFR", "Date,value\n2020-01-02,1.5\n", "first column is 'Date'; expected 'date'"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020/01/03,1.6\n", "line 3: date '2020/01/03' is not YYYY-MM-DD"),
    ("SOFR", "date,value\n2020-01-02,1.5\n01/03/2020,1.6\n", "line 3: date '01/03/2020'"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020-02-30,1.6\n", "line 3: date '2020-02-30' is not a valid calendar date"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,n/a\n", "line 3: column 'value' value 'n/a' is not a number"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,\n", "line 3: empty value in column 'value'"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,NaN\n", "line 3: column 'value' value 'NaN' is not a number"),
    ("SPX", 'date,open,high,low,close\n2020-01-02,"3,244.67",3258.14,3235.53,3257.85\n',
     "line 2: column 'open' value '3,244.67' is not a number (thousands separator?)"),
    ("SOFR", "date,value\n2020-01-02,1.5\n2020-01-02,1.6\n", "line 3: duplicate date 2020-01-02"),
    ("SOFR", "date,value\n2020-01-03,1.5\n2020-01-02,1.6\n", "line 3: stamps are not ascending"),
    ("SPY", PRICES_HEAD + "2020-01-02,1,1,1,1,10\n2020-01-03,1,1,1,0,10\n", "series SPY, line 3: close 0 on 2020-01-03 is not positive"),
    ("SPY", PRICES_HEAD + "2020-01-02,1,1,1,-3,10\n", "close -3 on 2020-01-02 is not positive"),
    ("SPY", PRICES_HEAD + "2020-01-02,1,1,1,1,-10\n", "volume -10 is negative"),
    ("BINANCE-BTCUSDT", "time,rate\n" + "".join(f"2021-01-0{d}T00:00:00Z,0.01\n" for d in range(1, 10)) + "2021-01-10T00:00:00Z,0.012\n",
     "looks like percent"),
    ("BINANCE-BTCUSDT", "time,rate\n2021-01-01T08:00:00+08:00,0.0001\n", "carries a UTC offset"),
    ("BINANCE-BTCUSDT", "time,rate\n2021-01-01 08:00:00,0.0001\n", "is not YYYY-MM-DDTHH:MM:SSZ"),
    ("S5FI", "date,value\n" + "".join(f"2021-01-{d:02d},0.{d:02d}\n" for d in range(1, 15)), "looks like a fraction"),
    ("VIX", "date,open,high,low,close\n2020-01-02,13,14,12,1300\n", "1300 on 2020-01-02 is outside the plausible range"),
    ("SOFR", "date;value\n2020-01-02;1.5\n", "separated by ';'"),
    ("SOFR", "date,value\n2020-01-02,1.5,7\n", "malformed CSV row"),
])
def test_bad_file_gets_a_clear_error(tmp_path, series_id, text, expected):
    put(tmp_path, series_id, text)
    assert expected in error_for(tmp_path, series_id)


def test_missing_file_names_the_expected_path_and_the_fix(tmp_path):
    msg = error_for(tmp_path, "SPY")
    assert "file not found" in msg and "series/prices/SPY.csv" in msg and "riskoff data fetch SPY" in msg


def test_stale_series_names_last_value_and_needed_date(tmp_path):
    put(tmp_path, "SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,1.6\n")
    with pytest.raises(DataError, match=r"series is stale: last value 2020-01-03, the run needs data through 2020-06-30"):
        load(["SOFR"], "2020-01-01", "2020-06-30", data_dir=tmp_path)


def test_series_ending_before_the_run_starts(tmp_path):
    put(tmp_path, "SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,1.6\n")
    with pytest.raises(DataError, match="series ends 2020-01-03, before the run starts 2021-01-01"):
        load(["SOFR"], "2021-01-01", "2021-02-01", data_dir=tmp_path)


# --- the real messy vendor exports under <data dir>/raw/, dropped in where a canonical file belongs

@pytest.mark.parametrize("raw, series_id, expected", [
    ("raw/investing/SPX.csv", "SPX", "first column is 'Date'; expected 'date'"),
    ("raw/investing/S5TH.csv", "S5TH", "first column is 'Date'"),
    ("raw/cryptoquant-cmc/btc_historical.csv", "BTC-USD", "separated by ';'"),
    ("raw/cryptoquant-cmc/mvrv.csv", "BTC-MVRV", "first column is 'Datetime'"),
    ("raw/cboe/VIX3M_History.csv", "VIX3M", "first column is 'DATE'"),
    ("raw/binance-funding/btc_funding_rate.csv", "BINANCE-BTCUSDT", "first column is 'timestamp'; expected 'time'"),
    ("raw/tradingview/ADV.csv", "NYSE-ADV", "first column is 'time'; expected 'date'"),
    ("raw/fred-json/fred_cache_bddf6ef1.json", "SOFR", "expected 'date'"),
])
def test_real_vendor_exports_are_rejected_with_the_reason(tmp_path, data_dir, raw, series_id, expected):
    put(tmp_path, series_id, (data_dir / raw).read_bytes())
    assert expected in error_for(tmp_path, series_id)


def test_vendor_file_fixed_up_but_newest_first_names_the_row(tmp_path, data_dir):
    # mvrv.csv with only its header renamed: still newest-first, still offset-free UTC stamps.
    text = (data_dir / "raw/cryptoquant-cmc/mvrv.csv").read_text().splitlines()
    body = [f"{line.split(',')[0][:10]},{line.split(',')[1]}" for line in text[1:]]
    put(tmp_path, "BTC-MVRV", "date,value\n" + "\n".join(body) + "\n")
    msg = error_for(tmp_path, "BTC-MVRV")
    assert "line 3" in msg and "not ascending" in msg and "newest-first" in msg


def test_good_file_parses(tmp_path):
    put(tmp_path, "SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,1.6\n")
    frame = read_series(CATALOG["SOFR"], tmp_path, parquet_cache=False)
    assert frame["value"].tolist() == [1.5, 1.6]


def test_parquet_cache_is_keyed_by_content_and_written_atomically(tmp_path):
    put(tmp_path, "SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,1.6\n")
    cache = tmp_path / "cache"
    first = read_series(CATALOG["SOFR"], tmp_path, parquet_cache=cache)
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".parquet"
    put(tmp_path, "SOFR", "date,value\n2020-01-02,1.5\n2020-01-03,1.7\n")
    second = read_series(CATALOG["SOFR"], tmp_path, parquet_cache=cache)
    assert second["value"].tolist() == [1.5, 1.7] and first["value"].tolist() == [1.5, 1.6]
    assert sorted(p.suffix for p in cache.iterdir()) == [".parquet", ".parquet"]
    shutil.rmtree(cache)
