"""Live-fetch robustness with recorded failure responses: 429 / 500 / truncated / empty.

The retry tests replay responses from a local HTTP server on 127.0.0.1 (loopback only, no
network) so urllib3's real ``Retry`` machinery runs: status codes, Retry-After, back-off.
"""
from __future__ import annotations

import json
import os
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from riskoff.data import fetch as F
from riskoff.data.catalog import load_catalog
from riskoff.util.errors import DataError

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
SOFR_CSV = (RECORDED / "fred_SOFR.csv").read_text()


class Replay(BaseHTTPRequestHandler):
    """Serves a script of (status, headers, body) answers, one per request, the last one repeated."""

    script: list[tuple[int, dict, str]] = []
    seen: list[tuple[float, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).seen.append((time.monotonic(), self.path))
        status, headers, body = self.script[min(len(self.seen) - 1, len(self.script) - 1)]
        data = body.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    Replay.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/fredgraph.csv"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def fred_via(url: str, get) -> pd.DataFrame:
    return F.fetch_fred("SOFR", get=lambda u, timeout: get(u.replace(F.FRED_URL, url), timeout=timeout))


def test_429_with_retry_after_is_waited_out_then_succeeds(server):
    Replay.script = [(429, {"Retry-After": "1"}, "slow down"), (200, {}, SOFR_CSV)]
    out = fred_via(server, F.default_get(retries=3, backoff=0.01))
    assert len(Replay.seen) == 2
    waited = Replay.seen[1][0] - Replay.seen[0][0]
    assert waited >= 0.95, f"Retry-After: 1 was not honoured (waited {waited:.2f} s)"
    assert len(out) and list(out.columns) == ["date", "value"]


def test_500s_back_off_exponentially_then_succeed(server):
    Replay.script = [(500, {}, "oops"), (502, {}, "oops"), (503, {}, "oops"), (200, {}, SOFR_CSV)]
    fred_via(server, F.default_get(retries=5, backoff=0.2))
    t = [s[0] for s in Replay.seen]
    assert len(t) == 4
    gaps = [b - a for a, b in zip(t, t[1:])]
    # urllib3 waits backoff * 2**(n-1) from the second retry on: 0, 0.4, 0.8 s here
    assert gaps[1] >= 0.35 and gaps[2] >= 0.75 and gaps[2] > gaps[1], gaps


def test_500_until_retries_run_out_is_a_fetch_error_with_the_status(server):
    Replay.script = [(500, {}, "internal error")]
    with pytest.raises(F.FetchError, match="HTTP 500"):
        fred_via(server, F.default_get(retries=2, backoff=0.01))
    assert len(Replay.seen) == 3  # the first attempt and two retries


def test_retry_policy_covers_timeouts_and_retry_after_on_5xx():
    policy = F.retry_policy()
    assert policy.read == policy.connect == F.RETRIES  # read time-outs are retried (GET is idempotent)
    assert {429, 500, 502, 503, 504} <= set(policy.status_forcelist)
    assert 500 in policy.RETRY_AFTER_STATUS_CODES and policy.respect_retry_after_header


# ------------------------------------------------------------------- paged, truncated, empty

def binance_script(truncate_after: int):
    """Binance over the recorded prints, 2 per page; the page after `truncate_after` is cut off."""
    prints = [p for name in ("binance_BTCUSDT_page1.json", "binance_BTCUSDT_page2.json")
              for p in json.loads((RECORDED / name).read_text())]
    calls = []

    def get(url, timeout=None):
        from urllib.parse import parse_qs, urlsplit
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        calls.append(int(q["startTime"]))
        page = [p for p in prints if p["fundingTime"] >= int(q["startTime"])][:int(q["limit"])]
        body = json.dumps(page)
        if len(calls) == truncate_after + 1:
            body = body[: len(body) // 2]  # the connection dropped mid-body
        return type("R", (), {"status_code": 200, "text": body, "json": lambda self: json.loads(body)})()
    return prints, calls, get


_orig = F.fetch_binance_funding


def test_truncated_page_keeps_what_arrived_and_the_next_fetch_resumes(tmp_path, catalog, monkeypatch):
    prints, calls, get = binance_script(truncate_after=2)
    monkeypatch.setattr(F, "fetch_binance_funding",
                        lambda sid, since=None, *, get, symbol, limit=2: _orig(sid, since, get=get, symbol=symbol, limit=2))
    first = F.fetch(["BINANCE-BTCUSDT"], root=tmp_path, get=get, catalog=catalog)[0]
    assert not first.ok and "partial" in first.message and first.rows == 4
    path = tmp_path / catalog["BINANCE-BTCUSDT"].relpath()
    kept = pd.read_csv(path)
    assert len(kept) == 4  # two whole pages survived the truncated third
    # a working source now: the next fetch starts at the last kept print, not at the beginning
    _, calls2, get2 = binance_script(truncate_after=10**6)
    second = F.fetch(["BINANCE-BTCUSDT"], root=tmp_path, get=get2, catalog=catalog)[0]
    last_kept_ms = int(pd.Timestamp(kept["time"].iloc[-1]).value // 1_000_000)
    assert second.ok and calls2[0] == last_kept_ms
    assert second.rows == len({p["fundingTime"] // 1000 for p in prints})


def test_empty_response_after_since_is_up_to_date_not_a_failure(tmp_path, catalog):
    spec = catalog["SPY"]
    cached = pd.DataFrame({"date": ["2024-07-02", "2024-07-03"], "open": [1.0, 2.0], "high": [1.0, 2.0],
                           "low": [1.0, 2.0], "close": [1.0, 2.0], "volume": [10, 20]})
    F.write_canonical(cached, spec, tmp_path)
    # 2024-07-04 is a holiday: Yahoo has no bar from that day on (at the time of the fetch)
    rep = F.fetch(["SPY"], root=tmp_path, since="2024-07-04", history=lambda sym, start: pd.DataFrame(),
                  catalog=catalog)[0]
    assert rep.ok and rep.message == "up to date" and rep.rows == 2


def test_empty_fred_csv_since_a_holiday_is_up_to_date(tmp_path, catalog):
    F.write_canonical(pd.DataFrame({"date": ["2024-07-03"], "value": [5.3]}), catalog["SOFR"], tmp_path)
    header_only = SOFR_CSV.splitlines()[0] + "\n"
    get = lambda url, timeout=None: type("R", (), {"status_code": 200, "text": header_only})()  # noqa: E731
    rep = F.fetch(["SOFR"], root=tmp_path, since="2024-07-04", get=get, catalog=catalog)[0]
    assert rep.ok and "up to date" in rep.message


# ----------------------------------------------------------------------- files and merges

def test_cache_files_are_0644_and_fsynced_before_the_rename(tmp_path, catalog, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    old = os.umask(0o077)  # a strict umask must not make the cache private
    try:
        path = F.write_canonical(pd.DataFrame({"date": ["2024-01-02"], "value": [1.5]}), catalog["SOFR"], tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert events.index("fsync") < events.index("replace")


def test_merge_keeps_cached_volume_when_a_fetch_lacks_it(catalog):
    spec = catalog["SPY"]
    cols = ["open", "high", "low", "close"]
    old = pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], **{c: [1.0, 2.0] for c in cols}, "volume": [10, 20]})
    revised = pd.DataFrame({"date": ["2024-01-03"], **{c: [2.5] for c in cols}})
    merged = F.merge_canonical(old, revised, spec)
    assert list(merged.columns) == ["date", *cols, "volume"]
    assert merged["volume"].tolist() == [10, 20] and merged["close"].tolist() == [1.0, 2.5]
    newer = pd.DataFrame({"date": ["2024-01-04"], **{c: [3.0] for c in cols}})
    with pytest.raises(DataError, match="lack column.*volume"):
        F.merge_canonical(old, newer, spec)
