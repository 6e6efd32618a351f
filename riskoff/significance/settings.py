"""Settings of the significance layer (light: read by every config parse) and the engine inputs
the null re-runs.

Configured in a run config (defaults shown)::

    [null]                  # matched random-timing null (riskoff.significance.null)
    enabled = true
    paths = 1000            # random paths per strategy x asset
    seed = 0

    [bootstrap]             # intervals for the CAGR / Sharpe difference vs buy & hold
    enabled = true
    reps = 1000
    confidence = 0.95
    seed = 0
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskoff.engine.account import Costs
from riskoff.util.config_helpers import unknown_keys
from riskoff.util.errors import ConfigError

__all__ = ["SIGNIFICANT", "SignificanceSettings", "parse_significance", "Market"]

#: a p-value at or below this marks a difference as distinguishable from random timing
SIGNIFICANT = 0.05


@dataclass(frozen=True)
class SignificanceSettings:
    """The ``[null]`` and ``[bootstrap]`` tables of a run config."""

    null: bool = True
    paths: int = 1000
    null_seed: int = 0
    bootstrap: bool = True
    reps: int = 1000
    confidence: float = 0.95
    bootstrap_seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"null": {"enabled": self.null, "paths": self.paths, "seed": self.null_seed},
                "bootstrap": {"enabled": self.bootstrap, "reps": self.reps, "confidence": self.confidence,
                              "seed": self.bootstrap_seed}}


def _whole(table: Mapping, key: str, default: int, low: int, where: str) -> int:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ConfigError(f"{where}.{key} = {v!r}; expected a whole number >= {low}")
    return v


def _flag(table: Mapping, where: str) -> bool:
    v = table.get("enabled", True)
    if not isinstance(v, bool):
        raise ConfigError(f"{where}.enabled = {v!r}; expected true or false")
    return v


def parse_significance(doc: Mapping[str, Any], source: str) -> SignificanceSettings:
    """Settings from a parsed config's ``[null]`` and ``[bootstrap]`` tables (both optional)."""
    out = {}
    for name, keys in (("null", ("enabled", "paths", "seed")), ("bootstrap", ("enabled", "reps", "confidence", "seed"))):
        table = doc.get(name, {})
        where = f"{source}: {name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: expected a table [{name}]")
        unknown_keys(table, keys, where)
        out[name] = table
    conf = out["bootstrap"].get("confidence", 0.95)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.5 <= conf < 1:
        raise ConfigError(f"{source}: bootstrap.confidence = {conf!r}; expected a number in [0.5, 1), e.g. 0.95")
    return SignificanceSettings(null=_flag(out["null"], f"{source}: null"),
                                paths=_whole(out["null"], "paths", 1000, 19, f"{source}: null"),
                                null_seed=_whole(out["null"], "seed", 0, 0, f"{source}: null"),
                                bootstrap=_flag(out["bootstrap"], f"{source}: bootstrap"),
                                reps=_whole(out["bootstrap"], "reps", 1000, 100, f"{source}: bootstrap"),
                                confidence=float(conf),
                                bootstrap_seed=_whole(out["bootstrap"], "seed", 0, 0, f"{source}: bootstrap"))


@dataclass(frozen=True)
class Market:
    """What the engine ran one asset with: the null re-runs its paths with exactly these."""

    close: pd.Series
    open: pd.Series | None
    cash_rate: pd.Series | None
    costs: Costs
    fill: str
