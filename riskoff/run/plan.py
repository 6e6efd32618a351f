"""The plan step shared by ``riskoff run`` and ``riskoff sweep``: which series a config needs, where
the run ends, and whether the data covers it, all decided before any work is done.

The run ends at the config's ``end``, or (``end = "auto"``) on the last date every required
series covers; ``end_limited_by`` names what decided it ("config" or the series ID). Required
series are the assets and every signal's declared inputs; optional series are the signals'
optional inputs the catalog knows. Every required series must cover start .. end on every asset
calendar, so a stale or short file fails here with a DataError naming it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskoff.data.align import load
from riskoff.data.calendars import clock_of
from riskoff.data.context import DataContext
from riskoff.data.sources import read_series
from riskoff.run.config import RunConfig
from riskoff.util.errors import ConfigError


@dataclass(frozen=True)
class RunPlan:
    """What a run needs from the data: its series, its resolved end and what limited that end."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    end: pd.Timestamp
    end_limited_by: str

    def span_text(self, start: pd.Timestamp) -> str:
        """The one-line span statement printed by the commands."""
        how = "from config" if self.end_limited_by == "config" else "limited by " + self.end_limited_by
        return f"{start:%Y-%m-%d} .. {self.end:%Y-%m-%d} (end {how})"


def used_series(cfg: RunConfig, data: DataContext, signals=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required series, optional series) behind the config's assets and its strategies' signals."""
    from riskoff.signals.contract import discover as discover_signals

    signals = signals if signals is not None else discover_signals(cfg.plugin_dirs)
    required, optional = list(cfg.assets), []
    for strat in cfg.strategies:
        for ref in strat.signals:
            spec = signals.get(ref.name)
            required += list(spec.required_series(ref.params))
            optional += [s for s in spec.optional_series_ids if s in data.catalog]
    required = list(dict.fromkeys(required))
    return tuple(required), tuple(s for s in dict.fromkeys(optional) if s not in required)


def resolve_end(cfg: RunConfig, required: tuple[str, ...], data: DataContext) -> tuple[pd.Timestamp, str]:
    """The run's last bar and what decided it: the config's end, or the last date every required
    series covers (the series that ends first is named)."""
    if cfg.end is not None:
        return cfg.end, "config"
    lasts = {sid: read_series(data.catalog[sid], data.data_dir).index[-1].normalize() for sid in required}
    sid = min(lasts, key=lasts.get)
    return lasts[sid], sid


def check_coverage(cfg: RunConfig, required: tuple[str, ...], end: pd.Timestamp, data: DataContext) -> None:
    """Raise DataError (naming file and series) when a required series does not cover start .. end."""
    for cal in sorted({clock_of(data.catalog[a]) for a in cfg.assets}):
        load(list(required), cfg.start, end, calendar=cal, data_dir=data.data_dir, catalog=data.catalog,
             stale="raise")


def plan_run(cfg: RunConfig, data: DataContext, signals=None) -> RunPlan:
    """Series, end and coverage of ``cfg`` on ``data``; every problem is raised before any work."""
    required, optional = used_series(cfg, data, signals)
    end, limited_by = resolve_end(cfg, required, data)
    if end <= cfg.start:
        raise ConfigError(f"{cfg.source}: the data ends {end:%Y-%m-%d} (limited by {limited_by}), "
                          f"before run.start {cfg.start:%Y-%m-%d}")
    check_coverage(cfg, required, end, data)
    return RunPlan(required, optional, end, limited_by)
