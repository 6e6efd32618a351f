"""Tunable parameters declared as data.

Signals and strategies list their parameters as :class:`Param` objects, so validation, sweeps and
the `riskoff signals show` docs come from one declaration (the freqtrade/backtrader idea).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from riskoff.util.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Param:
    """One tunable parameter.

    Args:
        name: keyword passed to ``compute``.
        default: value used when the config does not set one.
        low, high: inclusive bounds for numbers (None = unbounded).
        choices: allowed values for categorical parameters.
        description: one line for docs and ``riskoff signals show``.
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    description: str = ""

    def validate(self, value: Any, owner: str) -> Any:
        """Return ``value`` coerced to the default's type, or raise ConfigError naming owner.param."""
        key = f"{owner}.{self.name}"
        if self.choices is not None:
            if value not in self.choices:
                raise ConfigError(f"{key} = {value!r} is not allowed; expected one of {list(self.choices)}")
            return value
        if isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{key} = {value!r}: expected true or false")
            return value
        if isinstance(self.default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{key} = {value!r}: expected a number")
            if isinstance(self.default, int) and not float(value).is_integer():
                raise ConfigError(f"{key} = {value!r}: expected a whole number")
            value = type(self.default)(value)
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise ConfigError(f"{key} = {value!r} is out of range; expected {self.range_text()}")
            return value
        return value

    def range_text(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if isinstance(self.default, bool):
            return "true or false"
        if not isinstance(self.default, (int, float)):
            return type(self.default).__name__
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{lo} .. {hi}"


def resolve_params(declared: Sequence[Param], given: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """Defaults overlaid with ``given``; unknown names and out-of-range values raise ConfigError."""
    given = dict(given or {})
    names = [p.name for p in declared]
    for key in given:
        if key not in names:
            raise ConfigError(f"{owner}: unknown parameter '{key}'{did_you_mean(key, names)}; "
                              f"declared: {', '.join(names) or 'none'}")
    return {p.name: p.validate(given[p.name], owner) if p.name in given else p.default for p in declared}
