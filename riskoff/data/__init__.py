"""The data layer: catalog, sources, validation and point-in-time alignment.

    >>> from riskoff.data import load
    >>> frame = load(["SPY", "VIX", "SOFR"], "2020-01-01", "2020-12-31", calendar="us")
"""
from riskoff.data.align import daily_funding, load, trading_calendar
from riskoff.data.calendars import decision_times
from riskoff.data.catalog import SeriesSpec, get_spec, load_catalog
from riskoff.data.sources import fingerprint, read_series, series_path

__all__ = ["load", "load_catalog", "get_spec", "SeriesSpec", "read_series", "series_path", "fingerprint",
           "daily_funding", "decision_times", "trading_calendar"]
