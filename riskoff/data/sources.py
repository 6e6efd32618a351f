"""Reading canonical series files from a data dir, with validation and a parsed-series cache.

``read_series(spec, data_dir)`` returns the observations of one series exactly as published
(no fill, no lag, no alignment): a float frame indexed by the observation stamp. Every problem
with the file raises :class:`~riskoff.util.errors.DataError` naming the file, the series, the line and
what was expected. Parsed series are memoised in-process and, optionally, cached on disk as
parquet keyed by the file's content fingerprint (written atomically: temp file + rename).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.catalog import SeriesSpec
from riskoff.util.errors import DataError, os_advice
from riskoff.util.paths import CACHE_DIR

_CACHE_VERSION = "1"  # bump when parsing/validation rules change, to invalidate parquet files
_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_TIME_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class FileInfo:
    path: Path
    size: int
    mtime_ns: int


_memo: dict[tuple, pd.DataFrame] = {}
_sha_memo: dict[tuple, str] = {}


def series_path(spec: SeriesSpec, data_dir: Path) -> Path:
    return Path(data_dir) / spec.relpath()


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (memoised by size and mtime)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _sha_memo:
        _sha_memo[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _sha_memo[key]


def read_series(spec: SeriesSpec, data_dir: Path, *, parquet_cache: Path | None | bool = None) -> pd.DataFrame:
    """Validated observations of one series.

    Args:
        spec: the catalog entry.
        data_dir: the folder holding ``series/<family>/<ID>.csv``.
        parquet_cache: folder for parsed parquet files; ``None`` = ``<user cache dir>/.parsed`` (riskoff.util.paths.CACHE_DIR) unless
            ``RISKOFF_PARQUET_CACHE=0``; ``False`` disables it.
    Returns:
        Frame indexed by the observation stamp (naive dates, or naive UTC times for intraday
        prints), one float column per column present in the file, ascending, no duplicates.
    """
    path = series_path(spec, data_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataError(f"file not found; expected {spec.relpath()} in data dir {data_dir} "
                        f"(run `riskoff data fetch {spec.id}` or set --data-dir)", file=path, series=spec.id) from None
    except OSError as exc:  # a parent folder without permission, a file where a folder should be
        raise DataError(f"cannot reach the file: {os_advice(exc)}", file=path, series=spec.id) from None
    key = (str(path), st.st_size, st.st_mtime_ns, spec)
    hit = _memo.get(key)
    if hit is not None:
        return hit
    cache_dir = _cache_dir(parquet_cache)
    frame, parsed = None, False
    try:
        if cache_dir is not None:
            cached = cache_dir / f"{spec.id}-{fingerprint(path)[:20]}-v{_CACHE_VERSION}.parquet"
            if cached.exists():
                try:
                    frame = pd.read_parquet(cached)
                except Exception:  # a corrupt cache file is rebuilt, never trusted
                    frame = None
        if frame is None:
            frame, parsed = parse_canonical(path, spec), True
    except OSError as exc:  # a folder where the file should be, no read permission, an I/O error
        raise DataError(f"cannot read the file: {os_advice(exc)}; expected a readable canonical CSV",
                        file=path, series=spec.id) from None
    if parsed and cache_dir is not None:
        _atomic_parquet(frame, cached)
    if not parsed and spec.is_bar_series:  # a cached parse skips the reader's bar-grid checks
        check_bar_stamps(frame.index, spec, path)
    _memo[key] = frame
    return frame


def _cache_dir(option: Path | None | bool) -> Path | None:
    if option is False:
        return None
    if option is None or option is True:
        if os.environ.get("RISKOFF_PARQUET_CACHE", "1") == "0":
            return None
        return CACHE_DIR / ".parsed"
    return Path(option)


def cached_array(key: str, build: Callable[[], np.ndarray]) -> np.ndarray:
    """``build()``, kept in the parsed-series cache folder as ``<key>.npy`` and read from there next time.

    For derived tables that cost more to rebuild than to read (the NYSE sessions: importing
    exchange_calendars and building them takes ~0.6 s per process); ``key`` must name everything
    the array depends on (e.g. a library version). Off with the parsed-series cache
    (``RISKOFF_PARQUET_CACHE=0``); a damaged or unreadable file is rebuilt, a read-only disk only
    skips the write.
    """
    folder = _cache_dir(None)
    target = None if folder is None else folder / f"{key}.npy"
    if target is not None and target.exists():
        try:
            return np.load(target, allow_pickle=False)
        except (OSError, ValueError):
            pass
    value = np.asarray(build())
    if target is not None:
        _atomic_cache_write(target, lambda tmp: np.save(tmp, value, allow_pickle=False))
    return value


def _atomic_cache_write(target: Path, write: Callable) -> None:
    """``write(file)`` into a temp file beside ``target``, then rename it over ``target``: readers
    never see half a file."""
    from riskoff.util.files import atomic_write
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, write, binary=True)
    except OSError:
        pass  # the cache is an optimisation; a read-only disk must not fail the run


def _atomic_parquet(frame: pd.DataFrame, target: Path) -> None:
    _atomic_cache_write(target, frame.to_parquet)


def parse_canonical(path: Path, spec: SeriesSpec) -> pd.DataFrame:
    """Parse and validate one canonical CSV (see the module docstring for the rules)."""
    def fail(problem: str, row: int | None = None) -> DataError:
        return DataError(problem, file=path, series=spec.id, row=row)

    with open(path, "rb") as fh:
        head = fh.readline().decode("utf-8-sig", errors="replace").strip()
    if not head:
        raise fail("file is empty; expected a header line "
                   f"'{','.join((spec.stamp_column,) + spec.columns)}' and data rows")
    if ";" in head and "," not in head:
        raise fail(f"fields are separated by ';'; expected ',' (canonical CSV). Header: {head[:80]!r}", 1)
    header = [h.strip().strip('"') for h in head.split(",")]
    if header[0] != spec.stamp_column:
        raise fail(f"first column is {header[0]!r}; expected {spec.stamp_column!r} "
                   f"(header {header[:8]})", 1)
    missing = [c for c in spec.required_columns if c not in header[1:]]
    unexpected = [c for c in header[1:] if c not in spec.columns]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unexpected:
            parts.append(f"unexpected column(s) {unexpected}")
        raise fail(f"{' and '.join(parts)}; expected columns "
                   f"{[spec.stamp_column, *spec.columns]}", 1)
    if len(set(header)) != len(header):
        raise fail(f"duplicate column names in header {header}", 1)
    try:
        # header=None so that a row with extra fields is seen, not silently turned into an index
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", header=None, skiprows=1)
    except pd.errors.EmptyDataError:
        raise fail("header only, no data rows") from None
    except pd.errors.ParserError as exc:
        line = _parser_error_line(str(exc))
        raise fail(f"malformed CSV row ({str(exc).strip()}); expected {len(header)} fields", line) from None
    except UnicodeDecodeError as exc:
        with open(path, "rb") as fh:
            line = fh.read(exc.start).count(b"\n") + 1
        raise fail(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}); "
                   "expected a UTF-8 canonical CSV", line) from None
    if raw.empty:
        raise fail("header only, no data rows")
    rows = np.arange(len(raw)) + 2  # file line numbers: header is line 1
    if raw.shape[1] > len(header):
        extra = (raw.iloc[:, len(header):] != "").any(axis=1).to_numpy()
        i = int(np.argmax(extra))
        raise fail(f"malformed CSV row: more fields than the {len(header)} in the header", int(rows[i]))
    if raw.shape[1] < len(header):
        raise fail(f"malformed CSV row: fewer fields than the {len(header)} in the header", 2)
    raw.columns = header[:raw.shape[1]]

    stamps = raw[spec.stamp_column].str.strip()
    timed = spec.stamp_column == "time"
    pattern = _TIME_RE if timed else _DATE_RE
    bad = ~stamps.str.fullmatch(pattern)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        expected = "YYYY-MM-DDTHH:MM:SSZ (UTC, 'Z' suffix, no offset)" if timed else "YYYY-MM-DD"
        hint = ""
        if timed and ("+" in stamps.iloc[i][10:] or stamps.iloc[i][19:20] == "-"):
            hint = " (timestamp carries a UTC offset; convert to UTC)"
        raise fail(f"{spec.stamp_column} {stamps.iloc[i]!r} is not {expected}{hint}", int(rows[i]))
    fmt = "%Y-%m-%dT%H:%M:%SZ" if timed else "%Y-%m-%d"
    index = pd.to_datetime(stamps, format=fmt, errors="coerce")
    if index.isna().any():
        i = int(np.argmax(index.isna().to_numpy()))
        raise fail(f"{spec.stamp_column} {stamps.iloc[i]!r} is not a valid calendar date", int(rows[i]))
    ns = index.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if len(ns) > 1:
        step = np.diff(ns)
        if (step == 0).any():
            i = int(np.argmax(step == 0)) + 1
            raise fail(f"duplicate {spec.stamp_column} {stamps.iloc[i]}; each stamp must appear once", int(rows[i]))
        if (step < 0).any():
            i = int(np.argmax(step < 0)) + 1
            raise fail(f"stamps are not ascending: {stamps.iloc[i]} comes after {stamps.iloc[i - 1]}; "
                       "expected oldest first (newest-first vendor export? sort it)", int(rows[i]))
    if spec.is_bar_series:
        check_bar_stamps(pd.DatetimeIndex(index), spec, path)

    values = {}
    for col in [c for c in spec.columns if c in header]:
        text = raw[col].str.strip()
        empty = text == ""
        if empty.any():
            i = int(np.argmax(empty.to_numpy()))
            raise fail(f"empty value in column {col!r}; the canonical format leaves a missing "
                       "observation out instead of writing an empty cell", int(rows[i]))
        num = pd.to_numeric(text, errors="coerce")
        if num.isna().any():  # includes literal "nan"/"NaN" text: missing rows are left out instead
            i = int(np.argmax(num.isna().to_numpy()))
            hint = " (thousands separator?)" if "," in text.iloc[i] else ""
            raise fail(f"column {col!r} value {text.iloc[i]!r} is not a number{hint}", int(rows[i]))
        values[col] = num.to_numpy(dtype=np.float64)
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(index, name=spec.stamp_column))
    _check_plausible(frame, spec, rows, fail)
    return frame


def check_bar_stamps(index: pd.DatetimeIndex, spec: SeriesSpec, path: Path) -> None:
    """Intraday bars: every open time on the bar grid, no step longer than the declared max gap.

    ``index`` holds the file's stamps in file order (row = position + 2, after the header); run on
    freshly parsed files and on cached ones, since a config may declare a stricter ``max_gap``.
    """
    def stamp(i: int) -> str:
        return f"{index[i]:%Y-%m-%dT%H:%M:%SZ}"
    i = first_off_grid(index, spec.bar_delta)
    if i is not None:
        raise DataError(f"time {stamp(i)} is off the {spec.bar} bar grid; expected bar OPEN times on "
                        f"multiples of {spec.bar} from 00:00 UTC", file=path, series=spec.id, row=i + 2)
    if spec.max_gap is not None:
        over = gaps_over(index, spec.max_gap_delta.value)
        if len(over):
            i = int(over[0])
            raise DataError(f"gap of {index[i] - index[i - 1]} between bars {stamp(i - 1)} and {stamp(i)} is "
                            f"longer than the declared max_gap {spec.max_gap} (an outage the series must not "
                            "have; fix the file or raise max_gap)", file=path, series=spec.id, row=i + 2)


def _check_plausible(frame: pd.DataFrame, spec: SeriesSpec, rows: np.ndarray, fail) -> None:
    for col in frame.columns:
        v = frame[col].to_numpy()
        if col == "volume":
            if (v < 0).any():
                i = int(np.argmax(v < 0))
                raise fail(f"volume {v[i]:g} is negative; expected >= 0", int(rows[i]))
            continue
        if spec.positive and (v <= 0).any():
            i = int(np.argmax(v <= 0))
            raise fail(f"{col} {v[i]:g} on {frame.index[i].date()} is not positive; prices must be > 0", int(rows[i]))
        if spec.fraction_scale and len(v) >= 10 and np.median(np.abs(v)) > 0.002:
            raise fail(f"{col} looks like percent (median |{col}| = {np.median(np.abs(v)):g}); "
                       "expected a fraction per funding interval (0.0001 = 0.01%)")
        if spec.pct_scale and len(v) >= 10 and np.nanmax(np.abs(v)) <= 1.0:
            raise fail(f"{col} looks like a fraction (all values <= 1); expected percent 0..100")
        lo = -np.inf if spec.low is None else spec.low
        hi = np.inf if spec.high is None else spec.high
        out = (v < lo) | (v > hi)
        if out.any():
            i = int(np.argmax(out))
            raise fail(f"{col} {v[i]:g} on {frame.index[i]:%Y-%m-%d} is outside the plausible range "
                       f"{lo:g} .. {hi:g} for {spec.units}", int(rows[i]))


def _parser_error_line(msg: str) -> int | None:
    import re
    m = re.search(r"line (\d+)", msg)
    return int(m.group(1)) if m else None


# Stamp-grid checks shared by the parser (check_bar_stamps) and the gap rule (riskoff.data.sanity).
def gaps_over(stamps: pd.DatetimeIndex | np.ndarray, max_gap_ns: int) -> np.ndarray:
    """Positions of the stamps that follow a step (stamp to stamp) longer than ``max_gap_ns``:
    the gap rule for time-stamped series (a 1h series missing one bar has a 2 h step)."""
    ns = np.asarray(pd.DatetimeIndex(stamps).as_unit("ns").asi8)
    return np.flatnonzero(np.diff(ns) > max_gap_ns) + 1 if len(ns) > 1 else np.array([], dtype=np.int64)


def first_off_grid(stamps: pd.DatetimeIndex | np.ndarray, bar: pd.Timedelta) -> int | None:
    """Position of the first stamp that is not a multiple of ``bar`` from midnight UTC (None if all are)."""
    ns = np.asarray(pd.DatetimeIndex(stamps).as_unit("ns").asi8)
    off = ns % pd.Timedelta(bar).value != 0
    return int(np.argmax(off)) if off.any() else None
