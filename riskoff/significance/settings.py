"""Settings of the significance layer (light: read by every config parse) and the engine inputs
the null re-runs.

Configured in a run config (defaults shown)::

    [null]                  # matched random-timing null (riskoff.significance.null)
    enabled = true
    paths = 1000            # random paths per strategy x asset
    seed = 0
    max_memory_mb = 2048    # refuse, before the run, paths x pairs x bars estimated above this

    [bootstrap]             # intervals for the CAGR / Sharpe difference vs buy & hold
    enabled = true
    reps = 1000
    confidence = 0.95
    seed = 0
    max_memory_mb = 2048    # refuse, before the run, resamples x bars estimated above this

The estimates (:meth:`SignificanceSettings.check_size`) are exact integers: the null keeps, per path,
every pair's figures (windows + 2 numbers) and one pair's draws at a time (at most one episode per
two bars, 16 bytes each); the bootstraps hold one asset's (resamples, bars) index matrix and every
pair's (resamples, 2) statistics. Times use the rates measured by ``benchmarks/bench_null.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskoff.engine.account import Costs
from riskoff.util.limits import check_memory

__all__ = ["SIGNIFICANT", "SignificanceSettings", "parse_significance", "Market"]

#: a p-value at or below this marks a difference as distinguishable from random timing
SIGNIFICANT = 0.05
#: default limits of the estimated memory (MB) of the null and of the bootstraps
DEFAULT_MAX_MEMORY_MB = 2048
#: path-bars and resample-bars a second (benchmarks/bench_null.py: 46 pairs x 1,000 x ~2,900 bars,
#: null 0.82 s and bootstraps 0.45 s on two threads), rounded down
NULL_BARS_PER_S = 100_000_000
BOOTSTRAP_BARS_PER_S = 200_000_000


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
    null_max_memory_mb: float = DEFAULT_MAX_MEMORY_MB
    bootstrap_max_memory_mb: float = DEFAULT_MAX_MEMORY_MB

    def as_dict(self) -> dict[str, Any]:
        return {"null": {"enabled": self.null, "paths": self.paths, "seed": self.null_seed},
                "bootstrap": {"enabled": self.bootstrap, "reps": self.reps, "confidence": self.confidence,
                              "seed": self.bootstrap_seed}}

    def check_size(self, *, pairs: int, bars: int, windows: int, source: str) -> None:
        """Refuse, before any work, a null or bootstrap whose estimated memory exceeds its limit
        (``pairs`` strategy x asset pairs of at most ``bars`` bars each, ``windows`` sell-off windows)."""
        if self.null:
            memory = self.paths * (pairs * (windows + 2) + bars) * 8
            check_memory(f"{source}: the random-timing null ({self.paths:,} paths x {pairs:,} pairs x up to "
                         f"{bars:,} bars)", memory, self.paths * pairs * bars / NULL_BARS_PER_S,
                         self.null_max_memory_mb, "null.max_memory_mb")
        if self.bootstrap:
            memory = self.reps * (bars * 8 + pairs * 16)
            check_memory(f"{source}: the bootstrap ({self.reps:,} resamples x {pairs:,} pairs x up to {bars:,} bars)",
                         memory, self.reps * pairs * bars / BOOTSTRAP_BARS_PER_S, self.bootstrap_max_memory_mb,
                         "bootstrap.max_memory_mb")


def parse_significance(null: "NullTable", bootstrap: "BootstrapTable") -> SignificanceSettings:  # noqa: F821
    """Settings from a config's validated ``[null]`` and ``[bootstrap]`` tables
    (:mod:`riskoff.significance.schema`: defaults, types and ranges)."""
    return SignificanceSettings(null=null.enabled, paths=null.paths, null_seed=null.seed,
                                bootstrap=bootstrap.enabled, reps=bootstrap.reps, confidence=bootstrap.confidence,
                                bootstrap_seed=bootstrap.seed, null_max_memory_mb=null.max_memory_mb,
                                bootstrap_max_memory_mb=bootstrap.max_memory_mb)


@dataclass(frozen=True)
class Market:
    """What the engine ran one asset with: the null re-runs its paths with exactly these."""

    close: pd.Series
    open: pd.Series | None
    cash_rate: pd.Series | None
    costs: Costs
    fill: str
