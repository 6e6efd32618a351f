"""Strategy rules: the plug-in contract and the discovery of rule modules.

A strategy *rule* turns signal states (and/or the asset's close) into a target exposure per asset
per bar. A rule is one short module in ``strategies/`` (or exposed by an installed package under
the entry-point group ``riskoff.strategies``)::

    \"\"\"Any signal risk-off -> off_exposure, else on_exposure.\"\"\"
    from riskoff import Param
    from riskoff.strategies.compose import off_votes
    from riskoff.strategies.contract import StrategyContext

    PARAMS = [Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure when de-risked")]
    NEEDS_SIGNALS = True                   # default True; baselines set False

    def target(ctx: StrategyContext, off_exposure=0.0):
        votes = off_votes(ctx.states)      # NaN on bars where no signal has an opinion
        return (votes >= 1).map({True: off_exposure, False: 1.0}).where(votes.notna())

Module attributes: optional ``NAME`` (default: file name), ``PARAMS`` (list of
:class:`riskoff.Param`), ``NEEDS_SIGNALS`` (bool, default True) and optional
``check(labels, **params)`` (raise ``ValueError`` when the parameters do not fit the configured
signal labels, e.g. ``k`` larger than the number of signals; it runs before any data is loaded).
``target(ctx, **params) -> pd.Series`` must be pure and causal: the value at bar t may use rows
up to t only (tests/strategies checks this for every discovered rule). It returns one value per
bar of ``ctx.close.index``: the target exposure, 0 .. max_leverage (values above are clipped by
the overlays; negative values are an error), NaN while warming up (= hold cash).

:class:`StrategyContext` (frozen) carries ``asset``, ``close`` (the asset close on the decision
calendar, point-in-time), ``states`` and ``readings`` (one column per signal label; states are
RISK_ON 0 / CAUTION 1 / RISK_OFF 2 / NaN = warming up or no opinion), ``calendar`` ("us" or "utc")
and ``periods_per_year`` (365 for "utc", 252 for "us").

Helpers a rule composes with live in :mod:`riskoff.strategies.compose`, the ``[[strategies]]``
tables in :mod:`riskoff.strategies.config`, and the driver that runs config -> signals -> rule ->
overlays for one asset in :mod:`riskoff.strategies.exposure`.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.util.errors import ConfigError, PluginError, RiskoffError, shown
from riskoff.util.params import Param, resolve_params
from riskoff.util.paths import plugin_folders
from riskoff.util.plugins import Registry, discover_registry

ENTRY_POINT_GROUP = "riskoff.strategies"

__all__ = ["StrategyContext", "StrategySpec", "StrategyRegistry", "discover_strategies", "spec_from_module",
           "run_rule", "target_values", "check_rule_params", "default_strategies", "default_signals"]


# --------------------------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrategyContext:
    """What a rule sees: one asset on one decision calendar, point-in-time."""

    asset: str
    close: pd.Series
    states: pd.DataFrame
    readings: pd.DataFrame
    calendar: str
    periods_per_year: int

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.states.columns)

    def truncate(self, end) -> "StrategyContext":
        """The context as it was known at bar ``end`` (all rows after it dropped)."""
        end = pd.Timestamp(end)
        return replace(self, close=self.close.loc[:end], states=self.states.loc[:end],
                       readings=self.readings.loc[:end])


@dataclass(frozen=True)
class StrategySpec:
    """A discovered strategy rule: its declaration and its pure ``target``."""

    name: str
    params: tuple[Param, ...]
    target: Callable[..., pd.Series] = field(compare=False)
    needs_signals: bool = True
    check: Callable[..., None] | None = field(default=None, compare=False)
    doc: str = ""
    origin: str = ""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def resolve(self, params: Mapping[str, Any] | None = None, owner: str | None = None) -> dict[str, Any]:
        return resolve_params(self.params, params, owner or f"strategy rule {self.name}")


def spec_from_module(module: Any, origin: str) -> StrategySpec | None:
    """Validate a module against the contract and wrap it; None for a signal module (one with a
    ``compute`` and no ``target``), which a folder of ``plugin_dirs`` may hold next to rules."""
    name = getattr(module, "NAME", None) or Path(origin).stem
    where = f"strategy module {origin}"
    target = getattr(module, "target", None)
    if not callable(target) and callable(getattr(module, "compute", None)):
        return None
    if not callable(target):
        raise PluginError(f"{where}: defines no target(ctx, **params) function")
    params = tuple(getattr(module, "PARAMS", ()))
    if not all(isinstance(p, Param) for p in params):
        raise PluginError(f"{where}: PARAMS must be a list of riskoff.Param")
    sig = inspect.signature(target)
    positional = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional and not any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):
        raise PluginError(f"{where}: target() must take the StrategyContext as its first argument")
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for p in params:
        if p.name not in sig.parameters and not takes_kwargs:
            raise PluginError(f"{where}: target() has no argument for declared parameter '{p.name}'")
    needs = getattr(module, "NEEDS_SIGNALS", True)
    if not isinstance(needs, bool):
        raise PluginError(f"{where}: NEEDS_SIGNALS must be True or False, not {needs!r}")
    check = getattr(module, "check", None)
    if check is not None and not callable(check):
        raise PluginError(f"{where}: check must be a function check(labels, **params)")
    return StrategySpec(name=name, params=params, target=target, needs_signals=needs, check=check,
                        doc=inspect.getdoc(module) or "", origin=origin)


class StrategyRegistry(Registry):
    """Rules found in the plug-in folders and entry points (``.strategies``), plus ``.errors``."""

    KIND = "strategy rule"

    @property
    def strategies(self) -> dict[str, StrategySpec]:
        return self.items


def discover_strategies(dirs: Sequence[Path] | None = None) -> StrategyRegistry:
    """All rules: built-ins, the project's ``strategies/`` and ``plugin_dirs`` (see riskoff.util.paths),
    ``dirs``, and the ``riskoff.strategies`` entry points."""
    return StrategyRegistry(*discover_registry(plugin_folders("strategies", dirs), ENTRY_POINT_GROUP, "strategies",
                                               spec_from_module, "strategy rule"))


def _folder_stamp(folders: Sequence[Path]) -> tuple:
    out = []
    for folder in folders:
        try:
            out.extend(sorted((str(p), p.stat().st_mtime_ns) for p in Path(folder).glob("*.py")))
        except OSError:
            continue
    return tuple(out)


@lru_cache(maxsize=4)
def _cached_strategies(_stamp: tuple) -> StrategyRegistry:
    return discover_strategies()


@lru_cache(maxsize=4)
def _cached_signals(_stamp: tuple):
    from riskoff.signals.contract import discover
    return discover()


def default_strategies() -> StrategyRegistry:
    """``discover_strategies()``, re-run only when a file in a scanned folder changes."""
    return _cached_strategies(_folder_stamp(plugin_folders("strategies")))


def default_signals():
    """``riskoff.signals.contract.discover()``, re-run only when a file in a scanned folder changes."""
    return _cached_signals(_folder_stamp(plugin_folders("signals")))


def run_rule(spec: StrategySpec, ctx: StrategyContext, params: Mapping[str, Any] | None = None, *,
             owner: str | None = None) -> pd.Series:
    """Resolve params, run the rule's ``check`` and ``target``, and check the output shape."""
    from riskoff.util.plugins import call_plugin

    owner = owner or f"strategy rule {spec.name}"
    p = spec.resolve(params, owner)
    check_rule_params(spec, ctx.labels, p, owner)
    out = call_plugin(owner, spec.origin, spec.target, ctx, **p)
    return pd.Series(target_values(spec, out, ctx.close.index, owner), index=out.index, name="target")


def target_values(spec: StrategySpec, out: Any, index: pd.Index, owner: str) -> np.ndarray:
    """A rule's ``target`` output checked (a Series on ``index`` of numbers, no negative or infinite
    exposure) and returned as a float64 array; every problem is a PluginError naming ``owner`` and
    the rule file."""
    if not isinstance(out, pd.Series):
        raise PluginError(f"{owner} ({spec.origin}): target must return a pandas Series, "
                          f"not {type(out).__name__}")
    if not out.index.equals(index):
        raise PluginError(f"{owner} ({spec.origin}): target's index differs from ctx.close.index "
                          f"({len(out)} rows for {len(index)} bars)")
    num = pd.to_numeric(out, errors="coerce")
    if (num.isna() & out.notna()).any():
        i = int(np.argmax((num.isna() & out.notna()).to_numpy()))
        raise PluginError(f"{owner} ({spec.origin}): exposure {shown(out.iloc[i])} on {out.index[i]:%Y-%m-%d} "
                          "is not a number")
    v = np.ascontiguousarray(num.to_numpy(dtype=np.float64))
    bad = (v < 0) | np.isinf(v)
    if bad.any():
        i = int(np.argmax(bad))
        raise PluginError(f"{owner} ({spec.origin}): exposure {shown(v[i])} on {out.index[i]:%Y-%m-%d} "
                          "is not in 0 .. max_leverage (or NaN)")
    return v


def check_rule_params(spec: StrategySpec, labels: Sequence[str], params: Mapping[str, Any], owner: str) -> None:
    """Run the rule's own ``check(labels, **params)``; its ValueError/TypeError/KeyError becomes a
    ConfigError naming ``owner`` (the sweep calls it once per parameter group, not per combination)."""
    if spec.check is None:
        return
    try:
        spec.check(tuple(labels), **params)
    except RiskoffError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{owner}: {exc}") from None
    except Exception as exc:
        raise PluginError(f"{owner} ({spec.origin}): check failed: {type(exc).__name__}: {exc}") from exc
