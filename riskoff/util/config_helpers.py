"""Helpers every config parser shares (run, strategy, windows, sweep): one implementation each.

Each check raises a :class:`~riskoff.util.errors.ConfigError` whose message starts with ``where`` (the
file and key, e.g. ``"backtests/x.toml: [run].start"``) and says what was expected.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from riskoff.util.errors import ConfigError, did_you_mean


def unknown_keys(table: Mapping, allowed: Sequence[str], where: str) -> None:
    """Raise a ConfigError for the first key of ``table`` that is not in ``allowed`` (with a suggestion)."""
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{key}'{did_you_mean(str(key), allowed)}; "
                              f"expected one of: {', '.join(allowed)}")


def parse_table(value: Any, where: str, example: str) -> Mapping:
    """``value`` when it is a TOML table, else a ConfigError naming ``where`` with ``example``."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} = {value!r}; expected a table, e.g. {example}")
    return value


def parse_names(value: Any, where: str, example: str) -> list[str]:
    """A list of names (non-empty strings); one string is one name, never its letters."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} = {value!r}; expected a list of names, e.g. {example}")
    return value


def parse_date(value: Any, where: str) -> "pd.Timestamp":  # noqa: F821 (pandas imported lazily)
    """A calendar date (midnight Timestamp) from a TOML date/datetime or an ISO string.

    A datetime keeps only its date; a string may carry an ISO time after the date ("2020-03-01T00:00").
    """
    import pandas as pd

    if isinstance(value, (dt.date, dt.datetime)):
        return pd.Timestamp(value).normalize()
    text = str(value)
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"{where} = {value!r}: expected a date YYYY-MM-DD") from None


def parse_instant(value: Any, where: str) -> "pd.Timestamp":  # noqa: F821
    """A date, or an instant with a time of day in UTC (naive Timestamp): 2025-10-10,
    "2025-10-10T21:20Z", or a TOML datetime (with an offset it is converted to UTC; without one it is
    read as UTC). Sell-off windows use it: a trough may carry its UTC time."""
    import pandas as pd

    if isinstance(value, dt.datetime):
        ts = pd.Timestamp(value)
        return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    text = str(value)
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        pass
    try:
        ts = pd.Timestamp(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ConfigError(f"{where} = {value!r}: expected a date YYYY-MM-DD or a UTC time "
                          "YYYY-MM-DDTHH:MMZ") from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def parse_number(value: Any, where: str, *, low: float | None = None, integer: bool = False) -> float:
    """A finite number (``int`` when ``integer``), at least ``low`` when given; booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r}: expected a number")
    if integer and not float(value).is_integer():
        raise ConfigError(f"{where} = {value!r}: expected a whole number")
    if low is not None and value < low:
        raise ConfigError(f"{where} = {value!r}: expected a number >= {low:g}")
    return int(value) if integer else float(value)


def check_choice(value: Any, choices: Sequence[Any], key: str) -> Any:
    """``value`` if it is one of ``choices``, else a ConfigError naming ``key``."""
    if value not in choices:
        raise ConfigError(f"{key} = {value!r}; expected {' or '.join(repr(c) for c in choices)}")
    return value


def jsonable(obj: Any) -> Any:
    """``obj`` with dates as ISO strings, numpy scalars as Python numbers and tuples as lists (for JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):  # pandas Timestamps are datetimes
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def freeze(obj: Any) -> Any:
    """A hashable, order-independent form of nested params (for cache keys, hashing and grid values).

    Mappings become sorted tuples of (key, value) pairs, lists and tuples become tuples and sets
    sorted tuples, recursively.
    """
    if isinstance(obj, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(v) for v in obj)
    if isinstance(obj, (set, frozenset)):
        return tuple(sorted(freeze(v) for v in obj))
    return obj
