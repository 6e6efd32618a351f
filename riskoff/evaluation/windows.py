"""The sell-off window catalog (``data/windows.toml``): documented episodes to evaluate against.

Windows are data. A run config may add or override windows in its own ``[windows.ID]`` tables
with the same fields; ``riskoff windows list`` prints the catalog.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskoff.util.config_helpers import parse_instant
from riskoff.util.errors import ConfigError
from riskoff.util.paths import WINDOWS_FILE
from riskoff.util.tomlfile import read_toml

#: buy & hold fell less than this inside a window: nothing worth avoiding there. Protection figures
#: (mean drawdown avoided, windows protected, its random-timing p-value) count only the windows
#: where the asset fell at least this much; the all-window mean is shown beside them.
NOTHING_TO_AVOID = 0.03


def something_to_avoid(bh_max_dd):
    """True where buy & hold's max drawdown in the window is at least :data:`NOTHING_TO_AVOID`
    (``bh_max_dd`` is negative: -0.12 = fell 12%); works on a number, an array or a Series."""
    return bh_max_dd <= -NOTHING_TO_AVOID


@dataclass(frozen=True)
class SellOffWindow:
    """One documented sell-off: calm day before, trough, end, and who it hit.

    ``troughs`` overrides the trough per asset (BTC bottomed on 2020-03-12, equities on 03-23).
    """

    id: str
    name: str
    start: pd.Timestamp
    trough: pd.Timestamp
    end: pd.Timestamp
    assets: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    sample: str = "in"
    troughs: Mapping[str, pd.Timestamp] = field(default_factory=dict, compare=False, hash=False)

    def trough_for(self, asset: str) -> pd.Timestamp:
        return self.troughs.get(asset, self.trough)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "start": format_instant(self.start),
                "trough": format_instant(self.trough), "end": format_instant(self.end), "assets": list(self.assets),
                "description": self.description, "source": self.source, "sample": self.sample,
                "troughs": {k: format_instant(v) for k, v in self.troughs.items()}}


def format_instant(t: pd.Timestamp) -> str:
    """A window bound as written: the date, plus the UTC time when it has one (2025-10-10T21:20Z)."""
    return f"{t:%Y-%m-%d}" if t == t.normalize() else f"{t:%Y-%m-%dT%H:%M}Z"


def parse_instants(values: Any, where: str) -> pd.Series:
    """Window bounds read back (windows.csv, a summary, a table of rows): each value as
    :func:`format_instant` writes it, a date or a UTC time, parsed one by one with the config's
    parser, so a column that mixes daily troughs (2021-05-19) with hourly ones (2025-10-10T21:20Z)
    keeps both; blanks are NaT, anything else is a ConfigError naming ``where``."""
    series = pd.Series(values)
    return series.map(lambda v: pd.NaT if v is None or (not isinstance(v, str) and pd.isna(v))
                      else parse_instant(v, where)).astype("datetime64[ns]")


def parse_windows(doc: Mapping[str, Any], origin: str) -> dict[str, SellOffWindow]:
    """Windows from a parsed TOML document's ``windows`` table, validated."""
    from riskoff.evaluation.schema import WindowTable
    from riskoff.util.schema import check

    out: dict[str, SellOffWindow] = {}
    tables = check(dict[str, WindowTable], doc.get("windows", {}), origin, "windows")  # types and keys
    for wid, raw in tables.items():
        key = f"{origin}: windows.{wid}"
        start, trough, end = (parse_instant(getattr(raw, k), f"{key}.{k}") for k in ("start", "trough", "end"))
        troughs = {a: parse_instant(v, f"{key}.troughs.{a}") for a, v in raw.troughs.items()}
        if not start <= end:
            raise ConfigError(f"{key}: start {start:%Y-%m-%d} is after end {end:%Y-%m-%d}")
        for label, t in [("trough", trough), *((f"troughs.{a}", v) for a, v in troughs.items())]:
            if not start <= t <= end:
                raise ConfigError(f"{key}.{label} = {t:%Y-%m-%d} lies outside its window "
                                  f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}; expected start <= trough <= end")
        out[wid] = SellOffWindow(id=wid, name=raw.name if raw.name is not None else wid, start=start, trough=trough,
                                 end=end, assets=tuple(raw.assets), description=raw.description, source=raw.source,
                                 sample=raw.sample, troughs=troughs)
    return out


def load_windows(path: Path = WINDOWS_FILE, extra: Mapping[str, Any] | None = None,
                 origin: str = "config") -> dict[str, SellOffWindow]:
    """The catalog, plus a config's ``{"windows": {...}}`` (which may override catalog ids;
    ``origin``: the config file, for messages)."""
    windows = parse_windows(read_toml(path, "window catalog"), str(path))
    if extra:
        windows.update(parse_windows(extra, origin))
    return dict(sorted(windows.items(), key=lambda kv: kv[1].start))


def format_windows(windows: Mapping[str, SellOffWindow]) -> str:
    rows = [f"{'id':<24} {'start':<10} {'trough':<17} {'end':<10} {'sample':<6} assets / name"]
    for w in windows.values():
        rows.append(f"{w.id:<24} {w.start:%Y-%m-%d} {format_instant(w.trough):<17} {w.end:%Y-%m-%d} {w.sample:<6} "
                    f"{','.join(w.assets)} / {w.name}")
    return "\n".join(rows)
