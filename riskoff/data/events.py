"""Events on publication time: every series as a stream of values stamped when they become known.

Each observation of a catalog series becomes one event stamped with the UTC instant it is
published, by the catalog's publication rules (``riskoff.data.calendars.availability_times``, the same
rules the daily as-of join uses): a US close at 16:00 New York, VIX at 16:15, SOFR at 08:00 New York
on the next business day, the BTC daily close at 00:00 UTC after its UTC day, on-chain values at
01:00 UTC the next day, H.4.1 weekly data at its Thursday release, a funding print at its
settlement, an intraday bar at its close (open time + bar). Nothing is aggregated: funding
prints are events of their own.

:class:`EventStream` merges several series into one stream in publication order (ties keep the
order the series were asked for, then observation order). :meth:`EventStream.as_of` gives the
point-in-time view at an instant t: exactly the events published at or before t.
:meth:`EventStream.truncate` drops everything published after t, which is what the truncation
checks compare against.

    >>> stream = event_stream(["BINANCE-BTCUSDT-1H", "VIX", "BINANCE-BTCUSDT"], "2025-10-01", "2025-10-31")
    >>> view = stream.as_of("2025-10-10T21:30Z")
    >>> view.latest("VIX", "close")        # Friday's close, published at 20:15 UTC (16:15 New York)
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.calendars import availability_times
from riskoff.data.catalog import SeriesSpec, get_spec, load_catalog
from riskoff.data.sources import read_series
from riskoff.util.errors import ConfigError
from riskoff.util.paths import resolve_data_dir

__all__ = ["SeriesEvents", "EventStream", "PointInTimeView", "series_events", "event_stream", "utc_ns"]


def utc_ns(t) -> int:
    """An instant (string, Timestamp, datetime64, int ns) as UTC nanoseconds; naive means UTC."""
    if isinstance(t, (int, np.integer)):
        return int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.as_unit("ns").value)


@dataclass(frozen=True)
class SeriesEvents:
    """One series' events: observation stamps, publication instants (UTC ns, non-decreasing), values."""

    id: str
    observed: np.ndarray
    published: np.ndarray
    values: pd.DataFrame
    max_stale_ns: int | None = None  # how long a value stays usable after publication (catalog max_stale_days)

    def __len__(self) -> int:
        return len(self.published)

    def upto(self, t_ns: int) -> int:
        """How many of this series' events are published at or before ``t_ns``."""
        return int(np.searchsorted(self.published, t_ns, side="right"))


def series_events(spec: SeriesSpec, data_dir: str | Path | None = None, start=None, end=None) -> SeriesEvents:
    """The events of one series, published between ``start`` and ``end`` (inclusive, UTC instants)."""
    path = resolve_data_dir(data_dir)[0] if data_dir is None else Path(data_dir)
    obs = read_series(spec, path)
    published = availability_times(obs.index, spec, prints=True)
    if np.any(np.diff(published) < 0):  # a lag rule that reorders observations would break as-of views
        raise ConfigError(f"series {spec.id}: its publication rule does not keep observations in order")
    lo = 0 if start is None else int(np.searchsorted(published, utc_ns(start), side="left"))
    hi = len(published) if end is None else int(np.searchsorted(published, utc_ns(end), side="right"))
    observed = obs.index.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return SeriesEvents(spec.id, observed[lo:hi], published[lo:hi], obs.iloc[lo:hi],
                        int(spec.max_stale_days * 86_400 * 10**9))


class EventStream:
    """Several series merged into one stream ordered by publication instant."""

    def __init__(self, series: Sequence[SeriesEvents]):
        self.series: dict[str, SeriesEvents] = {s.id: s for s in series}
        pub = np.concatenate([s.published for s in series]) if series else np.zeros(0, np.int64)
        code = np.concatenate([np.full(len(s), k, np.int32) for k, s in enumerate(series)]) if series else \
            np.zeros(0, np.int32)
        row = np.concatenate([np.arange(len(s)) for s in series]) if series else np.zeros(0, np.int64)
        order = np.lexsort((row, code, pub))  # publication time, then series order, then observation order
        self.published, self.code, self.row = pub[order], code[order], row[order]
        self.ids: tuple[str, ...] = tuple(s.id for s in series)

    def __len__(self) -> int:
        return len(self.published)

    def events(self) -> pd.DataFrame:
        """The merged stream as a frame: published, series, observed, one row per event."""
        observed = np.empty(len(self), np.int64)
        for k, sid in enumerate(self.ids):
            m = self.code == k
            observed[m] = self.series[sid].observed[self.row[m]]
        return pd.DataFrame({"published": pd.to_datetime(self.published, utc=True),
                             "series": pd.Categorical.from_codes(self.code, categories=list(self.ids)),
                             "observed": pd.to_datetime(observed)})

    def truncate(self, t) -> "EventStream":
        """The stream without every event published after instant ``t``."""
        t_ns = utc_ns(t)
        return EventStream([SeriesEvents(s.id, s.observed[:s.upto(t_ns)], s.published[:s.upto(t_ns)],
                                         s.values.iloc[:s.upto(t_ns)], s.max_stale_ns) for s in self.series.values()])

    def as_of(self, t) -> "PointInTimeView":
        """The point-in-time view at instant ``t``: events published at or before ``t`` only."""
        return PointInTimeView(self, utc_ns(t))

    def counts_at(self, times_ns: np.ndarray) -> dict[str, np.ndarray]:
        """Per series, how many events are published by each instant (vectorised ``as_of``)."""
        return {sid: np.searchsorted(s.published, times_ns, side="right") for sid, s in self.series.items()}

    def asof_frame(self, times_ns: np.ndarray, index: pd.Index | None = None, *, stale: bool = False
                   ) -> pd.DataFrame:
        """Latest published value of every column of every series at each instant (NaN before the first).

        Columns are ``ID.col`` (``ID`` alone for single-value series). With ``stale`` a value older
        than its series' ``max_stale_ns`` (measured from publication, as the daily as-of join does)
        is NaN instead of carried.
        """
        blocks = {}
        for sid, s in self.series.items():
            n = np.searchsorted(s.published, times_ns, side="right")
            vals = s.values.to_numpy(dtype=np.float64)
            take = np.maximum(n - 1, 0)
            ok = n > 0
            if stale and s.max_stale_ns is not None and len(vals):
                ok &= times_ns - s.published[take] <= s.max_stale_ns
            for j, col in enumerate(s.values.columns):
                v = vals[take, j] if len(vals) else np.full(len(times_ns), np.nan)
                v = np.where(ok, v, np.nan)
                blocks[sid if list(s.values.columns) == ["value"] else f"{sid}.{col}"] = v
        return pd.DataFrame(blocks, index=pd.RangeIndex(len(times_ns)) if index is None else index)


class PointInTimeView:
    """What is known at one instant: for each series, its events published at or before it."""

    def __init__(self, stream: EventStream, t_ns: int):
        self.stream, self.t_ns = stream, t_ns
        self._n = {sid: s.upto(t_ns) for sid, s in stream.series.items()}

    @property
    def time(self) -> pd.Timestamp:
        return pd.Timestamp(self.t_ns, tz="UTC")

    def count(self, series_id: str) -> int:
        return self._n[self._known(series_id)]

    def history(self, series_id: str) -> pd.DataFrame:
        """Every published observation of the series so far (indexed by observation stamp)."""
        sid = self._known(series_id)
        return self.stream.series[sid].values.iloc[:self._n[sid]]

    def latest(self, series_id: str, column: str | None = None) -> float:
        """The most recent published value (NaN when nothing is published yet)."""
        sid = self._known(series_id)
        s, n = self.stream.series[sid], self._n[sid]
        col = column or s.values.columns[0]
        return float(s.values[col].iloc[n - 1]) if n else float("nan")

    def published_at(self, series_id: str) -> pd.Timestamp | None:
        """When the latest known value of the series was published."""
        sid = self._known(series_id)
        n = self._n[sid]
        return pd.Timestamp(self.stream.series[sid].published[n - 1], tz="UTC") if n else None

    def _known(self, series_id: str) -> str:
        if series_id not in self.stream.series:
            raise ConfigError(f"series '{series_id}' is not in this event stream (it has {list(self.stream.ids)})")
        return series_id


def event_stream(ids: Sequence[str], start=None, end=None, *, data_dir: str | Path | None = None,
                 catalog: Mapping[str, SeriesSpec] | None = None) -> EventStream:
    """The merged event stream of ``ids`` published between ``start`` and ``end`` (UTC instants)."""
    catalog = catalog if catalog is not None else load_catalog()
    return EventStream([series_events(get_spec(i, catalog), data_dir, start, end) for i in dict.fromkeys(ids)])
