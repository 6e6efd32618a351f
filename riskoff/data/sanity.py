"""Sanity rules on a series' observation stamps, shared by every loader (one rule, one place).

:func:`gaps_over` is the gap rule: the places where two consecutive stamps are further apart
than a series' declared maximum gap (``max_gap`` in the catalog; 6 h for Binance BTCUSDT
1h bars, whose real exchange outages last up to 5 h). Loaders turn a hit into a DataError naming
the file, series and row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["gaps_over", "first_off_grid"]


def _ns(stamps: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(stamps).as_unit("ns").asi8)


def gaps_over(stamps: pd.DatetimeIndex | np.ndarray, max_gap_ns: int) -> np.ndarray:
    """Positions of the stamps that follow a step (stamp to stamp) longer than ``max_gap_ns``:
    the gap rule for time-stamped series (a 1h series missing one bar has a 2 h step)."""
    ns = _ns(stamps)
    return np.flatnonzero(np.diff(ns) > max_gap_ns) + 1 if len(ns) > 1 else np.array([], dtype=np.int64)


def first_off_grid(stamps: pd.DatetimeIndex | np.ndarray, bar: pd.Timedelta) -> int | None:
    """Position of the first stamp that is not a multiple of ``bar`` from midnight UTC (None if all are)."""
    ns = _ns(stamps)
    off = ns % pd.Timedelta(bar).value != 0
    return int(np.argmax(off)) if off.any() else None
