"""Durations as time spans: the same rule means the same thing on daily and hourly bars."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskoff.evaluation.windows import parse_windows
from riskoff.strategies.config import StrategyConfig
from riskoff.strategies.overlays import Overlays
from riskoff.util.durations import is_span, span, to_bars
from riskoff.util.errors import ConfigError


@pytest.mark.parametrize("value, bar, bars", [
    ("5d", "1d", 5), ("5d", "1h", 120), ("5d", "5m", 1440), ("24h", "1d", 1), ("36h", "1h", 36),
    ("30m", "5m", 6), ("1w", "1d", 7), (12, "1h", 12), (3.0, "1d", 3),
])
def test_to_bars(value, bar, bars):
    assert to_bars(value, bar) == bars


@pytest.mark.parametrize("value, bar, message", [
    ("36h", "1d", "overlays.min_bars_out = '36h' is not a whole number of 1d bars"),
    ("7m", "5m", "is not a whole number of 5m bars"),
    ("five days", "1d", "expected a bar count or a time span such as '5d'"),
    (-1, "1d", "expected a bar count >= 0"),
    (True, "1d", "expected a bar count or a time span"),
])
def test_bad_durations_name_the_key(value, bar, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_bars(value, bar, key="overlays.min_bars_out")


def test_span_and_is_span():
    assert span("24h") == pd.Timedelta(days=1) and span("5m") == pd.Timedelta(minutes=5)
    assert is_span("2d") and not is_span(5) and not is_span("2 days")
    with pytest.raises(ConfigError, match="must be positive"):
        span("0h")


def test_overlays_keep_spans_until_the_clock_is_known():
    ov = Overlays(min_bars_out="2d", cooldown_bars="12h", stop_reentry_bars=5)
    assert ov.on_clock("1h") == Overlays(min_bars_out=48, cooldown_bars=12, stop_reentry_bars=5)
    with pytest.raises(ConfigError, match="cooldown_bars = '12h' is not a whole number of 1d bars"):
        ov.on_clock("1d")
    assert Overlays(min_bars_out="3d").on_clock("1d").min_bars_out == 3
    with pytest.raises(ConfigError, match="overlays.min_bars_out = 'soon'"):
        Overlays(min_bars_out="soon")


def test_rule_and_signal_parameters_convert_per_clock():
    cfg = StrategyConfig(name="t", rule="ma_timing", params={"window": "10d"},
                         overlays={"min_bars_out": "1d"})
    assert cfg.on_clock("1h").params["window"] == 240 and cfg.on_clock("1d").params["window"] == 10
    sig = StrategyConfig(name="s", rule="any_off", signals=[{"name": "crash_speed", "params": {"window": "2d"}}])
    assert sig.on_clock("1h").signals[0].params["window"] == 48
    # float parameters are not durations: a string there stays an error
    bad = StrategyConfig(name="b", rule="any_off", signals=[{"name": "crash_speed", "params": {"caution": "5d"}}])
    with pytest.raises(ConfigError, match="caution"):
        from riskoff.strategies.config import validate_config
        validate_config(bad.on_clock("1h"))


def test_windows_carry_utc_times():
    w = parse_windows({"windows": {"x": {"start": dt.date(2025, 10, 6), "trough": "2025-10-10T21:20Z",
                                         "end": dt.datetime(2025, 10, 13, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))}}},
                      "t")["x"]
    assert w.trough == pd.Timestamp("2025-10-10 21:20") and w.end == pd.Timestamp("2025-10-13 00:00")
    assert w.as_dict()["trough"] == "2025-10-10T21:20Z" and w.as_dict()["start"] == "2025-10-06"
    with pytest.raises(ConfigError, match="expected a date YYYY-MM-DD or a UTC time"):
        parse_windows({"windows": {"y": {"start": "2025-10-06", "trough": "10 Oct 21:20", "end": "2025-10-13"}}}, "t")
