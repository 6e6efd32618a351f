"""The config parsing helpers shared by the run, strategy, windows and sweep parsers."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from riskoff.util.config_helpers import (
    check_choice,
    freeze,
    jsonable,
    parse_date,
    parse_number,
    unknown_keys,
)
from riskoff.util.errors import ConfigError


def test_unknown_keys_names_the_key_suggests_and_lists_the_allowed_ones():
    unknown_keys({"start": 1, "end": 2}, ("start", "end"), "f.toml: [run]")
    with pytest.raises(ConfigError) as e:
        unknown_keys({"start": 1, "strat": 2}, ("start", "end"), "f.toml: [run]")
    assert str(e.value) == ("f.toml: [run]: unknown key 'strat' (did you mean 'start'?); "
                            "expected one of: start, end")


@pytest.mark.parametrize("value", [dt.date(2020, 3, 9), dt.datetime(2020, 3, 9, 15, 30), "2020-03-09",
                                   "2020-03-09T15:30:00", "2020-03-09 00:00", pd.Timestamp("2020-03-09 08:00")])
def test_parse_date_gives_the_calendar_date_at_midnight(value):
    assert parse_date(value, "k") == pd.Timestamp(2020, 3, 9)


@pytest.mark.parametrize("value", ["2020-13-01", "09/03/2020", "2020-03-09xyz", "", 2020])
def test_parse_date_refuses_what_is_not_an_iso_date(value):
    with pytest.raises(ConfigError, match=r"^f: \[run\].start = .*expected a date YYYY-MM-DD"):
        parse_date(value, "f: [run].start")


def test_parse_number_checks_type_finiteness_wholeness_and_lower_bound():
    assert parse_number(3, "k") == 3.0 and isinstance(parse_number(3, "k"), float)
    assert parse_number(4.0, "k", integer=True) == 4 and isinstance(parse_number(4.0, "k", integer=True), int)
    assert parse_number(0, "k", low=0) == 0
    for bad, kw, msg in [(True, {}, "expected a number"), ("3", {}, "expected a number"),
                         (math.nan, {}, "expected a number"), (math.inf, {}, "expected a number"),
                         (2.5, {"integer": True}, "expected a whole number"),
                         (-1, {"low": 0}, "expected a number >= 0")]:
        with pytest.raises(ConfigError, match=f"^k = .*{msg}"):
            parse_number(bad, "k", **kw)


def test_check_choice_names_the_key_and_the_choices():
    assert check_choice("a", ("a", "b"), "k") == "a"
    with pytest.raises(ConfigError, match=r"^k = 'c'; expected 'a' or 'b'$"):
        check_choice("c", ("a", "b"), "k")


def test_jsonable_output_survives_json_and_keeps_values():
    obj = {1: (np.float64(0.5), np.int64(3)), "d": dt.date(2020, 1, 2), "t": pd.Timestamp("2020-01-02 03:04"),
           "n": [{"x": np.bool_(True)}]}
    assert json.loads(json.dumps(jsonable(obj))) == {
        "1": [0.5, 3], "d": "2020-01-02", "t": "2020-01-02T03:04:00", "n": [{"x": True}]}


def test_freeze_is_hashable_and_ignores_mapping_and_set_order():
    a = {"b": [1, {"y": 2, "x": {3, 1}}], "a": (1,)}
    b = {"a": [1], "b": (1, {"x": {1, 3}, "y": 2})}
    assert freeze(a) == freeze(b) and hash(freeze(a)) == hash(freeze(b))
    assert freeze(a) == (("a", (1,)), ("b", (1, (("x", (1, 3)), ("y", 2)))))
    assert freeze({"a": [1, 2]}) != freeze({"a": [2, 1]})   # list order matters
