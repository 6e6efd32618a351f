"""Live fetchers: download series from their public sources into the cache in the canonical format.

Four public sources are supported, each by one small function that returns a canonical frame
(first column ``date`` as ``YYYY-MM-DD`` or ``time`` as ``YYYY-MM-DDTHH:MM:SSZ``, then the
catalog's value columns, rows ascending, no duplicate stamps, missing observations absent):

- Yahoo Finance through ``yfinance`` (the optional extra ``live``): ETF and index prices, ETH-USD
  and the CBOE VIX family, auto-adjusted for dividends and splits (total-return proxies).
- FRED's public CSV download (``fredgraph.csv``): every series of the ``fred`` family.
- Coin Metrics' community API: BTC-MVRV (``CapMVRVCur``).
- Binance's public futures API: BINANCE-BTCUSDT funding prints.

Robustness: the default HTTP getter retries 429, 5xx, connection failures and time-outs with
exponential back-off and honours ``Retry-After`` (urllib3's ``Retry``); yfinance gets the same
number of retries through its own configuration. A paged download that fails part-way keeps the
pages that arrived (written to the cache, reported as partial) and the next fetch resumes from
them. A fetch that finds nothing new is "up to date", a success. Cache files are written 0644,
fsynced, then renamed into place; a merge never drops a column the cache holds.

The HTTP fetchers take an injectable ``get(url, timeout=...)`` callable returning a response with
``status_code``, ``text`` and ``json()`` (a ``requests`` session's ``get`` fits), and the Yahoo
fetcher an injectable ``history(symbol, start)`` callable returning a yfinance-shaped frame, so
tests replay recorded responses without a network. :func:`fetch` drives them, merges each result
into ``<root>/series/<family>/<ID>.csv`` and reports what it wrote; :func:`status` summarises a
data dir cheaply.
"""
from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pandas as pd

from riskoff.data.catalog import SeriesSpec, load_catalog
from riskoff.util.errors import DataError, RiskoffError, did_you_mean
from riskoff.util.files import atomic_write
from riskoff.util.paths import LIVE_DATA_DIR

Getter = Callable[..., Any]
History = Callable[[str, "str | None"], pd.DataFrame]

FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
COINMETRICS_URL = "https://community-api.coinmetrics.io/v4/timeseries/asset-metrics"
BINANCE_FUNDING_URL = "https://fapi.binance.com/fapi/v1/fundingRate"
YAHOO_URL = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"  # what yfinance calls
TIMEOUT = 30.0
RETRIES = 5            # per request: attempts after the first on 429, 5xx, connection errors, time-outs
BACKOFF = 1.0          # seconds: waits of 1, 2, 4, 8, ... (capped at BACKOFF_MAX), or the server's Retry-After
BACKOFF_MAX = 60.0
RETRY_STATUS = (429, 500, 502, 503, 504)
FLOAT_FORMAT = "%.10g"  # the snapshot's precision: ample for prices, rates and ratios
USER_AGENT = "riskoff/0.1 (backtesting research; python-requests)"

# Binance's perpetual launched 2019-09-08: starting a full download just before it returns the
# first print on the first page instead of the 1000 most recent ones.
BINANCE_EPOCH = pd.Timestamp("2019-09-01", tz="UTC")

_YAHOO_ETFS = ("SPY", "QQQ", "DIA", "IWM", "RSP", "QQQE", "SMH", "XLK", "TLT", "HYG", "GLD", "SLV",
               "UUP", "VIXY", "UVXY", "ETH-USD")
_FRED_IDS = ("SOFR", "EFFR", "SOFR30DAYAVG", "IORB", "DFEDTARU", "DFEDTARL", "DGS10", "DGS2", "T10Y2Y",
             "T10YIE", "T5YIE", "VIXCLS", "BAMLH0A0HYM2", "RRPONTSYD", "WALCL", "WRESBAL", "WSHOMCB",
             "TREAST", "NFCI", "ICSA", "CCSA", "CPIAUCSL", "CPILFESL", "PCEPILFE", "PPIACO", "PPIFES",
             "PAYEMS", "UNRATE", "JTSJOL", "INDPRO", "RSAFS", "UMCSENT", "FEDFUNDS")

#: Series ID -> (source, symbol at that source). BTC-USD is deliberately absent: the snapshot's
#: history is CoinMarketCap's from 2010, and splicing Yahoo's (from 2014) into it would mix vendors.
SOURCES: dict[str, tuple[str, str]] = {
    **{sid: ("yahoo", sid) for sid in _YAHOO_ETFS},
    "SPX": ("yahoo", "^GSPC"),
    "NDX": ("yahoo", "^NDX"),
    "VIX": ("yahoo", "^VIX"),
    "VIX3M": ("yahoo", "^VIX3M"),
    "VIX9D": ("yahoo", "^VIX9D"),
    **{sid: ("fred", sid) for sid in _FRED_IDS},
    "BTC-MVRV": ("coinmetrics", "btc:CapMVRVCur"),
    "BINANCE-BTCUSDT": ("binance", "BTCUSDT"),
}

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class FetchError(RiskoffError):
    """A live source failed: unreachable, an HTTP error, or a response not in the expected format.

    Args:
        problem: what went wrong.
        source: the source name (yahoo, fred, coinmetrics, binance).
        url: the URL requested.
        series: the catalog ID being fetched.
    """

    def __init__(self, problem: str, *, source: str, url: str, series: str) -> None:
        self.problem, self.source, self.url, self.series = problem, source, url, series
        super().__init__(f"{source} {url} [series {series}]: {problem}")


class PartialDownload(FetchError):
    """A paged download failed after some pages arrived; ``frame`` holds the rows received so far."""

    def __init__(self, error: FetchError, frame: pd.DataFrame) -> None:
        self.frame = frame
        super().__init__(error.problem, source=error.source, url=error.url, series=error.series)


@dataclass(frozen=True)
class FetchReport:
    """The outcome of fetching one series.

    ``ok`` is False when nothing was written (no live source, a failing source, a bad cache file);
    ``message`` then says why. ``fetched`` counts rows received, ``added`` the stamps that were not
    in the cache before, ``rows`` the rows now in the file, ``first``/``last`` its stamp range.
    """

    series: str
    ok: bool
    source: str | None = None
    symbol: str | None = None
    path: Path | None = None
    fetched: int = 0
    added: int = 0
    rows: int = 0
    first: str | None = None
    last: str | None = None
    message: str = ""


# --------------------------------------------------------------------------------------- HTTP

def retry_policy(total: int = RETRIES, backoff: float = BACKOFF, backoff_max: float = BACKOFF_MAX) -> Any:
    """urllib3's ``Retry`` for the live sources: GET retried on :data:`RETRY_STATUS`, connection
    errors and read time-outs, waiting ``backoff * 2**n`` seconds (at most ``backoff_max``) or the
    server's ``Retry-After``, whichever the server asked for. The last response is returned when
    the retries run out, so the caller reports its status."""
    from urllib3.util.retry import Retry

    class _Retry(Retry):
        # urllib3 honours Retry-After only on 413/429/503; a 500 or 502 may carry it too
        RETRY_AFTER_STATUS_CODES = frozenset({413, *RETRY_STATUS})

    return _Retry(total=total, connect=total, read=total, status=total, other=0, backoff_factor=backoff,
                  backoff_max=backoff_max, status_forcelist=RETRY_STATUS, allowed_methods=frozenset({"GET"}),
                  respect_retry_after_header=True, raise_on_status=False)


def default_get(retries: int = RETRIES, backoff: float = BACKOFF) -> Getter:
    """A ``get(url, timeout=...)`` backed by one ``requests`` session (connection reuse, retries).

    Args:
        retries: attempts after the first (see :func:`retry_policy`).
        backoff: the first back-off wait in seconds.
    Returns:
        The session's ``get`` with a descriptive User-Agent; some sources reject anonymous clients.
    """
    try:
        import requests  # the optional extra `live`: only fetching needs it
        from requests.adapters import HTTPAdapter
    except ImportError:
        raise RiskoffError("fetching live data needs requests: pip install 'riskoff[live]'") from None

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(max_retries=retry_policy(retries, backoff))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session.get


def _request(get: Getter, url: str, *, source: str, series: str) -> Any:
    try:
        resp = get(url, timeout=TIMEOUT)
    except Exception as exc:  # network failures differ by client; all mean "source unreachable"
        raise FetchError(f"request failed: {type(exc).__name__}: {exc}", source=source, url=url,
                         series=series) from None
    status = getattr(resp, "status_code", 200)
    if status >= 400:
        body = " ".join(str(getattr(resp, "text", "")).split())[:200]
        hint = " (Binance refuses some locations with 451/403)" if source == "binance" and status in (403, 451) else ""
        raise FetchError(f"HTTP {status}{hint}: {body}", source=source, url=url, series=series)
    return resp


def _json(resp: Any, url: str, *, source: str, series: str) -> Any:
    try:
        return resp.json()
    except ValueError as exc:  # requests' JSONDecodeError is a ValueError too
        raise FetchError(f"response is not valid JSON ({exc})", source=source, url=url, series=series) from None


def _since(since: str | date | datetime | pd.Timestamp | None) -> pd.Timestamp | None:
    """``since`` as a UTC timestamp; naive values are read as UTC."""
    if since is None:
        return None
    ts = pd.Timestamp(since)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# ---------------------------------------------------------------------------------- fetchers

def fetch_fred(series_id: str, since: str | date | pd.Timestamp | None = None, *,
               get: Getter | None = None, fred_id: str | None = None) -> pd.DataFrame:
    """Download one FRED series from the public CSV endpoint.

    FRED marks a missing observation (a holiday, a day without a print) with ``"."`` (older files)
    or an empty cell; those rows are dropped, because the canonical format leaves a missing
    observation absent rather than writing a filler row.

    Args:
        series_id: the catalog ID (used in messages).
        since: first observation date wanted; ``None`` downloads the full history.
        get: the HTTP getter; ``None`` uses :func:`default_get`.
        fred_id: FRED's own ID when it differs from ``series_id``.
    Returns:
        Canonical frame with columns ``date, value``.
    """
    get = get or default_get()
    fred_id = fred_id or series_id
    start = _since(since)
    params = {"id": fred_id}
    if start is not None:
        params["cosd"] = start.strftime("%Y-%m-%d")
    url = f"{FRED_URL}?{urlencode(params)}"
    text = _request(get, url, source="fred", series=series_id).text
    lines = text.lstrip("\ufeff").splitlines()
    header = [h.strip() for h in next(csv.reader(lines[:1]), [])]
    # FRED answers an unknown ID with an HTML page, so check the header before trusting the rows.
    if len(header) != 2 or header[0].lower() not in ("observation_date", "date") \
            or header[1].upper() != fred_id.upper():
        raise FetchError(f"expected a CSV header 'observation_date,{fred_id}', got {lines[:1] or ['<empty>']!r:.120}",
                         source="fred", url=url, series=series_id)
    dates, values = [], []
    for lineno, row in enumerate(csv.reader(lines[1:]), start=2):
        if not row:
            continue
        if len(row) != 2 or not _DATE_RE.fullmatch(row[0].strip()):
            raise FetchError(f"line {lineno}: expected 'YYYY-MM-DD,value', got {','.join(row)!r}",
                             source="fred", url=url, series=series_id)
        raw = row[1].strip()
        if raw in (".", ""):
            continue
        try:
            values.append(float(raw))
        except ValueError:
            raise FetchError(f"line {lineno}: value {raw!r} is not a number", source="fred", url=url,
                             series=series_id) from None
        dates.append(row[0].strip())
    frame = pd.DataFrame({"date": pd.Series(dates, dtype=str), "value": pd.Series(values, dtype="float64")})
    if start is not None:  # in case the server ignored cosd
        frame = frame[frame["date"] >= start.strftime("%Y-%m-%d")]
    return _tidy(frame, "date")


def fetch_coinmetrics(series_id: str = "BTC-MVRV", since: str | date | pd.Timestamp | None = None, *,
                      get: Getter | None = None, asset: str = "btc", metric: str = "CapMVRVCur",
                      page_size: int = 10000) -> pd.DataFrame:
    """Download one daily asset metric from Coin Metrics' community API, following every page.

    Args:
        series_id: the catalog ID (used in messages).
        since: first UTC day wanted; ``None`` downloads the full history.
        get: the HTTP getter; ``None`` uses :func:`default_get`.
        asset: Coin Metrics asset ticker.
        metric: Coin Metrics metric name.
        page_size: rows per page (the API allows up to 10000).
    Returns:
        Canonical frame with columns ``date, value`` (UTC days).
    """
    get = get or default_get()
    start = _since(since)
    params = {"assets": asset, "metrics": metric, "frequency": "1d", "page_size": page_size,
              "paging_from": "start"}
    if start is not None:
        params["start_time"] = start.strftime("%Y-%m-%d")
    url: str | None = f"{COINMETRICS_URL}?{urlencode(params)}"
    dates, values, seen = [], [], set()
    while url and url not in seen:  # `seen` stops a server that hands back the same page forever
        seen.add(url)
        try:
            doc = _json(_request(get, url, source="coinmetrics", series=series_id), url,
                        source="coinmetrics", series=series_id)
            if not isinstance(doc, dict) or "data" not in doc:
                err = doc.get("error") if isinstance(doc, dict) else None
                raise FetchError(f"expected a JSON object with 'data', got {str(err or doc)[:200]}",
                                 source="coinmetrics", url=url, series=series_id)
        except FetchError as exc:
            if dates:  # keep the pages that arrived
                raise PartialDownload(exc, _tidy(pd.DataFrame({"date": dates, "value": values}), "date")) from None
            raise
        for item in doc["data"]:
            stamp, raw = str(item.get("time", "")), item.get(metric)
            if not _DATE_RE.fullmatch(stamp[:10]) or stamp[10:11] not in ("T", ""):
                raise FetchError(f"row time {stamp!r} is not an ISO UTC timestamp", source="coinmetrics",
                                 url=url, series=series_id)
            if raw is None or raw == "":
                continue  # null = no data that day: absent in the canonical format
            try:
                values.append(float(raw))
            except (TypeError, ValueError):
                raise FetchError(f"{metric} value {raw!r} at {stamp} is not a number", source="coinmetrics",
                                 url=url, series=series_id) from None
            dates.append(stamp[:10])  # 1d rows are stamped at 00:00 UTC of the day they measure
        url = doc.get("next_page_url")
    return _tidy(pd.DataFrame({"date": dates, "value": values}), "date")


def fetch_binance_funding(series_id: str = "BINANCE-BTCUSDT",
                          since: str | date | datetime | pd.Timestamp | None = None, *,
                          get: Getter | None = None, symbol: str = "BTCUSDT", limit: int = 1000) -> pd.DataFrame:
    """Download funding prints from Binance USD-M futures, paging forward in time.

    Binance stamps a settlement a few milliseconds late at times (``...08:00:00.001``); each stamp
    is rounded to the nearest second so prints land on their settlement second.

    Args:
        series_id: the catalog ID (used in messages).
        since: first settlement time wanted (inclusive); ``None`` starts before the contract listed.
        get: the HTTP getter; ``None`` uses :func:`default_get`.
        symbol: Binance perpetual symbol.
        limit: rows per request (Binance's maximum is 1000); a shorter page ends the download.
    Returns:
        Canonical frame with columns ``time, rate`` (rate per funding interval, a fraction).
    """
    get = get or default_get()
    start = _since(since) or BINANCE_EPOCH
    cursor = int(start.value // 1_000_000)  # ns -> ms
    times, rates = [], []

    def frame() -> pd.DataFrame:
        stamps = pd.to_datetime(pd.Series(times, dtype="int64"), unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return _tidy(pd.DataFrame({"time": stamps.astype(str), "rate": rates}), "time")

    while True:
        url = f"{BINANCE_FUNDING_URL}?{urlencode({'symbol': symbol, 'startTime': cursor, 'limit': limit})}"
        try:
            page = _json(_request(get, url, source="binance", series=series_id), url, source="binance",
                         series=series_id)
            if not isinstance(page, list):  # errors come back as {"code": ..., "msg": ...}
                raise FetchError(f"expected a JSON list of funding prints, got {str(page)[:200]}",
                                 source="binance", url=url, series=series_id)
        except FetchError as exc:
            if times:  # keep the pages that arrived; the next fetch resumes after the last print
                raise PartialDownload(exc, frame()) from None
            raise
        last = cursor - 1
        for item in page:
            try:
                ms, rate = int(item["fundingTime"]), float(item["fundingRate"])
            except (KeyError, TypeError, ValueError):
                raise FetchError(f"malformed funding print {str(item)[:120]}", source="binance", url=url,
                                 series=series_id) from None
            times.append((ms + 500) // 1000)
            rates.append(rate)
            last = max(last, ms)
        if len(page) < limit or last < cursor:  # short page = caught up; no progress = stop, not spin
            break
        cursor = last + 1
    return frame()


def _yfinance_history(symbol: str, start: str | None) -> pd.DataFrame:
    """Daily auto-adjusted bars from yfinance (full history when ``start`` is None)."""
    try:
        import yfinance as yf  # optional extra `live`
    except ImportError:
        raise RiskoffError("fetching from Yahoo Finance needs yfinance: pip install 'riskoff[live]'") from None
    # yfinance 1.x: errors and retries are configuration, not history() arguments (raise_errors is
    # deprecated); its own retries default to 0.
    yf.config.debug.hide_exceptions = False
    yf.config.network.retries = RETRIES
    kwargs: dict[str, Any] = {"start": start} if start else {"period": "max"}
    try:
        return yf.Ticker(symbol).history(interval="1d", auto_adjust=True, actions=False, **kwargs)
    except Exception as exc:
        if start and type(exc).__name__ == "YFPricesMissingError":  # nothing since `start`: up to date
            return pd.DataFrame()
        raise


def fetch_yahoo(spec: SeriesSpec, symbol: str | None = None, since: str | date | pd.Timestamp | None = None, *,
                history: History | None = None, now: datetime | None = None) -> pd.DataFrame:
    """Download daily bars from Yahoo Finance, adjusted for dividends and splits.

    The bar of the current session is dropped until the spec's publication time has passed
    (16:00 New York for US prices, 00:00 UTC of the next day for crypto), because Yahoo serves the
    session in progress as if it were a finished bar.

    Args:
        spec: the catalog entry (its columns decide whether volume is kept).
        symbol: Yahoo's ticker; ``None`` looks it up in :data:`SOURCES`.
        since: first date wanted; ``None`` downloads the full history.
        history: ``history(symbol, start)`` returning a yfinance-shaped frame (DatetimeIndex;
            columns Open, High, Low, Close[, Volume]); ``None`` uses yfinance.
        now: the current time (tests pin it); ``None`` = the clock.
    Returns:
        Canonical frame with columns ``date, open, high, low, close[, volume]``.
    """
    symbol = symbol or SOURCES.get(spec.id, ("yahoo", spec.id))[1]
    url = YAHOO_URL.format(symbol=symbol)
    start = _since(since)
    start_s = start.strftime("%Y-%m-%d") if start is not None else None
    try:
        raw = (history or _yfinance_history)(symbol, start_s)
    except RiskoffError:
        raise
    except Exception as exc:  # yfinance raises assorted types for network and "no data" failures
        raise FetchError(f"yfinance failed: {type(exc).__name__}: {exc}", source="yahoo", url=url,
                         series=spec.id) from None
    if raw is None or len(raw) == 0:
        if start_s is not None:  # nothing since `since` (a holiday, a weekend): up to date, not a failure
            return pd.DataFrame({"date": pd.Series(dtype=str), **{c: pd.Series(dtype=float) for c in spec.columns}})
        raise FetchError("no rows returned (delisted or unknown symbol?)", source="yahoo", url=url, series=spec.id)
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):  # yf.download shape: (field, ticker)
        frame.columns = frame.columns.get_level_values(0)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    wanted = [c for c in spec.columns if c != "volume" or "volume" in frame.columns]
    missing = [c for c in spec.columns if c != "volume" and c not in frame.columns]
    if missing:
        raise FetchError(f"response lacks column(s) {missing}; got {list(frame.columns)}", source="yahoo",
                         url=url, series=spec.id)
    # The index is midnight in the exchange's zone (New York for US symbols, UTC for crypto), so its
    # local calendar date is the trading day the publisher labels the bar with.
    dates = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
    out = pd.DataFrame({"date": list(dates), **{c: frame[c].to_numpy() for c in wanted}})
    out = out.dropna()  # a row with any blank is an incomplete bar: absent, not half-written
    if start_s is not None:
        out = out[out["date"] >= start_s]
    out = _tidy(out, "date")
    now_ts = pd.Timestamp(now or datetime.now(timezone.utc))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts
    while len(out) and _final_at(out["date"].iloc[-1], spec) > now_ts:
        out = out.iloc[:-1]
    return out.reset_index(drop=True)


def _final_at(day: str, spec: SeriesSpec) -> pd.Timestamp:
    """When the bar dated ``day`` is final, from the spec's lag and publication time."""
    ts = pd.Timestamp(day)
    if spec.lag_days:
        ts = ts + (pd.offsets.BDay(spec.lag_days) if spec.lag_unit == "bday" else pd.Timedelta(days=spec.lag_days))
    hh, mm = (int(x) for x in spec.publish_time.split(":"))
    return ts.replace(hour=hh, minute=mm).tz_localize(ZoneInfo(spec.publish_tz))


def _tidy(frame: pd.DataFrame, stamp: str) -> pd.DataFrame:
    """Sort ascending and keep the last row for a repeated stamp (a page overlap or a reprint)."""
    frame = frame.drop_duplicates(subset=stamp, keep="last").sort_values(stamp, kind="stable")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- write / merge

def _layout(frame: pd.DataFrame, spec: SeriesSpec, where: str | Path) -> list[str]:
    """The column order to write: the stamp, then the spec's columns (volume may be absent)."""
    stamp = spec.stamp_column
    allowed = [stamp, *spec.columns]
    cols = list(frame.columns)
    extra = [c for c in cols if c not in allowed]
    missing = [c for c in spec.required_columns if c not in cols]
    if stamp not in cols or extra or missing:
        raise DataError(f"columns {cols} do not match the canonical layout {allowed} "
                        f"(volume optional)", file=where, series=spec.id)
    return [c for c in allowed if c in cols]


def write_canonical(df: pd.DataFrame, spec: SeriesSpec, root: str | Path = LIVE_DATA_DIR) -> Path:
    """Write a frame as ``<root>/series/<family>/<ID>.csv`` in the canonical format, atomically.

    The file is written to a temporary file in the same folder, fsynced, given mode 0644 and moved
    into place with ``os.replace`` (the folder is fsynced too), so a reader never sees a
    half-written file, a crash cannot leave an empty one, and a failure leaves the previous file
    untouched. Values are written with 10 significant digits, like the snapshot.

    Args:
        df: frame with the stamp column (ISO strings) and the spec's value columns.
        spec: the catalog entry (decides the path, the stamp column and the column order).
        root: the data dir to write into.
    Returns:
        The path written.
    """
    path = Path(root) / spec.relpath()
    cols = _layout(df, spec, path)
    stamp = spec.stamp_column
    frame = df[cols].copy()
    frame[stamp] = frame[stamp].astype(str)
    pattern = _TIME_RE if stamp == "time" else _DATE_RE
    bad = ~frame[stamp].str.fullmatch(pattern.pattern)
    if bad.any():
        raise DataError(f"stamp {frame[stamp][bad].iloc[0]!r} is not "
                        f"{'YYYY-MM-DDTHH:MM:SSZ' if stamp == 'time' else 'YYYY-MM-DD'}", file=path, series=spec.id)
    dup = frame[stamp].duplicated()
    if dup.any():
        raise DataError(f"duplicate stamp {frame[stamp][dup].iloc[0]}", file=path, series=spec.id)
    blank = frame[cols[1:]].isna().any(axis=1)
    if blank.any():
        raise DataError(f"row {frame[stamp][blank].iloc[0]} has an empty value; drop missing observations "
                        f"instead of writing blanks", file=path, series=spec.id)
    frame = frame.sort_values(stamp, kind="stable")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda fh: frame.to_csv(fh, index=False, float_format=FLOAT_FORMAT, lineterminator="\n"),
                 durable=True)
    return path


def read_cached(path: str | Path, spec: SeriesSpec) -> pd.DataFrame:
    """Read a canonical file back as written (stamps as strings, values as numbers).

    Args:
        path: the file.
        spec: its catalog entry.
    Returns:
        The file's rows with its own columns, in file order.
    """
    stamp = spec.stamp_column
    try:
        frame = pd.read_csv(path, dtype={stamp: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=path, series=spec.id) from None
    _layout(frame, spec, path)
    return frame


def merge_canonical(old: pd.DataFrame, new: pd.DataFrame, spec: SeriesSpec) -> pd.DataFrame:
    """Combine cached rows with freshly fetched ones.

    New stamps are appended, a stamp present in both takes the fetched value (sources revise), and
    the result is sorted ascending. A column the cache holds is never dropped: where the fetch
    lacks it (a response without volume), cached rows keep their values; fetched rows new to the
    cache cannot be given a value, so that case is an error and the cache stays as it was.

    Args:
        old: the cached frame.
        new: the fetched frame.
        spec: the catalog entry.
    Returns:
        The merged canonical frame.
    """
    stamp = spec.stamp_column
    if old is None or old.empty:
        return _tidy(new.copy(), stamp)
    lacking = [c for c in old.columns if c not in new.columns]
    if lacking and new[stamp].isin(old[stamp]).all():
        # the fetch revises cached rows only: take its values, keep the cached column(s) it lacks
        merged = old.set_index(stamp)
        merged.update(new.set_index(stamp)[[c for c in new.columns if c != stamp and c in merged.columns]])
        return _tidy(merged.reset_index(), stamp)
    if lacking:
        fresh = new.loc[~new[stamp].isin(old[stamp]), stamp]
        raise DataError(f"the fetched rows lack column(s) {lacking} that the cache holds (first new row "
                        f"{fresh.iloc[0]}); nothing merged so the cached {', '.join(lacking)} history is kept",
                        series=spec.id)
    cols = list(old.columns) + [c for c in new.columns if c not in old.columns]
    merged = pd.concat([old, new[[c for c in cols if c in new.columns]]], ignore_index=True)[cols]
    return _tidy(merged, stamp)


def rebase_adjusted(old: pd.DataFrame, new: pd.DataFrame, columns: Iterable[str] = ("open", "high", "low", "close"),
                    tolerance: float = 1e-6) -> tuple[pd.DataFrame, float]:
    """Put cached adjusted prices on the basis of a newer download.

    Adjusted prices are rescaled backwards whenever a dividend goes ex, so bars fetched today sit
    on a different basis than bars cached last month. Splicing the two would create a fake return at
    the seam; instead the cached rows older than the new download are scaled by the median ratio
    of the two on their common dates.

    Args:
        old: cached frame (``date`` plus price columns).
        new: fetched frame.
        columns: the price columns to scale.
        tolerance: relative difference below which the bases are taken as equal.
    Returns:
        (old frame, rescaled where needed; the factor applied, 1.0 when none).
    """
    if old is None or old.empty or new.empty or "close" not in old or "close" not in new:
        return old, 1.0
    both = old[["date", "close"]].merge(new[["date", "close"]], on="date", suffixes=("_old", "_new"))
    if both.empty:
        return old, 1.0
    factor = float((both["close_new"] / both["close_old"]).median())
    if abs(factor - 1.0) <= tolerance:
        return old, 1.0
    out = old.copy()
    before = out["date"] < new["date"].min()
    for c in columns:
        if c in out:
            out.loc[before, c] = out.loc[before, c] * factor
    return out, factor


# ------------------------------------------------------------------------------------ fetch

def live_source(spec: SeriesSpec) -> tuple[str, str] | None:
    """The (source, remote symbol) for a series, or None when it has no live source.

    :data:`SOURCES` is consulted first; series a user adds to the ``fred`` family are fetched from
    FRED under their own ID, and US-calendar ``prices`` series from Yahoo under their own ticker.

    Args:
        spec: the catalog entry.
    Returns:
        The source and symbol, or None.
    """
    if spec.id in SOURCES:
        return SOURCES[spec.id]
    if spec.family == "fred":
        return ("fred", spec.id)
    if spec.family == "prices" and spec.calendar == "us":
        return ("yahoo", spec.id)
    return None


def _download(spec: SeriesSpec, source: str, symbol: str, since: pd.Timestamp | None, get: Getter | None,
              history: History | None) -> pd.DataFrame:
    if source == "yahoo":
        return fetch_yahoo(spec, symbol, since, history=history)
    if source == "fred":
        return fetch_fred(spec.id, since, get=get, fred_id=symbol)
    if source == "coinmetrics":
        asset, _, metric = symbol.partition(":")
        return fetch_coinmetrics(spec.id, since, get=get, asset=asset, metric=metric)
    if source == "binance":
        return fetch_binance_funding(spec.id, since, get=get, symbol=symbol)
    raise RiskoffError(f"series {spec.id}: unknown source {source!r}")


def fetch(ids: list[str] | None = None, root: str | Path = LIVE_DATA_DIR,
          since: str | date | pd.Timestamp | None = None, get: Getter | None = None, *,
          history: History | None = None, catalog: Mapping[str, SeriesSpec] | None = None) -> list[FetchReport]:
    """Fetch series from their live sources and merge them into the canonical files under ``root``.

    Every ID is attempted; a failure (no live source, unknown ID, HTTP error, bad response, bad
    cache file) is recorded in that ID's report and the others still run. Without ``since``, the
    full history is downloaded (FRED revises, Yahoo re-adjusts, both cheaply), except funding
    prints, which never change once settled: those resume from the last cached print.

    Args:
        ids: catalog IDs to fetch; ``None`` = every series with a live source.
        root: the data dir to write into (default: the live cache, ``riskoff.util.paths.LIVE_DATA_DIR``).
        since: only fetch observations from this date on (cached older rows are kept).
        get: the HTTP getter for FRED, Coin Metrics and Binance; ``None`` = a ``requests`` session.
        history: the Yahoo history callable (see :func:`fetch_yahoo`); ``None`` = yfinance.
        catalog: the series catalog; ``None`` = ``data/catalog.toml``.
    Returns:
        One :class:`FetchReport` per ID, in order.
    """
    catalog = catalog if catalog is not None else load_catalog()
    if ids is None:
        ids = [sid for sid, spec in catalog.items() if live_source(spec) is not None]
    start = _since(since)
    reports: list[FetchReport] = []
    for sid in ids:
        spec = catalog.get(sid)
        if spec is None:
            reports.append(FetchReport(sid, False, message=f"unknown series '{sid}'{did_you_mean(sid, catalog)}"))
            continue
        src = live_source(spec)
        path = Path(root) / spec.relpath()
        if src is None:
            reports.append(FetchReport(sid, False, path=path, message=(
                f"no live source for {sid} (family {spec.family}); place a canonical CSV at {path} "
                f"or use the data snapshot")))
            continue
        if get is None and src[0] != "yahoo":
            get = default_get()  # created on first need: one session shared by all IDs
        reports.append(_fetch_one(spec, src, Path(root), start, get, history))
    return reports


def _fetch_one(spec: SeriesSpec, src: tuple[str, str], root: Path, start: pd.Timestamp | None,
               get: Getter | None, history: History | None) -> FetchReport:
    source, symbol = src
    path = root / spec.relpath()
    base = dict(series=spec.id, source=source, symbol=symbol, path=path)
    stamp = spec.stamp_column
    notes = []
    try:
        old = read_cached(path, spec) if path.exists() else None
        since = start
        if since is None and source == "binance" and old is not None and len(old):
            since = pd.Timestamp(old[stamp].iloc[-1])  # inclusive: the overlap print is harmless
        try:
            new = _download(spec, source, symbol, since, get, history)
        except PartialDownload as part:
            merged = merge_canonical(old, part.frame, spec)
            write_canonical(merged, spec, root)
            return FetchReport(**base, ok=False, fetched=len(part.frame), rows=len(merged),
                               first=merged[stamp].iloc[0], last=merged[stamp].iloc[-1],
                               message=f"partial: {part}; kept {len(part.frame)} rows received through "
                                       f"{part.frame[stamp].iloc[-1]}; fetch again to resume")
        if old is None and new.empty:
            return FetchReport(**base, ok=False, message=f"{source} returned no rows for {symbol}; nothing written")
        if source == "yahoo" and old is not None:
            old, factor = rebase_adjusted(old, new)
            if factor != 1.0:
                notes.append(f"older cached bars rescaled by {factor:.6f} (adjustment basis moved)")
        merged = merge_canonical(old, new, spec)
        write_canonical(merged, spec, root)
    except RiskoffError as exc:
        return FetchReport(**base, ok=False, message=str(exc))
    known = set(old[stamp]) if old is not None else set()
    added = int((~new[stamp].isin(known)).sum())
    if not added and old is not None:
        notes.append("up to date")
    return FetchReport(**base, ok=True, fetched=len(new), added=added, rows=len(merged),
                       first=merged[stamp].iloc[0] if len(merged) else None,
                       last=merged[stamp].iloc[-1] if len(merged) else None, message="; ".join(notes))


# ----------------------------------------------------------------------------------- status

def _edges(path: Path, count_rows: bool) -> tuple[int | None, str | None, str | None]:
    """(data rows, first stamp, last stamp) from the file's first and last lines.

    Rows are counted as newlines over raw bytes (no CSV parsing); the stamps come from reading
    the head and seeking to the tail, so a large file costs almost nothing.
    """
    with open(path, "rb") as fh:
        fh.readline()  # header
        first_line = fh.readline()
        size = fh.seek(0, os.SEEK_END)
        tail, block = b"", 4096
        while True:  # widen the tail window until it holds a whole last line
            fh.seek(max(0, size - block))
            tail = fh.read()
            if tail.rstrip(b"\r\n").count(b"\n") >= 1 or block >= size:
                break
            block *= 4
        rows = None
        if count_rows:
            fh.seek(0)
            newlines, last_byte = 0, b""
            while chunk := fh.read(1 << 20):
                newlines += chunk.count(b"\n")
                last_byte = chunk[-1:]
            lines = newlines + (1 if last_byte not in (b"\n", b"") else 0)
            rows = max(lines - 1, 0)
    if not first_line.strip():
        return (0 if count_rows else None), None, None
    last_line = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]

    def stamp(line: bytes) -> str:
        return line.split(b",", 1)[0].strip().decode("utf-8", "replace")

    return rows, stamp(first_line), stamp(last_line)


def status(data_dir: str | Path, asof: str | date | pd.Timestamp | None = None, *,
           catalog: Mapping[str, SeriesSpec] | None = None, count_rows: bool = True) -> pd.DataFrame:
    """Which catalog series a data dir holds, how long they are and how stale.

    Args:
        data_dir: the folder holding ``series/<family>/<ID>.csv``.
        asof: the day staleness is measured against; ``None`` = today (UTC).
        catalog: the series catalog; ``None`` = ``data/catalog.toml``.
        count_rows: count data rows (a newline count over the bytes); False skips it.
    Returns:
        One row per catalog series: ``series, family, present, path, rows, first, last,
        stale_days`` (calendar days from the last stamp's date to ``asof``), ``max_stale_days``
        and ``source`` (the live source, or empty when the series can only come from a snapshot).
    """
    catalog = catalog if catalog is not None else load_catalog()
    today = pd.Timestamp(asof) if asof is not None else pd.Timestamp.now(tz="UTC")
    if today.tzinfo is not None:
        today = today.tz_convert("UTC").tz_localize(None)
    today = today.normalize()
    rows = []
    for sid, spec in catalog.items():
        path = Path(data_dir) / spec.relpath()
        present = path.is_file()
        n = first = last = stale = None
        if present:
            n, first, last = _edges(path, count_rows)
            if last and _DATE_RE.fullmatch(last[:10]):
                stale = int((today - pd.Timestamp(last[:10])).days)
        src = live_source(spec)
        rows.append({"series": sid, "family": spec.family, "present": present, "path": str(path), "rows": n,
                     "first": first, "last": last, "stale_days": stale, "max_stale_days": spec.max_stale_days,
                     "source": src[0] if src else ""})
    out = pd.DataFrame(rows, columns=["series", "family", "present", "path", "rows", "first", "last",
                                      "stale_days", "max_stale_days", "source"])
    return out.astype({"rows": "Int64", "stale_days": "Int64"})
