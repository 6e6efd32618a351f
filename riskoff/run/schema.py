"""The typed schema of a run config: one model per table, composed into :class:`RunDocument`.

Types, ranges and allowed keys; the choices that come from elsewhere (assets from the catalog,
rules and signals from the plug-ins, ``fill``/``cash``/``engine``) and the checks across tables
are made by :mod:`riskoff.run.config`. Imported by config parsers only (it loads pydantic).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from riskoff.data.schema import SeriesTable
from riskoff.evaluation.schema import WindowTable
from riskoff.significance.schema import BootstrapTable, NullTable
from riskoff.strategies.schema import OverlaysTable, PortfolioTable, StrategyTable
from riskoff.util.schema import DateLike, Name, Names, Table

__all__ = ["RunTable", "CostsTable", "BaselinesTable", "SignalsAloneTable", "RunDocument"]

Bps = Annotated[float, Field(ge=0, lt=10_000, allow_inf_nan=False)]


class RunTable(Table):
    """``[run]``: what to run, over which span, how orders fill and what cash earns."""

    name: Name | None = None
    start: DateLike = "2015-01-01"
    end: DateLike = "auto"
    assets: Names = []
    fill: str = "next_close"
    cash: str = "money_market"
    engine: str = "vectorbt"
    tearsheets: Literal["all", "none"] | list[Name] = "all"
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    plugin_dirs: list[Name] = []
    plugin_time_limit: Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)] = 300.0


class CostsTable(Table):
    """``[costs.<asset class>]``: overrides of the class's default costs, in basis points."""

    fee_bps: Bps | None = None
    slippage_bps: Bps | None = None


class BaselinesTable(Table):
    """``[baselines]``: the strategies every comparison includes."""

    rules: Names = []


class SignalsAloneTable(Table):
    """``[signals_alone]``: each signal alone as a de-risk rule."""

    signals: Names = []
    rule: Name = "any_off"
    overlays: OverlaysTable = Field(default_factory=OverlaysTable)  # type: ignore[valid-type]
    assets: dict[str, Names] = {}
    params: dict[str, Any] = {}


class RunDocument(Table):
    """A whole run config file."""

    run: RunTable = Field(default_factory=RunTable)
    costs: dict[str, CostsTable] = {}
    baselines: BaselinesTable = Field(default_factory=BaselinesTable)
    signals_alone: SignalsAloneTable = Field(default_factory=SignalsAloneTable)
    strategies: list[StrategyTable] = []
    portfolios: list[PortfolioTable] = []
    windows: dict[str, WindowTable] = {}
    series: dict[str, SeriesTable] = {}
    null: NullTable = Field(default_factory=NullTable)
    bootstrap: BootstrapTable = Field(default_factory=BootstrapTable)
