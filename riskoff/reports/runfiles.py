"""Reading a finished run folder: summary.json, windows.csv, events.csv and the dated CSV files.

Every report (the run report, tearsheets, compare, findings) reads a run through these functions
only, so a run folder's layout is interpreted in one place.
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# the window-bound parser the config uses: windows.csv mixes dates with UTC times
from riskoff.evaluation.windows import parse_instants

BASELINE = "buy_and_hold"

__all__ = ["BASELINE", "Window", "esc", "read_summary", "read_dated_csv", "read_windows_table", "read_events",
           "stats_frame", "split_column", "periods_per_year", "window_meta", "asset_windows", "to_timestamp",
           "ordered"]


def esc(value: object) -> str:
    """HTML-escape any value (None becomes an empty string), quotes included.

    Args:
        value: anything; it is converted with ``str`` first.

    Returns:
        Text safe to place in element content and in quoted attribute values.
    """
    return html.escape("" if value is None else str(value), quote=True)


# ----------------------------------------------------------------------------------------------
# Reading a run folder
# ----------------------------------------------------------------------------------------------

def read_summary(run_dir: str | os.PathLike) -> dict:
    """Read ``summary.json`` from a run folder.

    Args:
        run_dir: the run folder.

    Returns:
        The parsed summary with the keys ``run``, ``config``, ``data``, ``versions``, ``stats`` and
        ``windows`` (missing keys are filled with empty values so callers need no guards).
    """
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a finished run folder?")
    summary = json.loads(path.read_text(encoding="utf-8"))
    for key, empty in (("run", {}), ("config", {}), ("data", {}), ("versions", {}), ("stats", []),
                       ("windows", [])):
        if summary.get(key) is None:
            summary[key] = empty
    return summary


def read_dated_csv(path: str | os.PathLike) -> pd.DataFrame | None:
    """Read one of the run's date-indexed CSV files (equity, exposure, prices, readings, states).

    Args:
        path: the CSV file; its first column is ``date``.

    Returns:
        A float frame on a sorted DatetimeIndex, or None when the file does not exist (the
        report then leaves out the sections that need it).
    """
    path = Path(path)
    if not path.is_file():
        return None
    frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    frame.columns = [str(c) for c in frame.columns]
    return frame.apply(pd.to_numeric, errors="coerce").astype("float64").sort_index()


def read_windows_table(run_dir: str | os.PathLike) -> pd.DataFrame:
    """Read ``windows.csv`` (one row per strategy x asset x window).

    Args:
        run_dir: the run folder.

    Returns:
        The table with ``start``/``trough``/``end`` as Timestamps and the metric columns as floats;
        an empty frame with the expected columns when the file is missing.
    """
    cols = ["strategy", "asset", "window", "start", "trough", "end", "strategy_return", "bh_return",
            "strategy_max_dd", "bh_max_dd", "drawdown_avoided", "exposure_at_trough", "lead_time_days",
            "reentry_lag_days", "return_given_up_60d"]
    path = Path(run_dir) / "windows.csv"
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    # Names stay text even when they look like numbers (a window called "2022").
    table = pd.read_csv(path, dtype={"strategy": str, "asset": str, "window": str}, keep_default_na=True)
    for col in ("start", "trough", "end"):
        if col in table:
            table[col] = parse_instants(table[col], f"{path}: column {col}")
    for col in table.columns:
        if col not in ("strategy", "asset", "window", "start", "trough", "end"):
            table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    return table


def stats_frame(summary: dict) -> pd.DataFrame:
    """The summary's ``stats`` list as a frame, one row per strategy x asset.

    Args:
        summary: the parsed ``summary.json``.

    Returns:
        A frame with ``strategy`` and ``asset`` text columns and float metric columns.
    """
    frame = pd.DataFrame(summary.get("stats") or [])
    if frame.empty:
        return pd.DataFrame(columns=["strategy", "asset"])
    frame["strategy"] = frame["strategy"].astype(str)
    frame["asset"] = frame["asset"].astype(str)
    for col in frame.columns:
        if col not in ("strategy", "asset"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def split_column(column: str) -> tuple[str, str]:
    """Split a ``name/asset`` column label at its last slash.

    Args:
        column: an equity, exposure, readings or states column label.

    Returns:
        ``(name, asset)``; the asset is empty when the label has no slash.
    """
    name, _, asset = str(column).rpartition("/")
    return (name, asset) if name else (asset, "")


def periods_per_year(asset: str, stats: pd.DataFrame | None = None, series: pd.Series | None = None) -> int:
    """The annualisation factor the report uses for one asset.

    The stats rows written by the runner are authoritative. Without them the asset's catalog
    calendar decides, and for an asset the catalog does not know, a series with weekend
    observations is taken to trade on the 7-day UTC clock; both go through
    :func:`riskoff.engine.annualisation.periods_per_year` (daily bars).

    Args:
        asset: the asset name.
        stats: the run's stats frame (see :func:`stats_frame`), optional.
        series: an equity or price series of the asset on its own calendar, optional.
    """
    from riskoff.data.catalog import load_catalog
    from riskoff.engine.annualisation import periods_per_year as clock_periods

    if stats is not None and not stats.empty and "periods_per_year" in stats:
        values = stats.loc[stats["asset"] == asset, "periods_per_year"].dropna()
        if len(values):
            return int(values.mode().iloc[0])
    catalog = load_catalog()
    if asset in catalog and catalog[asset].calendar in ("us", "utc"):
        return clock_periods(catalog[asset].calendar)
    if series is not None:
        idx = series.dropna().index
        if isinstance(idx, pd.DatetimeIndex) and (idx.dayofweek >= 5).any():
            return clock_periods("utc")
    return clock_periods("us")



@dataclass
class Window:
    """One sell-off window as evaluated for one asset (with that asset's own trough)."""

    id: str
    name: str
    start: pd.Timestamp
    trough: pd.Timestamp | None
    end: pd.Timestamp
    meta: dict


def window_meta(summary: dict) -> dict[str, dict]:
    """The summary's window declarations keyed by window id."""
    return {str(w.get("id")): w for w in summary.get("windows", []) if w.get("id") is not None}


def to_timestamp(value) -> pd.Timestamp | None:
    """A Timestamp from a date-like value, None for missing or unparseable values."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    ts = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(ts) else pd.Timestamp(ts)


def asset_windows(asset: str, wtable: pd.DataFrame, meta: dict[str, dict]) -> list[Window]:
    """The windows evaluated for one asset, with that asset's own trough, ordered by start."""
    _ts = to_timestamp
    out: dict[str, Window] = {}
    rows = wtable[wtable["asset"] == asset] if not wtable.empty else wtable
    for _, row in rows.drop_duplicates("window").iterrows():
        wid = str(row["window"])
        m = meta.get(wid, {})
        start, end = _ts(row.get("start")) or _ts(m.get("start")), _ts(row.get("end")) or _ts(m.get("end"))
        if start is None or end is None:
            continue
        out[wid] = Window(wid, str(m.get("name", wid)), start, _ts(row.get("trough")) or _ts(m.get("trough")),
                          end, m)
    if not out:
        # No evaluated rows for this asset: fall back to the catalog's list of affected assets.
        for wid, m in meta.items():
            if asset in [str(a) for a in m.get("assets", [])]:
                start, end = _ts(m.get("start")), _ts(m.get("end"))
                if start is not None and end is not None:
                    out[wid] = Window(wid, str(m.get("name", wid)), start, _ts(m.get("trough")), end, m)
    return sorted(out.values(), key=lambda w: w.start)


def read_events(run_dir: str | os.PathLike) -> pd.DataFrame | None:
    """``events.csv`` (one row per exposure change) with parsed dates, or None when missing."""
    path = Path(run_dir) / "events.csv"
    if not path.is_file():
        return None
    events = pd.read_csv(path, dtype={"strategy": str, "asset": str, "states": str})
    events["date"] = pd.to_datetime(events["date"], errors="coerce")
    for col in ("old_exposure", "new_exposure"):
        if col in events:
            events[col] = pd.to_numeric(events[col], errors="coerce")
    return events


def ordered(first: list[str], rest) -> list[str]:
    """``first`` then the items of ``rest`` not already in it, each once, order kept."""
    out = list(dict.fromkeys(first))
    out += [x for x in dict.fromkeys(rest) if x not in out]
    return out
