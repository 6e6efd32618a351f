"""The typed schema of a series table (``[series.ID]`` in ``data/catalog.toml`` and in configs).

Every key is optional here because a series inherits its family's fields; which keys must be
present after that, and the allowed calendars, units and durations, are checked by
:mod:`riskoff.data.catalog`. Imported by config parsers only (it loads pydantic).
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from riskoff.util.schema import Name, Names, Number, Table

__all__ = ["SeriesTable"]

Count = Annotated[int, Field(ge=0)]


class SeriesTable(Table):
    """How one series is stored, what it means and when each value becomes public."""

    family: Name | None = None
    columns: Names | None = None
    calendar: str | None = None
    units: str | None = None
    lag_days: Count | None = None
    lag_unit: str | None = None
    publish_time: str | None = None
    publish_tz: str | None = None
    max_stale_days: Count | None = None
    low: Number | None = None
    high: Number | None = None
    positive: bool | None = None
    pct_scale: bool | None = None
    fraction_scale: bool | None = None
    asset_class: Name | None = None
    interval_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    bar: str | None = None
    frequency: str | None = None
    max_gap: Count | str | None = Field(default=None, description='a count of missed periods (>= 0) or a '
                                        'duration like "6h"')
    max_move: Number | None = Field(default=None, description="a factor > 1 (0 turns the rule off)")
    sessions: str | None = None
