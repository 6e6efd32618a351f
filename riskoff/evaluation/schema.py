"""The typed schema of a sell-off window table (``[windows.ID]`` in ``data/windows.toml`` and in configs).

Dates are read, and checked in order, by :mod:`riskoff.evaluation.windows`. Imported by config
parsers only (it loads pydantic).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from riskoff.util.schema import DateLike, Names, Table

__all__ = ["WindowTable"]


class WindowTable(Table):
    """One documented sell-off: start (the calm day before), trough, end and who it hit."""

    start: DateLike
    trough: DateLike
    end: DateLike
    name: str | None = None
    assets: Names = []
    description: str = ""
    source: str = ""
    sample: Literal["in", "out"] = "in"
    troughs: dict[str, DateLike] = Field(default={}, description="a table of asset = date, e.g. "
                                         "troughs = { BTC-USD = 2020-03-12 }")
