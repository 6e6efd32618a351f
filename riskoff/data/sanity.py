"""Data sanity rules: what a well-formed file can still get wrong, checked per series.

The reader (riskoff.data.sources) rejects malformed files and values outside a series' declared
``low``/``high`` level bounds (the rule for scalar series: ratios mean nothing for counts or
near-zero rates). The rules here look at the observations as a series, each one named:

    gap       a hole inside the run span: more than ``max_gap`` missed periods between two
              observations. Periods are NYSE sessions for a daily "us" series, UTC days for a
              daily "utc" series, releases for ``frequency = "weekly"`` / ``"monthly"`` series;
              for intraday stamps ``max_gap`` is a duration ("6h") and the rule applies only
              when declared. Defaults: daily 5, weekly 2, monthly 1.
    move      a close more than ``max_move`` (default 5) times away from BOTH its neighbours, for
              positive price series (a unit error: one bar off by two orders of magnitude and the
              next bar back). A genuine crash moves once and stays, so it passes.
    ohlc      low <= open, close <= high (and low <= high) on every bar.
    future    no value becomes public after the current UTC time (``RISKOFF_NOW`` overrides it).
    session   a series declared ``sessions = "nyse"`` has no rows on days the NYSE is closed
              (the vendor's 0.01 filler rows in NEW-HIGHS/NEW-LOWS on 2025-05-26, 2025-06-19
              and 2025-07-04 are such rows).

Rule parameters are catalog fields (``frequency``, ``max_gap``, ``max_move``, ``sessions``) with
family defaults, overridable per series in a config's ``[series.ID]`` table.

Known vendor rows that break a rule but are right to keep are listed, each with its reason, in
``data/exceptions.toml``. How a run deals with the rest:

- session: a row on a closed NYSE day is not an observation (the canonical format leaves a
  missing observation out). ``riskoff.data.load`` leaves such rows out of every frame it builds
  and warns once per row (``riskoff: warning: ... left out``); ``riskoff data check`` still lists
  them as violations. This is how the NEW-HIGHS/NEW-LOWS filler rows are caught without breaking
  the default run, whose span contains them.
- every other rule: :func:`enforce` runs inside ``riskoff.data.load`` whenever a run span is given
  (``start`` and ``end`` with ``stale="raise"``, which is how ``riskoff run`` checks every
  required series up front), and the first violation inside the span that is not excepted is a
  DataError naming file, series, line and rule: the series refuses to load for that span, before
  anything is written. A run whose span avoids the row is unaffected. Fix the file (a missing
  observation is left out, never filled) or add an exception with a reason.

``riskoff data check [IDS]`` runs every rule over whole files and prints the table.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.calendars import availability_times, nyse_holidays
from riskoff.data.catalog import SeriesSpec
from riskoff.data.sources import gaps_over, read_series, series_path
from riskoff.util.durations import parse_duration
from riskoff.util.errors import ConfigError, DataError, RiskoffError, RiskoffWarning
from riskoff.util.paths import BUILTIN_DATA_DIR, PROJECT_ROOT
from riskoff.util.tomlfile import read_toml

# next to catalog.toml: the checkout's data/ folder, or riskoff/builtins/data/ in a wheel
EXCEPTIONS_FILE = BUILTIN_DATA_DIR / "exceptions.toml"
RULES = ("gap", "move", "ohlc", "future", "session")
DEFAULT_MAX_GAP = {"daily": 5, "weekly": 2, "monthly": 1}
DEFAULT_MAX_MOVE = 5.0
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Violation:
    """One row breaking one rule; ``excepted`` holds the exceptions file's reason, if listed."""

    series: str
    file: Path
    row: int
    stamp: str
    rule: str
    detail: str
    excepted: str = ""

    def error(self) -> DataError:
        listed = EXCEPTIONS_FILE.relative_to(PROJECT_ROOT) if EXCEPTIONS_FILE.is_relative_to(PROJECT_ROOT) \
            else EXCEPTIONS_FILE
        hint = (f"fix the file (leave a missing observation out) or, if the vendor row is right, "
                f"list it in {listed} with a reason")
        return DataError(f"{self.stamp} breaks the {self.rule} rule: {self.detail}; {hint}",
                         file=self.file, series=self.series, row=self.row)


def now_utc() -> pd.Timestamp:
    """The current UTC time as a naive timestamp; ``RISKOFF_NOW`` (ISO date/time) overrides it."""
    text = os.environ.get("RISKOFF_NOW")
    if not text:
        return pd.Timestamp.now(tz="UTC").tz_localize(None)
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"RISKOFF_NOW = {text!r}; expected an ISO date or time like 2026-01-31T12:00:00Z") from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


# ---------------------------------------------------------------- exceptions file

@dataclass(frozen=True)
class Exceptions:
    """Listed vendor rows: single stamps, or inclusive stamp ranges (``from``/``to``) for a stretch
    of early history, each with the reason it is kept."""

    stamps: Mapping[tuple[str, str, str], str]
    ranges: tuple[tuple[str, str, str, str, str], ...] = ()

    def reason(self, series: str, rule: str, stamp: str) -> str:
        """Why this row is kept, or '' when it is not listed."""
        hit = self.stamps.get((series, rule, stamp))
        if hit:
            return hit
        for sid, r, lo, hi, why in self.ranges:
            # ISO stamps of one series share a format, so text order is time order
            if sid == series and r == rule and lo <= stamp <= hi:
                return why
        return ""


@lru_cache(maxsize=4)
def _read_exceptions(path: Path, mtime: float) -> Exceptions:

    if not path.exists():
        return Exceptions({})
    doc = read_toml(path, "sanity exceptions file")
    stamps: dict[tuple[str, str, str], str] = {}
    ranges = []
    for i, entry in enumerate(doc.get("exception", [])):
        where = f"{path}: exception[{i}]"
        unknown = set(entry) - {"series", "rule", "stamps", "from", "to", "reason"}
        if unknown:
            raise ConfigError(f"{where}: unknown key '{sorted(unknown)[0]}'; "
                              "expected series, rule, stamps (or from/to), reason")
        if not isinstance(entry.get("series"), str):
            raise ConfigError(f"{where}: series = {entry.get('series')!r}; expected a catalog ID")
        if entry.get("rule") not in RULES:
            raise ConfigError(f"{where}: rule = {entry.get('rule')!r}; expected one of {RULES}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: every exception needs a reason (why the vendor row is kept)")
        listed = entry.get("stamps")
        if listed is not None:
            if not isinstance(listed, list) or not listed:
                raise ConfigError(f"{where}: stamps = {listed!r}; expected [\"YYYY-MM-DD\", ...]")
            for stamp in listed:
                stamps[(entry["series"], entry["rule"], str(stamp))] = reason.strip()
        elif isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
            ranges.append((entry["series"], entry["rule"], entry["from"], entry["to"], reason.strip()))
        else:
            raise ConfigError(f"{where}: expected stamps = [...] or from = \"...\" and to = \"...\" (quoted)")
    return Exceptions(stamps, tuple(ranges))


def load_exceptions(path: Path | None = None) -> Exceptions:
    """The rows listed in ``data/exceptions.toml`` (or ``path``)."""
    path = Path(path) if path is not None else EXCEPTIONS_FILE
    return _read_exceptions(path, path.stat().st_mtime if path.exists() else 0.0)


# ---------------------------------------------------------------- the rules

def effective_frequency(spec: SeriesSpec) -> str:
    """"intraday" for time-stamped series (prints, bars), else the declared frequency."""
    return "intraday" if spec.stamp_column == "time" else spec.frequency


def _stamps_text(index: pd.DatetimeIndex, spec: SeriesSpec) -> np.ndarray:
    fmt = "%Y-%m-%dT%H:%M:%SZ" if spec.stamp_column == "time" else "%Y-%m-%d"
    return np.asarray(index.strftime(fmt))


def _bar_step_ns(ns: np.ndarray, spec: SeriesSpec) -> int:
    """The regular spacing of time-stamped rows: ``interval_hours`` or the median step."""
    if spec.interval_hours:
        return int(spec.interval_hours * 3_600 * 10**9)
    return int(np.median(np.diff(ns))) if len(ns) > 1 else 0


def _gaps(spec: SeriesSpec, index: pd.DatetimeIndex, lo: pd.Timestamp, hi: pd.Timestamp
          ) -> Iterable[tuple[int, str]]:
    """(position of the row after the hole, detail) for each hole longer than ``max_gap``."""
    freq = effective_frequency(spec)
    limit = spec.max_gap if spec.max_gap is not None else DEFAULT_MAX_GAP.get(freq)
    if limit is None or len(index) < 2:
        return
    ns = index.to_numpy(dtype="datetime64[ns]")
    inside = (ns[1:] > np.datetime64(lo)) & (ns[:-1] < np.datetime64(hi))  # holes touching the span
    if freq == "intraday" or isinstance(limit, str):
        if not isinstance(limit, str):
            return  # missed-period counts are for daily/weekly/monthly series; time stamps need a duration
        step = np.diff(ns.astype(np.int64))
        for i in gaps_over(index, parse_duration(limit, f"series.{spec.id}.max_gap")):
            if inside[i - 1]:
                yield i, (f"a step of {pd.Timedelta(int(step[i - 1]), 'ns')} from {index[i - 1]:%Y-%m-%dT%H:%MZ} to "
                          f"{index[i]:%Y-%m-%dT%H:%MZ} (max_gap {limit}: the longest step allowed between two stamps)")
        return
    days = ns.astype("datetime64[D]")
    first = np.maximum(days[:-1] + _DAY, np.datetime64(lo.date(), "D"))
    last = np.minimum(days[1:], np.datetime64(hi.date(), "D") + _DAY)  # exclusive end
    if freq == "daily":
        if spec.calendar == "us":
            missing = np.busday_count(first, np.maximum(first, last), holidays=nyse_holidays())
            unit = "NYSE sessions"
        else:
            missing = np.maximum((last - first).astype(np.int64), 0)
            unit = "days"
    elif freq == "weekly":
        missing = np.rint((days[1:] - days[:-1]).astype(np.int64) / 7).astype(np.int64) - 1
        unit = "weekly releases"
    else:
        months = index.year.to_numpy() * 12 + index.month.to_numpy()
        missing = np.diff(months) - 1
        unit = "monthly releases"
    for i in np.flatnonzero(inside & (missing > limit)):
        yield i + 1, f"{int(missing[i])} {unit} missing between {days[i]} and {days[i + 1]} (max_gap {limit})"


def _moves(spec: SeriesSpec, frame: pd.DataFrame) -> Iterable[tuple[int, str]]:
    factor = spec.max_move if spec.max_move is not None else DEFAULT_MAX_MOVE
    if not factor or not spec.positive or "close" not in frame.columns or len(frame) < 3:
        return
    c = frame["close"].to_numpy()
    prev_r = np.maximum(c[1:-1] / c[:-2], c[:-2] / c[1:-1])
    next_r = np.maximum(c[1:-1] / c[2:], c[2:] / c[1:-1])
    for j in np.flatnonzero((prev_r > factor) & (next_r > factor)):
        i = j + 1
        yield i, (f"close {c[i]:g} is x{prev_r[j]:.1f} from the previous close {c[i - 1]:g} and x{next_r[j]:.1f} "
                  f"from the next {c[i + 1]:g} (max_move {factor:g}: a unit error?)")


def _ohlc(frame: pd.DataFrame) -> Iterable[tuple[int, str]]:
    if not {"open", "high", "low", "close"} <= set(frame.columns):
        return
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    bad = (lo > np.minimum(o, c)) | (h < np.maximum(o, c)) | (lo > h)
    for i in np.flatnonzero(bad):
        yield i, f"open {o[i]:g} high {h[i]:g} low {lo[i]:g} close {c[i]:g}; expected low <= open, close <= high"


def publication_times(spec: SeriesSpec, index: pd.DatetimeIndex) -> np.ndarray:
    """UTC nanoseconds when each row becomes public: a daily value by its lag, an intraday
    print at its stamp, an intraday bar when it closes (open time + its spacing)."""

    if spec.stamp_column != "time":
        return availability_times(index, spec)
    ns = index.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if spec.is_bar_series:  # the declared bar, as the alignment uses it (not the rows' spacing)
        return ns + spec.bar_delta.value
    return ns + (_bar_step_ns(ns, spec) if "close" in spec.columns else 0)


def _future(spec: SeriesSpec, index: pd.DatetimeIndex, now: pd.Timestamp) -> Iterable[tuple[int, str]]:
    public = publication_times(spec, index)
    for i in np.flatnonzero(public > now.value):
        yield i, (f"becomes public {pd.Timestamp(int(public[i])):%Y-%m-%d %H:%M} UTC, after the current time "
                  f"{now:%Y-%m-%d %H:%M} UTC (set RISKOFF_NOW only in tests)")


def _sessions(spec: SeriesSpec, index: pd.DatetimeIndex) -> Iterable[tuple[int, str]]:
    if spec.sessions != "nyse" or spec.calendar != "us":
        return
    days = index.to_numpy(dtype="datetime64[D]")
    for i in np.flatnonzero(~np.is_busday(days, holidays=nyse_holidays())):
        yield i, f"row on {days[i]}, a day the NYSE is closed (a filler row?); expected NYSE sessions only"


def check_frame(spec: SeriesSpec, frame: pd.DataFrame, path: Path, *, start=None, end=None,
                now: pd.Timestamp | None = None,
                exceptions: Exceptions | None = None) -> list[Violation]:
    """Every rule on one series' observations (as read by ``read_series``), limited to rows inside
    [start, end] (default: the whole file). Rows are file lines: the header is line 1."""
    if not len(frame):
        return []
    index = frame.index
    lo = pd.Timestamp(start) if start is not None else index[0]
    hi = (pd.Timestamp(end).normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")) if end is not None \
        else index[-1]
    exceptions = load_exceptions() if exceptions is None else exceptions
    now = now_utc() if now is None else now
    stamps = _stamps_text(index, spec)
    in_span = (index >= lo) & (index <= hi)
    found: list[tuple[int, str, str]] = []
    found += [(i, "gap", d) for i, d in _gaps(spec, index, lo, hi)]
    for rule, hits in (("move", _moves(spec, frame)), ("ohlc", _ohlc(frame)),
                       ("future", _future(spec, index, now)), ("session", _sessions(spec, index))):
        found += [(i, rule, d) for i, d in hits if in_span[i]]
    found.sort(key=lambda t: (t[0], RULES.index(t[1])))
    return [Violation(spec.id, Path(path), int(i) + 2, str(stamps[i]), rule, detail,
                      exceptions.reason(spec.id, rule, str(stamps[i])))
            for i, rule, detail in found]


#: rules a run repairs instead of refusing: the row is left out (see the module docstring)
REPAIRED = ("session",)


def enforce(spec: SeriesSpec, frame: pd.DataFrame, path: Path, start, end) -> None:
    """Raise the first violation inside [start, end] that the exceptions file does not list
    (rules in REPAIRED are handled by :func:`drop_filler_rows` instead)."""
    for v in check_frame(spec, frame, path, start=start, end=end):
        if not v.excepted and v.rule not in REPAIRED:
            raise v.error()


#: filler rows already reported by the current command: (file, row, stamp); see forget_reported_rows
_filler_warned: set[tuple[str, int, str]] = set()


def forget_reported_rows() -> None:
    """Start a new command's reporting: each filler row is named once per run, not once per load."""
    _filler_warned.clear()


def drop_filler_rows(spec: SeriesSpec, frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` without the rows that break the session rule (unless excepted), with a
    RiskoffWarning naming file, series and line for each one left out (once per run, see
    :func:`forget_reported_rows`)."""
    import warnings


    if spec.sessions != "nyse" or spec.calendar != "us" or not len(frame):
        return frame
    hits = list(_sessions(spec, frame.index))
    if not hits:
        return frame
    exceptions = load_exceptions()
    stamps = _stamps_text(frame.index, spec)
    drop = [i for i, _ in hits if not exceptions.reason(spec.id, "session", str(stamps[i]))]
    for i in drop:
        # a run loads a series several times (plan, each calendar, the cash rate): say it once per run
        key = (str(path), i, str(stamps[i]))
        if key in _filler_warned:
            continue
        _filler_warned.add(key)
        warnings.warn(RiskoffWarning(f"{path}, series {spec.id}, line {i + 2}: {stamps[i]} breaks the session "
                                     "rule (a row on a day the NYSE is closed); left out"), stacklevel=2)
    keep = np.ones(len(frame), bool)
    keep[drop] = False
    return frame[keep]


def check_table(specs: Iterable[SeriesSpec], data_dir: Path, *, start=None, end=None) -> pd.DataFrame:
    """One row per violation (excepted ones included, with their reason) over the given series.

    A file that cannot be read at all (missing, malformed, outside its level bounds) is one row
    with rule "read" and the reader's message."""

    rows = []
    for spec in specs:
        path = series_path(spec, data_dir)
        try:
            frame = read_series(spec, data_dir)
        except RiskoffError as exc:
            rows.append({"series": spec.id, "file": str(path), "line": getattr(exc, "row", None) or "",
                         "stamp": "", "rule": "read", "status": "VIOLATION", "detail": getattr(exc, "problem", str(exc))})
            continue
        for v in check_frame(spec, frame, path, start=start, end=end):
            rows.append({"series": v.series, "file": str(v.file), "line": v.row, "stamp": v.stamp, "rule": v.rule,
                         "status": "excepted" if v.excepted else "VIOLATION",
                         "detail": v.detail + (f" [excepted: {v.excepted}]" if v.excepted else "")})
    return pd.DataFrame(rows, columns=["series", "file", "line", "stamp", "rule", "status", "detail"])
