"""Sanity rules on a series' observation stamps, shared by every loader (one rule, one place).

:func:`first_gap_over` is the gap rule: the first place where two consecutive stamps are further
apart than a series' declared maximum gap (``max_gap`` in the catalog; 6 h for Binance BTCUSDT
1h bars, whose real exchange outages last up to 5 h). Loaders turn a hit into a DataError naming
the file, series and row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["first_gap_over", "first_off_grid"]


def _ns(stamps: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(stamps).as_unit("ns").asi8)


def first_gap_over(stamps: pd.DatetimeIndex | np.ndarray, max_gap: pd.Timedelta) -> int | None:
    """Position of the first stamp that follows a step longer than ``max_gap`` (None if there is none).

    The step is measured stamp to stamp (a 1h series with one missing bar has a 2 h step).
    """
    ns = _ns(stamps)
    if len(ns) < 2:
        return None
    over = np.diff(ns) > pd.Timedelta(max_gap).value
    return int(np.argmax(over)) + 1 if over.any() else None


def first_off_grid(stamps: pd.DatetimeIndex | np.ndarray, bar: pd.Timedelta) -> int | None:
    """Position of the first stamp that is not a multiple of ``bar`` from midnight UTC (None if all are)."""
    ns = _ns(stamps)
    off = ns % pd.Timedelta(bar).value != 0
    return int(np.argmax(off)) if off.any() else None
