"""Durations on a clock (riskoff.util.durations): float bar counts and spans that do not divide
the clock are errors, never rounded; spans are converted only for whole-number parameters.

References are written out by hand (a span's length in minutes over the bar's length in minutes).
"""
from __future__ import annotations

import pandas as pd
import pytest

from riskoff.util.durations import params_on_clock, span, to_bars
from riskoff.util.errors import ConfigError
from riskoff.util.params import Param


@pytest.mark.parametrize("value, bars", [(0.0, 0), (1.0, 1), (7.0, 7), (240.0, 240)])
def test_whole_float_bar_counts_are_bar_counts(value, bars):
    got = to_bars(value, "1h")
    assert got == bars and type(got) is int


@pytest.mark.parametrize("value", [2.5, 0.999, 1e-9, -1.0, -0.5, float("nan"), float("inf")])
def test_fractional_or_negative_float_bar_counts_are_errors(value):
    with pytest.raises(ConfigError, match="overlays.min_bars_out"):
        to_bars(value, "1h", key="overlays.min_bars_out")


@pytest.mark.parametrize("text, minutes", [
    ("1.5h", 90), ("0.5d", 720), ("2.5m", 2.5), ("90m", 90), ("90min", 90), ("1w", 7 * 1440), ("45s", 0.75),
])
def test_span_lengths(text, minutes):
    assert span(text) == pd.Timedelta(minutes=minutes)


@pytest.mark.parametrize("value, bar, bars", [
    ("1.5h", "30m", 3),     # 90 min / 30 min
    ("0.5d", "1h", 12),     # 720 / 60
    ("90m", "5m", 18),
    ("2.5h", "5m", 30),
    ("1.5d", "12h", 3),
    ("3d", "1d", 3),
    ("60m", "1h", 1),
])
def test_spans_that_divide_the_clock(value, bar, bars):
    assert to_bars(value, bar) == bars


@pytest.mark.parametrize("value, bar", [
    ("90m", "1h"),      # 1.5 bars
    ("1.5h", "1h"),
    ("0.5d", "1d"),     # half a session
    ("30m", "1h"),      # shorter than one bar
    ("2.5m", "5m"),
    ("1d", "7h"),       # 24 h / 7 h
    ("1w", "5d"),
    ("7m", "5m"),
    ("61m", "1h"),
    ("59m", "1h"),
])
def test_spans_that_do_not_divide_the_clock_are_errors(value, bar):
    with pytest.raises(ConfigError, match=r"= '.*' is not a whole number of .* bars"):
        to_bars(value, bar, key="strategy s.window")


def test_the_error_names_the_key_and_the_clock():
    with pytest.raises(ConfigError) as info:
        to_bars("90m", "1h", key="overlays.cooldown_bars")
    assert str(info.value).endswith("overlays.cooldown_bars = '90m' is not a whole number of 1h bars")


DECLARED = [Param("window", 20, low=1, high=10_000), Param("threshold", 0.5, low=0.0, high=1.0),
            Param("mode", "fast", choices=("fast", "slow")), Param("flag", False)]


def test_params_on_clock_converts_only_whole_number_parameters():
    out = params_on_clock(DECLARED, {"window": "1.5h", "threshold": 0.25, "mode": "slow"}, "30m", "strategy s")
    assert out == {"window": 3, "threshold": 0.25, "mode": "slow"}
    # a float parameter given a span is left alone (the range check then refuses the string)
    assert params_on_clock(DECLARED, {"threshold": "2h"}, "1h", "strategy s") == {"threshold": "2h"}
    # bar counts pass through, floats included
    assert params_on_clock(DECLARED, {"window": 12}, "1h", "strategy s") == {"window": 12}


def test_params_on_clock_refuses_spans_that_do_not_divide_the_clock():
    with pytest.raises(ConfigError, match=r"strategy s\.window = '90m' is not a whole number of 1h bars"):
        params_on_clock(DECLARED, {"window": "90m"}, "1h", "strategy s")
    with pytest.raises(ConfigError, match=r"strategy s\.window = '36h' is not a whole number of 1d bars"):
        params_on_clock(DECLARED, {"window": "36h"}, "1d", "strategy s")


def test_params_on_clock_before_the_clock_is_known():
    # syntax checked, the default stands in until the clock decides the bar count
    assert params_on_clock(DECLARED, {"window": "1.5h"}, None, "strategy s") == {"window": 20}
    with pytest.raises(ConfigError, match=r"strategy s\.window = 'soon'"):
        params_on_clock(DECLARED, {"window": "soon"}, None, "strategy s")
    assert params_on_clock(DECLARED, None, "1h", "strategy s") == {}
