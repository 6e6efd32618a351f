"""Config objects and [[strategies]] TOML: parsing, validation errors that name the key, events."""
from __future__ import annotations

import dataclasses
import re
import textwrap
import tomllib

import numpy as np
import pandas as pd
import pytest

import riskoff.strategies.config as strategy_mod
from riskoff.signals.contract import SignalRegistry, SignalSpec
from riskoff.strategies.config import (
    SignalRef,
    StrategyConfig,
    strategy_from_toml,
    validate_config,
)
from riskoff.strategies.contract import discover_strategies
from riskoff.strategies.exposure import exposure_events
from riskoff.strategies.overlays import Overlays
from riskoff.util.errors import ConfigError, PluginError
from riskoff.util.params import Param

WHERE = "backtests/selloffs.toml: strategies[3]"
RULES = discover_strategies()


def _compute(data, **_):  # never called: validation does not load data
    raise AssertionError("validation must not compute signals")


SIGNALS = SignalRegistry({
    "vix_mean_reversion": SignalSpec("vix_mean_reversion", ("VIX.close",),
                                     (Param("z_risk_off", 2.0, low=0.5, high=5.0),), _compute),
    "breadth_collapse": SignalSpec("breadth_collapse", ("S5FI",),
                                   (Param("collapse_level", 20.0, low=0.0, high=80.0),), _compute),
}, {})


def parse(table, where=WHERE, **kw):
    return strategy_from_toml(table, where, strategies=RULES, signals=SIGNALS, **kw)


def docstring_example() -> str:
    doc = strategy_mod.__doc__
    start = doc.index("\n    [[strategies]]") + 1
    block = doc[doc.rfind("\n", 0, start) + 1:]
    lines = []
    for line in block.splitlines():
        if not line.strip():
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_docstring_example_parses():
    tables = tomllib.loads(docstring_example())["strategies"]
    assert len(tables) == 1
    cfg = parse(tables[0])
    assert cfg.name == "vix_or_breadth" and cfg.rule == "any_off"
    assert cfg.signals == (SignalRef("vix_mean_reversion"),
                           SignalRef("breadth_collapse", {"collapse_level": 15}, "breadth_collapse"))
    assert cfg.labels == ("vix_mean_reversion", "breadth_collapse")
    assert cfg.params == {"off_exposure": 0.0}
    assert cfg.overlays == Overlays(min_bars_out=5, cooldown_bars=3)
    assert cfg.assets == ("SPY", "QQQ")


def test_docstring_example_validates_against_shipped_signals():
    from riskoff.signals.contract import discover
    shipped = discover()
    if not {"vix_mean_reversion", "breadth_collapse"} <= set(shipped.signals):
        pytest.skip("the example's signals are not in signals/ yet")
    table = tomllib.loads(docstring_example())["strategies"][0]
    assert strategy_from_toml(table, "docstring", strategies=RULES, signals=shipped).rule == "any_off"


def test_configs_are_frozen_and_hashable():
    cfg = parse({"name": "x", "rule": "k_of_n", "params": {"k": 2},
                 "signals": ["vix_mean_reversion", {"name": "vix_mean_reversion", "label": "vix_fast",
                                                    "params": {"z_risk_off": 1.5}}]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rule = "any_off"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.overlays.min_bars_out = 3
    same = parse({"name": "x", "rule": "k_of_n", "params": {"k": 2},
                  "signals": ["vix_mean_reversion", {"label": "vix_fast", "name": "vix_mean_reversion",
                                                     "params": {"z_risk_off": 1.5}}]})
    assert cfg == same and hash(cfg) == hash(same) and len({cfg, same}) == 1
    assert cfg.labels == ("vix_mean_reversion", "vix_fast")


@pytest.mark.parametrize("table, key, suggestion", [
    ({"name": "s", "rule": "any_off", "sginals": ["vix_mean_reversion"]}, "sginals", "signals"),
    ({"name": "s", "rule": "any_off", "signals": ["vix_mean_reversion"], "overlay": {}}, "overlay", "overlays"),
    ({"name": "s", "rule": "any_off", "signals": ["vix_mean_reversion"],
      "overlays": {"min_bar_out": 5}}, "min_bar_out", "min_bars_out"),
    ({"name": "s", "rule": "any_off", "signals": [{"name": "vix_mean_reversion", "param": {}}]}, "param", "params"),
])
def test_unknown_keys_are_named_with_suggestion(table, key, suggestion):
    with pytest.raises(ConfigError) as err:
        parse(table)
    msg = str(err.value)
    assert WHERE in msg and f"'{key}'" in msg and f"did you mean '{suggestion}'" in msg


def test_missing_and_mistyped_keys():
    with pytest.raises(ConfigError, match=re.escape(WHERE) + r".*missing required key 'rule'"):
        parse({"name": "s"})
    with pytest.raises(ConfigError, match=r"overlays.*expected a table"):
        parse({"name": "s", "rule": "buy_and_hold", "overlays": 3})
    with pytest.raises(ConfigError, match=r"signals\[1\]"):
        parse({"name": "s", "rule": "any_off", "signals": ["vix_mean_reversion", 7]})


def test_unknown_rule_and_signal_names():
    with pytest.raises(PluginError, match=re.escape(WHERE) + r".*unknown strategy rule 'any_of'.*did you mean 'any_off'"):
        parse({"name": "s", "rule": "any_of", "signals": ["vix_mean_reversion"]})
    with pytest.raises(PluginError, match=r"unknown signal 'vix_mean_revert'.*did you mean 'vix_mean_reversion'"):
        parse({"name": "s", "rule": "any_off", "signals": ["vix_mean_revert"]})


def test_out_of_range_params_name_strategy_param_and_range():
    with pytest.raises(ConfigError) as err:
        parse({"name": "my_strat", "rule": "any_off", "signals": ["vix_mean_reversion"],
               "params": {"off_exposure": -0.5}})
    msg = str(err.value)
    assert "my_strat" in msg and "off_exposure" in msg and "0 .. 10" in msg and WHERE in msg
    with pytest.raises(ConfigError, match=r"my_strat.*signal breadth_collapse.*collapse_level.*0 .. 80"):
        parse({"name": "my_strat", "rule": "any_off",
               "signals": [{"name": "breadth_collapse", "params": {"collapse_level": 150}}]})
    with pytest.raises(ConfigError, match=r"my_strat.*unknown parameter 'of_exposure'.*did you mean 'off_exposure'"):
        parse({"name": "my_strat", "rule": "any_off", "signals": ["vix_mean_reversion"],
               "params": {"of_exposure": 0.5}})
    with pytest.raises(ConfigError, match=r"my_strat.*overlays\.trailing_stop = 2\.0 is out of range"):
        parse({"name": "my_strat", "rule": "buy_and_hold", "overlays": {"trailing_stop": 2.0}})
    with pytest.raises(ConfigError, match=r"my_strat.*k = 3 but only 2 signal"):
        parse({"name": "my_strat", "rule": "k_of_n", "params": {"k": 3},
               "signals": ["vix_mean_reversion", "breadth_collapse"]})


def test_signal_rules_need_signals_and_labels_are_unique():
    with pytest.raises(ConfigError, match="at least one signal"):
        parse({"name": "s", "rule": "any_off"})
    assert parse({"name": "s", "rule": "ma_timing"}).signals == ()
    with pytest.raises(ConfigError, match=r"label\(s\) \['vix_mean_reversion'\] appear twice"):
        parse({"name": "s", "rule": "any_off", "signals": ["vix_mean_reversion", "vix_mean_reversion"]})


def test_validate_is_optional_and_python_configs_validate_too():
    cfg = strategy_from_toml({"name": "s", "rule": "no_such_rule"}, WHERE, validate=False)
    assert cfg.rule == "no_such_rule"
    with pytest.raises(PluginError, match="no_such_rule"):
        validate_config(cfg, strategies=RULES, signals=SIGNALS)
    cfg = StrategyConfig("py", "reenter_when", signals=("vix_mean_reversion", "breadth_collapse"),
                         params={"signals": ["vix_mean_reversion", "breadth"]})
    with pytest.raises(ConfigError, match=r"'breadth'.*did you mean 'breadth_collapse'"):
        validate_config(cfg, strategies=RULES, signals=SIGNALS)


def test_exposure_events_lists_every_change_with_states():
    idx = pd.date_range("2022-01-03", periods=7, freq="B", name="date")
    exposure = pd.Series([0.0, 1.0, 1.0, 0.5, 0.5, 0.0, 1.0], index=idx)
    states = pd.DataFrame({"vix": [np.nan, 0, 0, 1, 2, 2, 0], "breadth": [0, 0, 0, 2, 2, 2, 0]}, index=idx,
                          dtype="float64")
    ev = exposure_events(exposure, states)
    changes = [i for i in range(len(exposure)) if exposure.iloc[i] != (exposure.iloc[i - 1] if i else 0.0)]
    assert list(ev["date"]) == list(idx[changes])
    assert list(ev["old"]) == [0.0, 1.0, 0.5, 0.0] and list(ev["new"]) == [1.0, 0.5, 0.0, 1.0]
    row = ev.iloc[1]
    assert row["states"] == "vix=caution, breadth=risk-off" and row["vix"] == "caution"
    assert ev.iloc[2]["states"] == "vix=risk-off, breadth=risk-off"
    # the very first bar starts from cash: a first entry on bar 0 is an event, with NaN = no opinion
    ev0 = exposure_events(exposure.iloc[1:] * 0 + 1.0, states.iloc[1:].assign(vix=np.nan))
    assert len(ev0) == 1 and ev0.iloc[0]["old"] == 0.0 and "vix=no-opinion" in ev0.iloc[0]["states"]
