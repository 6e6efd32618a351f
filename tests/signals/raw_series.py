"""The snapshot's series files read directly with pandas: an independent reference for the signal tests
(no riskoff loader, no lags applied), so a test can say "the bar of Thursday t shows the file's
value dated Wednesday t-1"."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from riskoff.util.paths import resolve_data_dir


@lru_cache(maxsize=None)
def raw(family: str, sid: str, column: str = "value") -> pd.Series:
    path = resolve_data_dir(None)[0] / "series" / family / f"{sid}.csv"
    return pd.read_csv(path, parse_dates=["date"], index_col="date")[column]


__all__ = ["raw"]
