"""The typed schemas of the ``[null]`` and ``[bootstrap]`` tables: types and ranges (the defaults are
:class:`~riskoff.significance.settings.SignificanceSettings`'s).

Imported by config parsers only (it loads pydantic); :mod:`riskoff.significance.settings` turns
them into :class:`~riskoff.significance.settings.SignificanceSettings`.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from riskoff.significance.settings import SignificanceSettings as Defaults
from riskoff.util.schema import Table

__all__ = ["NullTable", "BootstrapTable"]

Seed = Annotated[int, Field(ge=0)]
MemoryMB = Annotated[float, Field(ge=1, allow_inf_nan=False)]


class NullTable(Table):
    """The matched random-timing null (riskoff.significance.null)."""

    enabled: bool = Defaults.null
    paths: Annotated[int, Field(ge=19)] = Defaults.paths     # 19 paths: the smallest p-value below 0.05
    seed: Seed = Defaults.null_seed
    max_memory_mb: MemoryMB = Defaults.null_max_memory_mb


class BootstrapTable(Table):
    """Intervals for the CAGR / Sharpe difference vs buy & hold (riskoff.significance.bootstrap)."""

    enabled: bool = Defaults.bootstrap
    reps: Annotated[int, Field(ge=100)] = Defaults.reps
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = Defaults.confidence
    seed: Seed = Defaults.bootstrap_seed
    max_memory_mb: MemoryMB = Defaults.bootstrap_max_memory_mb
