"""Live fetchers, replayed offline from recorded responses (no test may open a socket)."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from riskoff.data import fetch as F
from riskoff.data.catalog import load_catalog
from riskoff.util.errors import RiskoffError

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
SNAPSHOT = Path(os.environ.get("RISKOFF_DATA_DIR") or "/work/shared/data")
LATER = pd.Timestamp("2030-01-01", tz="UTC")  # a "now" after every recorded bar is final


# ------------------------------------------------------------------------------ fakes

class NoNetwork(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch):
    """Every test in this module runs with sockets disabled: a real request fails loudly."""
    def refuse(*args, **kwargs):
        raise NoNetwork("a test tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


class FakeResponse:
    def __init__(self, status_code: int = 200, text: str = "") -> None:
        self.status_code, self.text = status_code, text

    def json(self):
        import json
        return json.loads(self.text)


class FakeGet:
    """A recorded-response getter: rules match on URL path and a subset of query parameters."""

    def __init__(self, *rules) -> None:
        self.rules = list(rules)  # (path_fragment, params_subset, response or callable(params))
        self.calls: list[str] = []

    def __call__(self, url: str, timeout: float | None = None):
        assert timeout, "fetchers must pass a timeout"
        self.calls.append(url)
        parts = urlsplit(url)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for frag, subset, resp in self.rules:
            if frag in parts.netloc + parts.path and all(params.get(k) == v for k, v in subset.items()):
                return resp(params) if callable(resp) else resp
        raise AssertionError(f"no recorded response for {url}")


def recorded(name: str, status: int = 200) -> FakeResponse:
    return FakeResponse(status, (RECORDED / name).read_text())


def yahoo_history(symbol: str, start: str | None) -> pd.DataFrame:
    """Replays yfinance's Ticker.history frame (tz-aware DatetimeIndex, capitalised columns)."""
    name = {"^VIX": "VIX", "ETH-USD": "ETH-USD"}.get(symbol, "SPY")
    frame = pd.read_csv(RECORDED / f"yahoo_{name}.csv", index_col=0)
    stamps = [pd.Timestamp(s) for s in frame.index]  # each keeps its exchange's UTC offset
    frame.index = pd.DatetimeIndex([s.tz_convert(stamps[0].tz) for s in stamps], name="Date")
    if start:
        frame = frame[frame.index.strftime("%Y-%m-%d") >= start]
    return frame


def binance_pages(params):
    """Binance's fundingRate server over the recorded prints: from startTime, at most `limit` rows."""
    import json
    prints = [p for name in ("binance_BTCUSDT_page1.json", "binance_BTCUSDT_page2.json")
              for p in json.loads((RECORDED / name).read_text())]
    start, limit = int(params["startTime"]), int(params.get("limit", 500))
    return FakeResponse(200, json.dumps([p for p in prints if p["fundingTime"] >= start][:limit]))


def fred_any(params):
    """FRED's CSV for any ID (the SOFR recording relabelled), for runs over the whole catalog."""
    text = (RECORDED / "fred_SOFR.csv").read_text().replace("SOFR", params["id"])
    return FakeResponse(200, text)


def universal_get() -> FakeGet:
    return FakeGet(
        ("fred.stlouisfed.org", {}, fred_any),
        ("coinmetrics.io", {"next_page_token": "0.MjAyMy0xMi0yOVQwMDowMDowMFo"}, recorded("coinmetrics_mvrv_page2.json")),
        ("coinmetrics.io", {}, recorded("coinmetrics_mvrv_page1.json")),
        ("fapi.binance.com", {}, binance_pages),
    )


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def frame(stamp: str, rows: list[tuple], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[stamp, *cols])


# --------------------------------------------------------------------------- fetchers

def test_yahoo_etf_prices(catalog):
    out = F.fetch_yahoo(catalog["SPY"], history=yahoo_history, now=LATER)
    expected = frame("date", [
        ("2024-01-02", 460.7692672, 462.2428484, 459.1395424, 461.2474365, 123623700),
        ("2024-01-03", 459.0809802, 459.8226549, 456.8755224, 457.4805603, 103585900),
        ("2024-01-04", 457.0024317, 459.5982638, 455.7825875, 456.0070496, 84232200),
        ("2024-01-05", 456.2119428, 459.0907869, 455.1775173, 456.6315918, 86118900),
    ], ["open", "high", "low", "close", "volume"])
    pd.testing.assert_frame_equal(out, expected)


def test_yahoo_vix_uses_exchange_day_and_drops_volume(catalog):
    # ^VIX bars are stamped midnight Chicago (-06:00): the label must stay the trading day.
    out = F.fetch_yahoo(catalog["VIX"], "^VIX", history=yahoo_history, now=LATER)
    assert list(out.columns) == ["date", "open", "high", "low", "close"]
    assert list(out["date"]) == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert out["close"].tolist() == [13.2, 14.04, 14.13, 13.35]


def test_yahoo_crypto_drops_incomplete_rows_and_unfinished_day(catalog):
    spec = catalog["ETH-USD"]
    out = F.fetch_yahoo(spec, history=yahoo_history, now=LATER)
    assert list(out["date"]) == ["2024-01-02", "2024-01-03", "2024-01-05"]  # 01-04 has a blank high
    # At 12:00 UTC on 2024-01-05 that UTC day is still trading: its bar is not final yet.
    early = F.fetch_yahoo(spec, history=yahoo_history, now=pd.Timestamp("2024-01-05T12:00Z"))
    assert list(early["date"]) == ["2024-01-02", "2024-01-03"]


def test_yahoo_us_session_in_progress_is_dropped(catalog):
    spy = catalog["SPY"]
    during = F.fetch_yahoo(spy, history=yahoo_history, now=pd.Timestamp("2024-01-05T20:30Z"))  # 15:30 NY
    after = F.fetch_yahoo(spy, history=yahoo_history, now=pd.Timestamp("2024-01-05T21:01Z"))  # 16:01 NY
    assert during["date"].iloc[-1] == "2024-01-04"
    assert after["date"].iloc[-1] == "2024-01-05"


def test_yahoo_failure_names_symbol_and_series(catalog):
    def broken(symbol, start):
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host")

    with pytest.raises(RiskoffError) as err:
        F.fetch_yahoo(catalog["QQQ"], history=broken, now=LATER)
    assert "finance.yahoo.com" in str(err.value) and "QQQ" in str(err.value)


def test_fred_drops_dot_rows():
    get = FakeGet(("fred.stlouisfed.org", {"id": "SOFR"}, recorded("fred_SOFR.csv")))
    out = F.fetch_fred("SOFR", get=get)
    expected = frame("date", [("2023-12-26", 5.35), ("2023-12-27", 5.39), ("2023-12-28", 5.40),
                              ("2023-12-29", 5.38), ("2024-01-02", 5.40), ("2024-01-03", 5.39)], ["value"])
    pd.testing.assert_frame_equal(out, expected)
    assert get.calls == ["https://fred.stlouisfed.org/graph/fredgraph.csv?id=SOFR"]


def test_fred_old_header_blank_cells_and_since():
    get = FakeGet(("fred.stlouisfed.org", {"id": "DGS10"}, recorded("fred_DGS10.csv")))
    out = F.fetch_fred("DGS10", since="2023-12-28", get=get)
    expected = frame("date", [("2023-12-28", 3.84), ("2023-12-29", 3.88), ("2024-01-02", 3.95)], ["value"])
    pd.testing.assert_frame_equal(out, expected)
    assert "cosd=2023-12-28" in get.calls[0]


def test_fred_html_instead_of_csv_is_an_error():
    get = FakeGet(("fred.stlouisfed.org", {}, recorded("fred_unknown_id.html")))
    with pytest.raises(RiskoffError, match=r"fredgraph\.csv\?id=NOPE.*NOPE.*header"):
        F.fetch_fred("NOPE", get=get)


def test_coinmetrics_follows_pages_and_skips_nulls():
    get = universal_get()
    out = F.fetch_coinmetrics("BTC-MVRV", get=get, page_size=2)
    expected = frame("date", [("2023-12-28", 1.94718414), ("2023-12-29", 1.91592218),
                              ("2024-01-01", 2.00870495), ("2024-01-03", 1.94662822)], ["value"])
    pd.testing.assert_frame_equal(out, expected)
    assert len(get.calls) == 2 and "next_page_token=" in get.calls[1]
    first = parse_qs(urlsplit(get.calls[0]).query)
    assert first["metrics"] == ["CapMVRVCur"] and first["assets"] == ["btc"] and first["frequency"] == ["1d"]


def test_coinmetrics_error_body_and_bad_json():
    get = FakeGet(("coinmetrics.io", {}, recorded("coinmetrics_error.json", status=400)))
    with pytest.raises(RiskoffError, match=r"coinmetrics https://community-api.*BTC-MVRV.*HTTP 400.*not supported"):
        F.fetch_coinmetrics("BTC-MVRV", get=get)
    garbled = FakeGet(("coinmetrics.io", {}, FakeResponse(200, '{"data": [')))
    with pytest.raises(RiskoffError, match=r"not valid JSON"):
        F.fetch_coinmetrics("BTC-MVRV", get=garbled)


def test_binance_pages_forward_and_normalises_milliseconds():
    get = universal_get()
    out = F.fetch_binance_funding("BINANCE-BTCUSDT", since="2024-01-01", get=get, limit=3)
    expected = frame("time", [
        ("2024-01-01T00:00:00Z", 0.00037409), ("2024-01-01T08:00:00Z", 0.00027213),
        ("2024-01-01T16:00:00Z", 0.00033601), ("2024-01-02T00:00:00Z", 0.00065846),
        ("2024-01-02T08:00:00Z", 0.00035179)], ["rate"])
    pd.testing.assert_frame_equal(out, expected)
    starts = [parse_qs(urlsplit(u).query)["startTime"][0] for u in get.calls]
    assert starts == ["1704067200000", "1704124800001"]  # second page starts 1 ms after the last print


def test_binance_error_object_is_an_error():
    get = FakeGet(("fapi.binance.com", {}, FakeResponse(200, '{"code":-1121,"msg":"Invalid symbol."}')))
    with pytest.raises(RiskoffError, match=r"fapi\.binance\.com.*BINANCE-BTCUSDT.*Invalid symbol"):
        F.fetch_binance_funding(get=get)


# ------------------------------------------------------------------------------- write

@pytest.mark.parametrize("sid, rows, cols", [
    ("SPY", [("2024-01-02", 460.77, 462.24, 459.14, 461.25, 123623700),
             ("2024-01-03", 459.08, 459.82, 456.88, 457.48, 103585900)],
     ["open", "high", "low", "close", "volume"]),
    ("SOFR", [("2023-12-29", 5.38), ("2024-01-02", 5.4)], ["value"]),
    ("BINANCE-BTCUSDT", [("2024-01-01T00:00:00Z", 0.00037409), ("2024-01-01T08:00:00Z", -7.49e-06)], ["rate"]),
    ("BTC-MVRV", [("2024-01-01", 2.00870495), ("2024-01-03", 1.94662822)], ["value"]),
    ("VIX", [("2024-01-02", 13.22, 14.23, 13.1, 13.2)], ["open", "high", "low", "close"]),
])
def test_write_canonical_round_trip_and_snapshot_header(tmp_path, catalog, sid, rows, cols):
    spec = catalog[sid]
    stamp = spec.stamp_column
    df = frame(stamp, rows[::-1], cols)  # written out of order: the writer sorts
    path = F.write_canonical(df, spec, tmp_path)
    assert path == tmp_path / spec.relpath()
    back = pd.read_csv(path, dtype={stamp: str})
    pd.testing.assert_frame_equal(back, frame(stamp, rows, cols), check_dtype=False)
    assert back[stamp].tolist() == [r[0] for r in rows]
    snap = SNAPSHOT / spec.relpath()
    if not snap.exists():
        pytest.skip(f"no snapshot at {snap}")
    with open(snap) as fh:
        assert path.read_text().splitlines()[0] == fh.readline().rstrip("\n")
    assert path.read_bytes().endswith(b"\n") and b"\r" not in path.read_bytes()


def test_write_canonical_rejects_bad_frames(tmp_path, catalog):
    spec = catalog["SOFR"]
    with pytest.raises(RiskoffError, match="duplicate stamp 2024-01-02"):
        F.write_canonical(frame("date", [("2024-01-02", 1.0), ("2024-01-02", 2.0)], ["value"]), spec, tmp_path)
    with pytest.raises(RiskoffError, match="empty value"):
        F.write_canonical(frame("date", [("2024-01-02", float("nan"))], ["value"]), spec, tmp_path)
    with pytest.raises(RiskoffError, match="YYYY-MM-DD"):
        F.write_canonical(frame("date", [("01/02/2024", 1.0)], ["value"]), spec, tmp_path)
    with pytest.raises(RiskoffError, match="canonical layout"):
        F.write_canonical(frame("date", [("2024-01-02", 1.0)], ["rate"]), spec, tmp_path)
    assert not (tmp_path / "series").exists() or not any((tmp_path / "series").rglob("*"))


def test_atomic_write_leaves_no_temp_and_keeps_old_file_on_failure(tmp_path, catalog, monkeypatch):
    spec = catalog["SOFR"]
    path = F.write_canonical(frame("date", [("2024-01-02", 5.4)], ["value"]), spec, tmp_path)
    F.write_canonical(frame("date", [("2024-01-02", 5.4), ("2024-01-03", 5.39)], ["value"]), spec, tmp_path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["SOFR.csv"]
    before = path.read_bytes()

    def explode(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(OSError, match="disk full"):
        F.write_canonical(frame("date", [("2024-01-04", 5.31)], ["value"]), spec, tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["SOFR.csv"]


# ------------------------------------------------------------------------------- fetch

def test_fetch_merges_with_existing_cache(tmp_path, catalog):
    spec = catalog["SOFR"]
    # Cached: an older row, a row FRED has since revised (5.41 -> 5.40), and the same last rows.
    F.write_canonical(frame("date", [("2023-12-20", 5.33), ("2023-12-28", 5.41)], ["value"]), spec, tmp_path)
    get = FakeGet(("fred.stlouisfed.org", {"id": "SOFR"}, recorded("fred_SOFR.csv")))
    [rep] = F.fetch(["SOFR"], root=tmp_path, get=get, catalog=catalog)
    assert rep.ok, rep.message
    out = pd.read_csv(tmp_path / spec.relpath(), dtype={"date": str})
    assert out["date"].tolist() == ["2023-12-20", "2023-12-26", "2023-12-27", "2023-12-28", "2023-12-29",
                                    "2024-01-02", "2024-01-03"]
    assert out.loc[out["date"] == "2023-12-28", "value"].item() == 5.40
    assert (rep.rows, rep.fetched, rep.added, rep.first, rep.last) == (7, 6, 5, "2023-12-20", "2024-01-03")
    assert rep.path == tmp_path / spec.relpath() and rep.source == "fred"


def test_fetch_binance_resumes_from_last_cached_print(tmp_path, catalog):
    spec = catalog["BINANCE-BTCUSDT"]
    F.write_canonical(frame("time", [("2023-12-31T16:00:00Z", 0.0003), ("2024-01-01T16:00:00Z", 0.00033601)],
                            ["rate"]), spec, tmp_path)
    get = universal_get()
    [rep] = F.fetch(["BINANCE-BTCUSDT"], root=tmp_path, get=get, catalog=catalog)
    assert rep.ok, rep.message
    assert parse_qs(urlsplit(get.calls[0]).query)["startTime"] == ["1704124800000"]
    out = pd.read_csv(tmp_path / spec.relpath())
    assert out["time"].tolist() == ["2023-12-31T16:00:00Z", "2024-01-01T16:00:00Z", "2024-01-02T00:00:00Z",
                                    "2024-01-02T08:00:00Z"]
    assert rep.added == 2


def test_fetch_rebases_adjusted_prices_on_overlap(tmp_path, catalog):
    spec = catalog["SPY"]
    # Cached bars on an older adjustment basis (a dividend went ex since): 1% higher than today's.
    old = frame("date", [("2023-12-28", 480.0, 481.0, 479.0, 480.0, 1000),
                         ("2024-01-02", 465.3799, 466.8648, 463.7309, 465.8699, 1000)],
                ["open", "high", "low", "close", "volume"])
    F.write_canonical(old, spec, tmp_path)
    [rep] = F.fetch(["SPY"], root=tmp_path, since="2024-01-02", history=yahoo_history, catalog=catalog)
    assert rep.ok and "rescaled" in rep.message
    out = pd.read_csv(tmp_path / spec.relpath(), dtype={"date": str})
    factor = 461.2474365 / 465.8699
    assert out["date"].tolist()[:2] == ["2023-12-28", "2024-01-02"]
    assert out.loc[0, "close"] == pytest.approx(480.0 * factor, rel=1e-9)
    assert out.loc[1, "close"] == 461.2474365  # the overlap takes the fresh value


def test_fetch_http_error_names_url_and_series_and_others_continue(tmp_path, catalog):
    get = FakeGet(
        ("fred.stlouisfed.org", {"id": "SOFR"}, FakeResponse(503, "<html>Service Unavailable</html>")),
        ("fred.stlouisfed.org", {"id": "DGS10"}, recorded("fred_DGS10.csv")),
    )
    reps = F.fetch(["SOFR", "DGS10", "PUTCALL", "SOFRR"], root=tmp_path, get=get, catalog=catalog)
    sofr, dgs10, putcall, typo = reps
    assert not sofr.ok
    assert "https://fred.stlouisfed.org/graph/fredgraph.csv?id=SOFR" in sofr.message
    assert "SOFR" in sofr.message and "HTTP 503" in sofr.message
    assert not (tmp_path / catalog["SOFR"].relpath()).exists()
    assert dgs10.ok and dgs10.rows == 5
    assert not putcall.ok and "no live source for PUTCALL" in putcall.message
    assert not typo.ok and "unknown series 'SOFRR'" in typo.message and "did you mean" in typo.message


def test_fetch_unreachable_source_is_reported(tmp_path, catalog):
    def down(url, timeout=None):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    [rep] = F.fetch(["BTC-MVRV"], root=tmp_path, get=down, catalog=catalog)
    assert not rep.ok and "community-api.coinmetrics.io" in rep.message and "BTC-MVRV" in rep.message


def test_no_real_socket_is_opened(tmp_path, catalog):
    # The autouse guard is active: any real connection attempt raises.
    with pytest.raises(NoNetwork):
        socket.create_connection(("fred.stlouisfed.org", 443))
    reps = F.fetch(None, root=tmp_path, get=universal_get(), history=yahoo_history, catalog=catalog)
    fetchable = {sid for sid, spec in catalog.items() if F.live_source(spec)}
    assert {r.series for r in reps} == fetchable
    assert {"SPY", "SPX", "VIX", "VIX3M", "VIX9D", "ETH-USD", "SOFR", "BTC-MVRV", "BINANCE-BTCUSDT"} <= fetchable
    assert all(r.ok for r in reps), [r.message for r in reps if not r.ok]
    for r in reps:
        assert r.path.exists() and r.rows > 0


def test_sources_cover_catalog_ids(catalog):
    for sid, (source, symbol) in F.SOURCES.items():
        assert sid in catalog, sid
        assert source in {"yahoo", "fred", "coinmetrics", "binance"}
    assert F.SOURCES["VIX"] == ("yahoo", "^VIX")


# ------------------------------------------------------------------------------ status

def test_status_on_small_dir(tmp_path, catalog):
    F.write_canonical(frame("date", [("2024-01-02", 5.4), ("2024-01-03", 5.39), ("2024-01-05", 5.31)],
                            ["value"]), catalog["SOFR"], tmp_path)
    F.write_canonical(frame("time", [("2024-01-01T00:00:00Z", 0.0001), ("2024-01-01T08:00:00Z", 0.0002)],
                            ["rate"]), catalog["BINANCE-BTCUSDT"], tmp_path)
    st = F.status(tmp_path, asof="2024-01-10", catalog=catalog).set_index("series")
    assert len(st) == len(catalog)
    assert st["present"].sum() == 2
    sofr, fund = st.loc["SOFR"], st.loc["BINANCE-BTCUSDT"]
    assert (sofr["rows"], sofr["first"], sofr["last"], sofr["stale_days"]) == (3, "2024-01-02", "2024-01-05", 5)
    assert (fund["rows"], fund["first"], fund["last"], fund["stale_days"]) == (
        2, "2024-01-01T00:00:00Z", "2024-01-01T08:00:00Z", 9)
    assert sofr["path"] == str(tmp_path / "series" / "fred" / "SOFR.csv")
    assert not st.loc["SPY", "present"] and pd.isna(st.loc["SPY", "rows"])
    assert st.loc["PUTCALL", "source"] == "" and st.loc["SPY", "source"] == "yahoo"


def test_status_reads_files_without_trailing_newline(tmp_path, catalog):
    path = tmp_path / catalog["SOFR"].relpath()
    path.parent.mkdir(parents=True)
    path.write_text("date,value\n2024-01-02,5.4\n2024-01-03,5.39")
    row = F.status(tmp_path, asof="2024-01-03", catalog=catalog).set_index("series").loc["SOFR"]
    assert (row["rows"], row["first"], row["last"], row["stale_days"]) == (2, "2024-01-02", "2024-01-03", 0)
    path.write_text("date,value\n")
    row = F.status(tmp_path, asof="2024-01-03", catalog=catalog).set_index("series").loc["SOFR"]
    assert row["present"] and row["rows"] == 0 and row["last"] is None


def test_status_on_snapshot_lists_every_series(catalog):
    if not (SNAPSHOT / "series").is_dir():
        pytest.skip(f"no snapshot at {SNAPSHOT}")
    st = F.status(SNAPSHOT, catalog=catalog)
    assert set(st["series"]) == set(catalog)
    missing = st.loc[~st["present"], "series"].tolist()
    assert not missing, missing
    assert (st["rows"] > 0).all() and st["first"].notna().all() and (st["stale_days"] >= 0).all()
    spy = st.set_index("series").loc["SPY"]
    assert spy["first"] == "1993-01-29" and spy["last"] == "2026-06-05"
    with open(SNAPSHOT / "series" / "prices" / "SPY.csv", "rb") as fh:
        assert spy["rows"] == sum(1 for _ in fh) - 1
