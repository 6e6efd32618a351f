"""The series catalog: one declaration per series (ID, family, columns, calendar, units, lag).

Bar series (intraday OHLCV such as BINANCE-BTCUSDT-1H) carry their own key ``bar`` ("1h", "5m")
and an optional ``max_gap`` (the longest step between two consecutive bar stamps the file may
have; longer outages stop the load). ``calendar = "intraday"`` keeps its meaning: funding prints
aggregated to UTC days on a daily clock.

The catalog is data (``data/catalog.toml``); users add or override series in a run config's
``[series.ID]`` tables with the same fields. See the header of ``data/catalog.toml`` for what each
field means.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from riskoff.util.config_helpers import parse_names
from riskoff.util.durations import span
from riskoff.util.errors import ConfigError, did_you_mean
from riskoff.util.files import path_name
from riskoff.util.paths import CATALOG_FILE
from riskoff.util.tomlfile import read_toml

CALENDARS = ("us", "utc", "intraday")
LAG_UNITS = ("bday", "day")
FREQUENCIES = ("daily", "weekly", "monthly", "intraday")
SESSIONS = ("", "nyse")


@dataclass(frozen=True)
class SeriesSpec:
    """How one series is stored, what it means, and when each value becomes public."""

    id: str
    family: str
    columns: tuple[str, ...]
    calendar: str
    units: str
    lag_days: int
    lag_unit: str
    publish_time: str
    publish_tz: str
    max_stale_days: int
    low: float | None = None
    high: float | None = None
    positive: bool = False
    pct_scale: bool = False
    fraction_scale: bool = False
    asset_class: str = "equity"
    interval_hours: float | None = None
    bar: str | None = None
    # sanity rules (riskoff.data.sanity): None = the frequency's default
    frequency: str = "daily"
    max_gap: int | str | None = None
    max_move: float | None = None
    sessions: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def stamp_column(self) -> str:
        return "time" if self.calendar == "intraday" or self.bar is not None else "date"

    @property
    def is_bar_series(self) -> bool:
        """True for intraday OHLCV bars (stamped at the bar's open, known at its close)."""
        return self.bar is not None

    @property
    def bar_delta(self) -> pd.Timedelta | None:
        return None if self.bar is None else span(self.bar)

    @property
    def max_gap_delta(self) -> pd.Timedelta | None:
        return span(self.max_gap) if isinstance(self.max_gap, str) else None

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns a file must have; `volume` is optional for prices."""
        return tuple(c for c in self.columns if c != "volume")

    def relpath(self) -> Path:
        return Path("series") / self.family / f"{self.id}.csv"

    def frame_columns(self) -> list[str]:
        """Column names this series contributes to an aligned frame (see riskoff.data.align)."""
        if self.calendar == "intraday":  # funding prints: daily aggregates on daily clocks
            return [f"{self.id}.sum", f"{self.id}.mean", f"{self.id}.count"]
        if self.columns == ("value",):
            return [self.id]
        return [f"{self.id}.{c}" for c in self.columns]


_FIELDS = {f.name for f in fields(SeriesSpec)} - {"id", "extra"}


def _build(sid: str, raw: Mapping[str, Any], families: Mapping[str, Mapping[str, Any]], origin: str) -> SeriesSpec:
    family = raw.get("family")
    if family not in families:
        raise ConfigError(f"{origin}: series.{sid}.family = {family!r}; expected one of {sorted(families)}"
                          f"{did_you_mean(str(family), families)}")
    merged = {**families[family], **raw}
    unknown = set(merged) - _FIELDS
    if unknown:
        bad = sorted(unknown)[0]
        raise ConfigError(f"{origin}: series.{sid}: unknown field '{bad}'{did_you_mean(bad, _FIELDS)}")
    missing = [k for k in ("columns", "calendar", "units", "lag_days", "lag_unit", "publish_time",
                           "publish_tz", "max_stale_days") if k not in merged]
    if missing:
        raise ConfigError(f"{origin}: series.{sid}: missing field(s) {missing}")
    if merged["calendar"] not in CALENDARS:
        raise ConfigError(f"{origin}: series.{sid}.calendar = {merged['calendar']!r}; expected one of {CALENDARS}")
    if merged["lag_unit"] not in LAG_UNITS:
        raise ConfigError(f"{origin}: series.{sid}.lag_unit = {merged['lag_unit']!r}; expected one of {LAG_UNITS}")
    for key in ("bar", "max_gap"):
        if isinstance(merged.get(key), str):  # an int max_gap counts missed periods (riskoff.data.sanity)
            try:
                span(merged[key])
            except ConfigError as exc:
                raise ConfigError(f"{origin}: series.{sid}.{key}: {exc}") from None
    if merged.get("bar") is not None and merged["calendar"] != "utc":
        raise ConfigError(f"{origin}: series.{sid}: bar = {merged['bar']!r} needs calendar = \"utc\" "
                          f"(intraday bars trade on the 24/7 UTC clock), not {merged['calendar']!r}")
    _check_sanity_fields(sid, merged, origin)
    merged["columns"] = tuple(parse_names(merged["columns"], f"{origin}: series.{sid}.columns", '["close"]'))
    return SeriesSpec(id=sid, **merged)


def _check_sanity_fields(sid: str, merged: Mapping[str, Any], origin: str) -> None:
    """The sanity-rule fields have the types riskoff.data.sanity expects."""
    from riskoff.util.durations import parse_duration

    where = f"{origin}: series.{sid}"
    freq = merged.get("frequency", "daily")
    if freq not in FREQUENCIES:
        raise ConfigError(f"{where}.frequency = {freq!r}; expected one of {FREQUENCIES}")
    gap = merged.get("max_gap")
    if isinstance(gap, str):  # an int is a count of missed periods (the schema checked it)
        parse_duration(gap, f"{where}.max_gap")
    move = merged.get("max_move")
    if move is not None and not (move == 0 or move > 1):
        raise ConfigError(f"{where}.max_move = {move!r}; expected a factor > 1 (0 turns the rule off)")
    if merged.get("sessions", "") not in SESSIONS:
        raise ConfigError(f"{where}.sessions = {merged.get('sessions')!r}; expected one of {SESSIONS}")


def check_series_ids(tables: Any, origin: str) -> None:
    """Every ``[series.ID]`` id is a file name (series/<family>/<ID>.csv when fetched): no separators,
    no ``..``, not too long; checked before anything else in the table is read."""
    for sid in tables if isinstance(tables, Mapping) else ():
        path_name(sid, f"{origin}: series.{sid}")


def parse_catalog(doc: Mapping[str, Any], origin: str, base: Mapping[str, SeriesSpec] | None = None,
                  families: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, SeriesSpec]:
    """Specs from a parsed TOML document, layered over ``base`` (user series extend the catalog)."""
    fams = {**(families or {}), **doc.get("families", {})}
    out = dict(base or {})
    from riskoff.data.schema import SeriesTable
    from riskoff.util.schema import check

    tables = doc.get("series", {})
    check_series_ids(tables, origin)
    check(dict[str, SeriesTable], tables, origin, "series")  # types and keys; the family's fields fill the rest
    for sid, raw in tables.items():
        out[sid] = _build(sid, raw, fams, origin)
    return out


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> tuple[dict[str, SeriesSpec], dict[str, Any]]:
    doc = read_toml(path, "series catalog")
    return parse_catalog(doc, str(path)), doc.get("families", {})


def load_catalog(path: Path = CATALOG_FILE, extra: Mapping[str, Any] | None = None,
                 origin: str = "config") -> dict[str, SeriesSpec]:
    """All declared series by ID; ``extra`` is a config's ``{"series": {...}}`` to add or override
    (``origin``: the config file, for messages)."""
    specs, families = _load(path, path.stat().st_mtime if path.exists() else 0.0)
    if extra:
        return parse_catalog(extra, origin, base=specs, families=families)
    return dict(specs)


def get_spec(series_id: str, catalog: Mapping[str, SeriesSpec] | None = None) -> SeriesSpec:
    """The spec for one ID, or a ConfigError with a close-match suggestion."""
    catalog = catalog if catalog is not None else load_catalog()
    try:
        return catalog[series_id]
    except KeyError:
        raise ConfigError(f"unknown series '{series_id}'{did_you_mean(series_id, catalog)}; "
                          f"see `riskoff data status` for the catalog") from None
