"""Reading a run folder: annualisation fallbacks and column labels."""
from __future__ import annotations

import pandas as pd

from riskoff.reports.runfiles import (
    periods_per_year,
    read_summary,
    split_column,
    stats_frame,
)


def test_periods_per_year_sources(run_dir):
    stats = stats_frame(read_summary(run_dir))
    assert periods_per_year("SPY", stats) == 252
    assert periods_per_year("BTC-USD", stats) == 365
    # Without stats rows: a series with weekend observations is a 7-day asset.
    daily = pd.Series(1.0, index=pd.date_range("2024-01-01", periods=30, freq="D"))
    bdays = pd.Series(1.0, index=pd.bdate_range("2024-01-01", periods=30))
    assert periods_per_year("SOL-USD", None, daily) == 365
    assert periods_per_year("QQQ", None, bdays) == 252
    assert periods_per_year("ETH-USD") == 365


def test_split_column():
    assert split_column("vix_or_breadth/BTC-USD") == ("vix_or_breadth", "BTC-USD")
    assert split_column("a/b/SPY") == ("a/b", "SPY")  # the asset is after the last slash
    assert split_column("SPY") == ("SPY", "")
