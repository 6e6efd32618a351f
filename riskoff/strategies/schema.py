"""The typed schemas of a strategy table (``[[strategies]]``, a sweep's ``[strategy]``) and its parts,
and of a book (``[[portfolios]]``), which names strategies.

Types and allowed keys only: rule and signal names are checked against the plug-ins, and their
``params`` against each plug-in's declared parameters, by :mod:`riskoff.strategies.config`.
Imported by config parsers only (it loads pydantic).
"""
from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, create_model

from riskoff.strategies.overlays import Overlays
from riskoff.util.schema import Name, Names, Number, Table

__all__ = ["SignalTable", "OverlaysTable", "StrategyTable", "BandTable", "PortfolioTable"]


class SignalTable(Table):
    """One signal a strategy reads: ``{ name, params, label }``."""

    name: Name
    params: dict[str, Any] = {}
    label: Name | None = None


def _overlay_type(f) -> Any:
    # Whole-bar overlays also take a time span ("5d"), converted to bars on each asset's clock; the
    # ranges are the Overlays declaration's own (checked when the Overlays are built).
    return (int | str) if f.type in (int, "int") else Number


#: the ``overlays = { ... }`` table: one key per field of :class:`~riskoff.strategies.overlays.Overlays`
OverlaysTable = create_model("OverlaysTable", __base__=Table,
                             **{f.name: (_overlay_type(f) | None, None) for f in fields(Overlays)})


def _signal_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


class StrategyTable(Table):
    """A strategy: a rule over some signals, its params, overlays and the assets it trades."""

    name: Name
    rule: Name
    signals: Annotated[list[Name | SignalTable], BeforeValidator(_signal_list)] = []
    params: dict[str, Any] = {}
    overlays: OverlaysTable = Field(default_factory=OverlaysTable)  # type: ignore[valid-type]
    assets: Names = []


Share = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class BandTable(Table):
    """``rebalance = { band = b }``: re-trade an asset whose weight is more than b from its target."""

    band: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class PortfolioTable(Table):
    """A book (``[[portfolios]]``): weights, rebalancing, the risk-off destination and its strategies.
    Sums, assets and strategy names are checked by :func:`riskoff.strategies.books.parse_portfolios`."""

    name: Name
    weights: Annotated[dict[str, Share], Field(min_length=1, description="a table of asset = weight, e.g. "
                                                                     "{ SPY = 0.6, TLT = 0.4 }")]
    rebalance: Literal["monthly", "quarterly", "never"] | BandTable = "monthly"
    risk_off_into: Annotated[str | dict[str, Share], Field(description='"cash" or a table of asset = share, e.g. '
                                                                      "{ TLT = 0.5, GLD = 0.5 }")] = "cash"
    strategies: Names = []
