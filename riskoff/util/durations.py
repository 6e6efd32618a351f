"""Durations as time spans: "5d", "24h", "30m" read once and converted to bars per clock.

Rule and overlay durations (windows, ``min_bars_out``, ``cooldown_bars``, ``reentry_bars`` ...)
accept either a bar count (an int, kept as is) or a time span string, so that the same rule means
the same thing on daily and hourly bars: ``"5d"`` is 5 bars on a daily clock, 120 on an hourly
clock and 1,440 on a 5-minute clock. On daily clocks a day is one bar (one NYSE session on the US
clock, one UTC day on the crypto clock), so spans there must be whole days. A span that is not a
whole number of bars is an error, never silently rounded.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskoff.util.errors import ConfigError

__all__ = ["span", "to_bars", "is_span", "params_on_clock", "parse_duration", "DAY"]

DAY = pd.Timedelta(days=1)
_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)\s*$")
_UNITS = {"w": "W", "d": "D", "h": "h", "m": "min", "min": "min", "s": "s"}


def span(text: str) -> pd.Timedelta:
    """A time span such as "5d", "24h", "5m" (minutes) or "1w" as a positive Timedelta."""
    m = _SPAN_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ConfigError(f"{text!r} is not a time span; expected a number and a unit such as "
                          "'5d', '24h', '30m' (minutes) or '1w'")
    td = pd.Timedelta(float(m.group(1)), unit=_UNITS[m.group(2)])
    if td <= pd.Timedelta(0):
        raise ConfigError(f"{text!r}: a time span must be positive")
    return td


def to_bars(value: Any, bar: str | pd.Timedelta = "1d", *, key: str = "duration") -> int:
    """Bars in ``value`` on a clock of ``bar`` length: ints pass through, spans are divided by the bar.

    ``key`` names the setting in the error message (e.g. "overlays.min_bars_out").
    """
    if isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r}: expected a bar count or a time span such as '5d'")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{key} = {value}: expected a bar count >= 0")
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key} = {value!r}: expected a bar count or a time span such as '5d' or '24h'")
    try:
        td = span(value)
    except ConfigError:
        raise ConfigError(f"{key} = {value!r}: expected a bar count or a time span such as '5d', '24h' or "
                          "'30m' (minutes)") from None
    step = span(bar) if isinstance(bar, str) else pd.Timedelta(bar)
    n, rest = divmod(td, step)
    if rest != pd.Timedelta(0):
        raise ConfigError(f"{key} = {value!r} is not a whole number of {_fmt(step)} bars")
    return int(n)


def _fmt(step: pd.Timedelta) -> str:
    secs = int(step.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def is_span(value: Any) -> bool:
    """True for a time-span string ("5d", "24h"); False for bar counts and anything else."""
    if not isinstance(value, str):
        return False
    try:
        span(value)
    except ConfigError:
        return False
    return True


def params_on_clock(declared, given: Mapping[str, Any] | None, bar: str | pd.Timedelta | None,
                    owner: str) -> dict[str, Any]:
    """``given`` with every time span for a whole-number parameter converted to bars of ``bar``.

    ``declared`` are the plug-in's ``riskoff.Param`` objects. With ``bar=None`` (checking a config
    before its clock is known) a span's syntax is checked and the parameter's default stands in
    for it, so the range check of the other values can run.
    """
    out = dict(given or {})
    ints = {p.name: p for p in declared if p.choices is None and isinstance(p.default, int)
            and not isinstance(p.default, bool)}
    for name, value in out.items():
        if name in ints and isinstance(value, str):
            key = f"{owner}.{name}"
            if bar is None:
                to_bars(value, "1s", key=key)  # syntax only: the clock decides the bar count later
                out[name] = ints[name].default
            else:
                out[name] = to_bars(value, bar, key=key)
    return out


# Sanity-rule limits (max_gap = '6h') are read in nanoseconds, fractions allowed.
_UNITS_NS = {"m": 60 * 10**9, "h": 3600 * 10**9, "d": 86_400 * 10**9}


def parse_duration(text: str, key: str) -> int:
    """A duration like "6h", "30m" or "2d" in nanoseconds; a ConfigError naming ``key`` otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"{key} = {text!r}; expected a duration like \"6h\", \"30m\" or \"2d\"")
    return int(float(m.group(1)) * _UNITS_NS[m.group(2)])
