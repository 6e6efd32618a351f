"""The data context: where a command reads its data, created once and passed down.

A command (``riskoff run``, ``riskoff sweep``) resolves the data dir (``--data-dir``,
``RISKOFF_DATA_DIR``, ``../shared/data``, ``data/cache``) and the series catalog (data/catalog.toml
plus the config's own ``[series.ID]`` entries) once, into a :class:`DataContext`, and hands it to
every stage (plan, strategies, signals, cash, alignment) instead of each stage resolving its own.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskoff.data.catalog import SeriesSpec, load_catalog
from riskoff.util.paths import resolve_data_dir


@dataclass(frozen=True)
class DataContext:
    """The data dir (and how it was chosen), the series catalog and a per-command signal cache.

    Attributes:
        data_dir: folder holding ``series/``.
        data_dir_from: how ``data_dir`` was chosen (for summary.json and progress lines).
        catalog: series specs by ID (the project catalog plus the config's own series).
        cache: shared by the stages of one command: signal outputs keyed by
            ``(signal, params, calendar, start, end)`` (see ``riskoff.strategies.exposure.build_exposure``).
    """

    data_dir: Path
    data_dir_from: str
    catalog: Mapping[str, SeriesSpec]
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self):
        # Shipped to worker processes (dask) without the cache: each process fills its own.
        return (type(self), (self.data_dir, self.data_dir_from, self.catalog))

    @classmethod
    def create(cls, data_dir: str | Path | None = None, series: Mapping[str, Any] | None = None) -> "DataContext":
        """Resolve the data dir in the documented order and the catalog with a config's ``[series]``."""
        path, how = resolve_data_dir(data_dir)
        return cls(path, how, load_catalog(extra={"series": dict(series)} if series else None))

    @classmethod
    def of(cls, data: "DataContext | None" = None, *, data_dir: str | Path | None = None,
           catalog: Mapping[str, SeriesSpec] | None = None) -> "DataContext":
        """``data`` itself, or a context built from the older ``data_dir``/``catalog`` keywords.

        Lets functions that used to take ``data_dir=None, catalog=None`` accept a context while staying
        source-compatible: an explicit ``data_dir`` or ``catalog`` overrides the context's.
        """
        if data is not None and data_dir is None and catalog is None:
            return data
        if data is not None:
            path, how = (Path(data_dir), "data_dir argument") if data_dir is not None else \
                (data.data_dir, data.data_dir_from)
            return cls(path, how, catalog if catalog is not None else data.catalog, data.cache)
        path, how = resolve_data_dir(data_dir)
        return cls(path, how, catalog if catalog is not None else load_catalog())
