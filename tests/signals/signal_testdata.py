"""Shared helpers for the signal tests: the discovered registry and cached real-data frames.

Frames are loaded once per signal per session (2010 onwards, the signal's own calendar, required
plus optional inputs, stale cells simply NaN) so the suite stays fast on a small machine.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from riskoff.data.align import load
from riskoff.signals.contract import SignalSpec, discover
from riskoff.signals.evaluate import load_signal_data, run_signal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LEAKY_DIR = FIXTURES / "leaky_signals"
FRAME_START = "2010-01-01"
#: intraday signals read Binance bars, which start 2021-01-01
INTRADAY_START = "2021-01-01"


def is_intraday(name: str) -> bool:
    return registry().get(name).calendar not in ("us", "utc")


def frame_start(name: str) -> str:
    return INTRADAY_START if is_intraday(name) else FRAME_START


@lru_cache(maxsize=1)
def registry():
    return discover()


@lru_cache(maxsize=None)
def frame_for(name: str) -> pd.DataFrame:
    """The aligned real-data frame a shipped signal reads (2010 onwards; intraday ones from 2021)."""
    return load_signal_data(registry().get(name), frame_start(name), None, stale="allow")


@lru_cache(maxsize=None)
def output_for(name: str) -> pd.DataFrame:
    """The signal's default output on its own calendar over all history (the run_signal path)."""
    spec = registry().get(name)
    start = INTRADAY_START if is_intraday(name) else None
    return run_signal(spec, start=start, calendar=spec.calendar)


@lru_cache(maxsize=None)
def vix_frame() -> pd.DataFrame:
    return load(["VIX"], FRAME_START, None, calendar="us", stale="allow")


def spec_named(name: str) -> SignalSpec:
    return registry().get(name)


__all__ = ["registry", "frame_for", "output_for", "vix_frame", "spec_named", "LEAKY_DIR", "is_intraday",
           "INTRADAY_START"]
