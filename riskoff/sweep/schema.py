"""The typed schema of a sweep config: ``[sweep]``, ``[grid]``, ``[walk_forward]``, composed with the
run tables into :class:`SweepDocument`.

Types, ranges and allowed keys; grid keys against the base strategy's parameters, metrics against
the windows and the combination count are checked by :mod:`riskoff.sweep.config`. Imported by config
parsers only (it loads pydantic).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from riskoff.data.schema import SeriesTable
from riskoff.evaluation.schema import WindowTable
from riskoff.run.schema import CostsTable, RunTable
from riskoff.significance.schema import BootstrapTable, NullTable
from riskoff.strategies.schema import PortfolioTable, StrategyTable
from riskoff.util.schema import DateLike, Name, Names, Number, Table, WholeNumber

__all__ = ["SweepTable", "GridRange", "WalkForwardTable", "SweepDocument", "BookSweepTable", "BookSweepDocument"]

Whole = Annotated[int, Field(ge=1)]


class SweepTable(Table):
    """``[sweep]``: how the grid is ranked, drawn and computed."""

    metric: Name = "calmar"
    heatmap: Annotated[Names, Field(min_length=1, max_length=2)] | None = None
    window_metric: Name = "drawdown_avoided"
    stability_penalty: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    memory_mb: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = None     # None: sweep.config's default
    chunk_size: Annotated[int, Field(ge=0)] = 0
    kernel: str = "fused"
    top: Whole = 20
    max_combinations: Annotated[WholeNumber, Field(ge=1)] | None = None  # None: sweep.config's default


class GridRange(Table):
    """A ``[grid]`` value written as a range: start, stop (inclusive) and step."""

    start: Number
    stop: Number
    step: Annotated[float, Field(gt=0, allow_inf_nan=False)]


#: a [grid] value: a range table, a non-empty list of values or one value (checked against the
#: parameter's declaration by the sweep config)
GridValue = GridRange | Annotated[list[Any], Field(min_length=1)] | bool | int | float | str


class WalkForwardTable(Table):
    """``[walk_forward]``: held-out tests of the sweep's selection."""

    mode: Literal["windows", "anchored", "rolling"] = "windows"
    fit_end: DateLike | None = None
    test_start: DateLike | None = None
    train_years: Annotated[float, Field(ge=0.1, allow_inf_nan=False)] | None = None
    test_years: Annotated[float, Field(ge=0.1, allow_inf_nan=False)] | None = None
    objective: Name | None = None
    cost_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    select: Literal["objective", "stability"] = "objective"


class SweepDocument(Table):
    """A whole sweep config file: its run (a table, or the path of a run config), the base strategy,
    the grid and the sweep's own keys."""

    run: RunTable | Name
    sweep: SweepTable = Field(default_factory=SweepTable)
    strategy: StrategyTable | None = None          # required: the sweep config says so with an example
    grid: dict[str, GridValue] | None = None
    walk_forward: bool | WalkForwardTable | None = None
    costs: dict[str, CostsTable] = {}
    windows: dict[str, WindowTable] = {}
    series: dict[str, SeriesTable] = {}
    null: NullTable = Field(default_factory=NullTable)
    bootstrap: BootstrapTable = Field(default_factory=BootstrapTable)


class BookSweepTable(Table):
    """``[sweep]`` of a book sweep (a sweep config with a ``[portfolio]`` table)."""

    metric: Name = "calmar"
    stability_penalty: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    top: Whole = 20


#: a book sweep's [grid] value: a range table, a non-empty list of numbers or one number
BookGridValue = GridRange | Annotated[list[Annotated[float, Field(ge=0, allow_inf_nan=False)]],
                                      Field(min_length=1)] | Annotated[float, Field(ge=0, allow_inf_nan=False)]


class BookSweepDocument(Table):
    """A book sweep file (riskoff.sweep.books): the run, the rule, the book and the swept book keys."""

    run: RunTable
    sweep: BookSweepTable = Field(default_factory=BookSweepTable)
    strategy: StrategyTable
    portfolio: PortfolioTable
    grid: dict[str, BookGridValue]
    costs: dict[str, CostsTable] = {}
    windows: dict[str, WindowTable] = {}
    series: dict[str, SeriesTable] = {}
    null: NullTable = Field(default_factory=NullTable)
    bootstrap: BootstrapTable = Field(default_factory=BootstrapTable)
