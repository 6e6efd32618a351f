"""Size limits checked before work starts, in exact integer arithmetic.

Every stage whose work grows with a config value (grid combinations, random-timing paths,
bootstrap resamples, a sweep chunk) estimates the memory and time it would take from Python
integers (which never overflow, unlike numpy's int64) and refuses, before any work, an estimate
above its limit. Each limit is a config key with a documented default; the error names the key,
the estimated memory and time, and how to proceed.
"""
from __future__ import annotations

from riskoff.util.errors import ConfigError

MB = 2**20


def human_bytes(n: int) -> str:
    """A byte count as a person reads it (512 MB, 2.9 TiB)."""
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MB", MB)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / MB:.2f} MB"


def human_seconds(s: float) -> str:
    """A duration as a person reads it (0.4 s, 12 min, 3.2 h, 41 days, 2.1e+06 years)."""
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    if s < 3 * 365 * 86400:
        return f"{s / 86400:.0f} days"
    return f"{s / (365 * 86400):.2g} years"


def estimate_text(memory: int, seconds: float) -> str:
    """``about 2.9 TiB of memory and 41 days`` for an estimate."""
    return f"about {human_bytes(memory)} of memory and {human_seconds(seconds)}"


def check_memory(what: str, memory: int, seconds: float, limit_mb: float, key: str) -> None:
    """Raise a ConfigError when ``memory`` (bytes, an exact integer) exceeds ``limit_mb``.

    Args:
        what: the work and where it is configured ("backtests/x.toml: the random-timing null
            (1e11 paths x 12 pairs x 2,900 bars)").
        memory: the estimated peak memory in bytes.
        seconds: the estimated time.
        limit_mb: the limit in force.
        key: the config key that raises the limit ("null.max_memory_mb").
    """
    if memory > limit_mb * MB:
        raise ConfigError(f"{what} would need {estimate_text(memory, seconds)}, above {key} = {limit_mb:g} MB; "
                          f"reduce it or raise {key}")
