"""The daily routine end to end: ``riskoff data fetch`` then ``riskoff now``, with no network.

A copy of the snapshot has SOFR (FRED), Binance funding and SPY (Yahoo) cut two weeks before the
instant, so ``riskoff now`` finds them stale. A local HTTP server on 127.0.0.1 answers in each
source's own format (FRED's fredgraph.csv, Binance's fundingRate JSON list) with the snapshot's
rows, after a 429 with Retry-After (FRED) and a truncated body (Binance); yfinance, which cannot be
pointed at another address, is replaced at its function boundary (``_yfinance_history``). After the
fetches, the read-out of the copy equals the read-out of the untouched snapshot.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from riskoff.cli import main
from riskoff.data import fetch as F

from tests.test_now_cli import cut, mirror

ROOT = Path(__file__).resolve().parents[1]
SELLOFFS = ROOT / "backtests" / "selloffs.toml"
CUT_DAY = "2026-03-06"
AS_OF = "2026-03-20T21:30:00Z"


class Sources(BaseHTTPRequestHandler):
    """FRED and Binance as recorded: the first FRED answer is a 429 (Retry-After: 1), the first
    Binance answer a truncated JSON body; later answers serve the snapshot's rows."""

    data_dir: Path = Path()
    seen: list[tuple[float, str]] = []

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        raw = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).seen.append((time.monotonic(), self.path))
        first = sum(1 for _, p in self.seen if p.split("?")[0] == url.path) == 1
        if url.path.startswith("/fred/"):
            if first:
                return self._send(429, "Too Many Requests", {"Retry-After": "1"})
            rows = pd.read_csv(self.data_dir / f"series/fred/{q['id']}.csv", dtype=str)
            rows = rows[rows["date"] >= q.get("cosd", "")]
            body = f"observation_date,{q['id']}\n" + "".join(f"{d},{v}\n" for d, v in zip(rows["date"], rows["value"]))
            return self._send(200, body, {"Content-Type": "text/csv"})
        if url.path.startswith("/binance/"):
            prints = pd.read_csv(self.data_dir / "series/funding/BINANCE-BTCUSDT.csv", dtype=str)
            ms = pd.to_datetime(prints["time"]).dt.as_unit("ms").astype("int64")
            keep = prints[ms >= int(q["startTime"])].head(int(q["limit"]))
            page = json.dumps([{"symbol": q["symbol"], "fundingTime": int(pd.Timestamp(t).value // 10**6),
                                "fundingRate": r, "markPrice": "0"} for t, r in zip(keep["time"], keep["rate"])])
            return self._send(200, page[: len(page) // 2] if first else page, {"Content-Type": "application/json"})
        return self._send(404, "not found")

    def log_message(self, *args):
        pass


@pytest.fixture
def sources(data_dir, monkeypatch):
    Sources.data_dir, Sources.seen = data_dir, []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Sources)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    monkeypatch.setattr(F, "FRED_URL", f"{base}/fred/fredgraph.csv")
    monkeypatch.setattr(F, "BINANCE_FUNDING_URL", f"{base}/binance/fapi/v1/fundingRate")

    def yahoo(symbol: str, start: str | None) -> pd.DataFrame:  # yfinance's shape: tz-aware dates, Title columns
        rows = pd.read_csv(data_dir / f"series/prices/{symbol}.csv", index_col="date", parse_dates=True)
        rows = rows if start is None else rows[rows.index >= start]
        rows.index = rows.index.tz_localize("America/New_York")
        return rows.rename(columns=str.title)

    monkeypatch.setattr(F, "_yfinance_history", yahoo)
    yield Sources
    srv.shutdown()
    srv.server_close()


def now_json(capsys, data: Path) -> tuple[int, dict]:
    code = main(["now", str(SELLOFFS), "--as-of", AS_OF, "--json", "--data-dir", str(data)])
    return code, json.loads(capsys.readouterr().out)


def decisions(doc: dict) -> list[tuple]:
    return [(r["kind"], r["strategy"], r["asset"], r["decided"], r["held"], r["pending"], r["changed_at"],
             tuple((s["label"], s["state"]) for s in r["signals"])) for r in doc["records"]]


def test_fetch_then_now_end_to_end_against_a_local_server(capsys, data_dir, tmp_path, sources):
    root = mirror(data_dir, tmp_path / "data")
    cut(root, "series/fred/SOFR.csv", CUT_DAY)
    cut(root, "series/funding/BINANCE-BTCUSDT.csv", f"{CUT_DAY}T23:59:59Z", column="time")
    cut(root, "series/prices/SPY.csv", CUT_DAY)

    code, before = now_json(capsys, root)
    assert {"SOFR", "BINANCE-BTCUSDT", "SPY"} <= set(before["stale"]) and code in (4, 5)

    code = main(["data", "fetch", "SOFR", "BINANCE-BTCUSDT", "SPY", "--data-dir", str(root)])
    out = " ".join(capsys.readouterr().out.split())  # the table may wrap its note column
    assert code == 1  # Binance's truncated body failed that series; the others went through
    fred = [t for t, p in sources.seen if p.startswith("/fred/")]
    assert len(fred) == 2 and fred[1] - fred[0] >= 1.0  # the 429's Retry-After was waited out
    assert "valid JSON" in out and out.count("FAILED") == 1

    code = main(["data", "fetch", "BINANCE-BTCUSDT", "--data-dir", str(root)])
    assert code == 0, capsys.readouterr().out
    capsys.readouterr()

    code, after = now_json(capsys, root)
    code_ref, ref = now_json(capsys, data_dir)
    assert after["stale"] == [] and code == code_ref
    assert decisions(after) == decisions(ref)
    seen = {i["series"]: (i["last_observation"], i["published_at"], i["stale"]) for i in after["inputs"]}
    assert seen == {i["series"]: (i["last_observation"], i["published_at"], i["stale"]) for i in ref["inputs"]}
