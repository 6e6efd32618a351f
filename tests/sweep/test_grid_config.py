"""Sweep configs: grid keys, values and ranges are validated against the declared parameters."""
from __future__ import annotations

import pandas as pd
import pytest

from riskoff.sweep import (  # noqa: F401
    combo_params,
    combo_strategy,
    load_sweep_config,
    parse_sweep_config,
    stability_scores,
)
from riskoff.util.errors import ConfigError
from tests.sweep.conftest import make_config, make_doc

VIX = {"name": "vix", "rule": "any_off", "signals": ["vix_mean_reversion"]}
TWO = {"name": "two", "rule": "k_of_n", "signals": ["vix_mean_reversion", "ma_break"]}


def err(grid, match, **kw):
    with pytest.raises(ConfigError, match=match):
        make_config(grid, **kw)


def test_ranges_lists_and_scalars_expand_in_order():
    cfg = make_config({"signal.vix_mean_reversion.entry_z": {"start": 1.0, "stop": 3.0, "step": 0.25},
                       "signal.vix_mean_reversion.window": 20,
                       "overlays.min_bars_out": [0, 5, 10]}, strategy=VIX)
    dims = {d.key: d.values for d in cfg.dims}
    assert dims["signal.vix_mean_reversion.entry_z"] == (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0)
    assert dims["signal.vix_mean_reversion.window"] == (20,)
    assert cfg.n_combos == 9 * 1 * 3
    # combination order: signal dims, then rule, then overlays; the last one varies fastest
    assert combo_params(cfg, 0) == {"signal.vix_mean_reversion.entry_z": 1.0, "signal.vix_mean_reversion.window": 20,
                                    "overlays.min_bars_out": 0}
    assert combo_params(cfg, 4)["overlays.min_bars_out"] == 5
    assert combo_params(cfg, 4)["signal.vix_mean_reversion.entry_z"] == 1.25
    s = combo_strategy(cfg, 4)
    assert s.signals[0].params == {"entry_z": 1.25, "window": 20} and s.overlays.min_bars_out == 5


def test_integer_range_and_float_rounding():
    cfg = make_config({"rule.window": {"start": 20, "stop": 100, "step": 40},
                       "overlays.trailing_stop": {"start": 0.0, "stop": 0.3, "step": 0.1}})
    vals = {d.key: d.values for d in cfg.dims}
    assert vals["rule.window"] == (20, 60, 100) and all(isinstance(v, int) for v in vals["rule.window"])
    assert vals["overlays.trailing_stop"] == (0.0, 0.1, 0.2, 0.3)


@pytest.mark.parametrize("grid,match", [
    ({"signals.vix_mean_reversion.entry_z": [2.0]}, r"did you mean 'signal'"),
    ({"signal.vix_mean_revert.entry_z": [2.0]},
     r"no signal labelled 'vix_mean_revert'.*did you mean 'vix_mean_reversion'"),
    ({"signal.vix_mean_reversion.entry": [2.0]}, r"declares no parameter 'entry'.*did you mean 'entry_z'"),
    ({"signal.vix_mean_reversion.entry_z": [2.0, 9.0]}, r"entry_z = 9.0 is out of range; expected 0.5 .. 6"),
    ({"signal.vix_mean_reversion.window": [20.5]}, r"expected a whole number"),
    ({"signal.vix_mean_reversion.use_term_structure": ["yes"]}, r"is not allowed"),
    ({"rule.off_exposur": [0.0]}, r"rule any_off declares no parameter 'off_exposur'.*did you mean 'off_exposure'"),
    ({"overlays.min_bar_out": [1]}, r"no overlay 'min_bar_out'.*did you mean 'min_bars_out'"),
    ({"overlays.trailing_stop": [1.5]}, r"trailing_stop = 1.5 is out of range"),
    ({"overlays.min_bars_out": [2.5]}, r"expected a whole number"),
    ({"overlays.min_bars_out": [1, 2, 1]}, r"appear twice"),
    ({"signal.vix_mean_reversion.entry_z": []}, r"entry_z = \[\]; expected at least 1 value"),
    ({"signal.vix_mean_reversion.entry_z": {"start": 3.0, "stop": 1.0, "step": 0.5}}, r"stop 1.0 is below start 3.0"),
    ({"signal.vix_mean_reversion.entry_z": {"start": 1.0, "stop": 2.0, "step": 0}}, r"step = 0.*> 0"),
    ({"signal.vix_mean_reversion.entry_z": {"start": 1.0, "stop": 2.0}}, r"entry_z: missing required key 'step'"),
    ({"signal.vix_mean_reversion.entry_z": {"start": 1.0, "stop": 2.0, "step": 0.5, "num": 3}},
     r"unknown key 'num'"),
    ({"signal.vix_mean_reversion.window": {"start": 10, "stop": 30, "step": 2.5}}, r"expected a whole number"),
    ({"rule": [1]}, r"expected signal.<label>.<param>, rule.<param> or overlays.<field>"),
    ({}, r"\[grid\] is missing or empty"),
])
def test_bad_grid_is_a_clear_config_error(grid, match):
    err(grid, match, strategy=VIX)


def test_a_value_no_combination_can_use_is_an_error():
    # k_of_n with two signals: k = 3 fails the rule's check for every combination
    err({"rule.k": [1, 2, 3]}, r'"rule.k" = 3 fits no combination: .*k = 3 but only 2 signal', strategy=TWO)
    # hysteresis must stay below max_leverage: 1.5 only fits max_leverage = 2
    cfg = make_config({"overlays.hysteresis": [0.1, 1.5], "overlays.max_leverage": [1.0, 2.0]})
    assert cfg.n_combos == 4
    err({"overlays.hysteresis": [0.1, 1.5]}, r'"overlays.hysteresis" = 1.5 fits no combination')


@pytest.mark.parametrize("sweep,match", [
    ({"metric": "sharp"}, r"sweep.metric = 'sharp'.*did you mean 'sharpe'"),
    ({"heatmap": ["rule.windw"]}, r"heatmap names 'rule.windw'.*did you mean 'rule.window'"),
    ({"window_metric": "drawdown_avoid"}, r"did you mean 'drawdown_avoided'"),
    ({"assets": ["SPYY"]}, r"run.assets: unknown asset 'SPYY'.*did you mean 'SPY'"),
    ({"kernel": "gpu"}, r"sweep.kernel = 'gpu'"),
    ({"max_combinations": 10}, r"12 combinations, above sweep.max_combinations = 10"),
    ({"chunk_sz": 10}, r"unknown key 'chunk_sz'.*did you mean 'chunk_size'"),
])
def test_bad_sweep_table_is_a_clear_config_error(sweep, match):
    err({"rule.window": [50, 100, 150, 200], "overlays.min_bars_out": [0, 2, 4]}, match, **sweep)


def test_window_metrics_are_rankable():
    cfg = make_config({"rule.window": [50, 100]}, metric="w.covid_312.drawdown_avoided")
    assert cfg.metric == "w.covid_312.drawdown_avoided"


def test_walk_forward_table_is_validated():
    doc = make_doc({"rule.window": [50, 100]})
    doc["walk_forward"] = {"mode": "windws"}
    from riskoff.sweep import parse_sweep_config
    with pytest.raises(ConfigError, match="walk_forward.mode = 'windws'"):
        parse_sweep_config(doc, "t.toml")
    doc["walk_forward"] = {"objective": "sharp"}
    with pytest.raises(ConfigError, match="did you mean 'sharpe'"):
        parse_sweep_config(doc, "t.toml")
    doc["walk_forward"] = {"fit_end": "2025-01-01", "test_start": "2024-01-01"}
    with pytest.raises(ConfigError, match="before fit_end"):
        parse_sweep_config(doc, "t.toml")


def test_shipped_configs_parse():
    from riskoff.util.paths import PROJECT_ROOT
    for path in sorted((PROJECT_ROOT / "backtests").glob("sweep_*.toml")):
        cfg = load_sweep_config(path)
        assert cfg.n_combos > 1 and cfg.dims


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_sweep_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\nname=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_sweep_config(bad)


def test_old_layout_with_run_keys_in_the_sweep_table_shows_the_new_form():
    doc = make_doc({"rule.window": [50, 100]})
    doc["sweep"].update(doc.pop("run"))
    with pytest.raises(ConfigError) as e:
        parse_sweep_config(doc, "old.toml")
    msg = str(e.value)
    assert msg.startswith("old.toml: [sweep] holds run keys (name, assets, start, end)")
    assert "[run]" in msg and 'run = "backtests/selloffs.toml"' in msg and "[sweep]" in msg
    del doc["sweep"]
    with pytest.raises(ConfigError, match=r"there is no \[run\] table.*\n\[run\]"):
        parse_sweep_config(doc, "old.toml")


def test_run_table_is_the_run_schema_with_its_own_tables(tmp_path):
    doc = make_doc({"rule.window": [50, 100]}, assets=["MYSPY"], cash="none", fill="next_open")
    doc["series"] = {"MYSPY": {"family": "prices", "calendar": "us", "asset_class": "equity"}}
    doc["costs"] = {"equity": {"fee_bps": 7}}
    cfg = parse_sweep_config(doc, "s.toml")
    assert cfg.assets == ("MYSPY",) and cfg.cash == "none" and cfg.fill == "next_open"
    assert cfg.costs["equity"].fee_bps == 7 and "MYSPY" in cfg.series
    assert cfg.name == "t" and cfg.start == pd.Timestamp("2018-01-01")
    doc["run"]["engine"] = "gpu"   # the run parser's own checks apply
    with pytest.raises(ConfigError, match=r"s.toml: run.engine = 'gpu'"):
        parse_sweep_config(doc, "s.toml")
    doc["run"]["colour"] = 1
    del doc["run"]["engine"]
    with pytest.raises(ConfigError, match=r"s.toml: run: unknown key 'colour'"):
        parse_sweep_config(doc, "s.toml")


def test_run_may_name_a_run_config_file(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r.toml").write_text(
        '[run]\nname = "r"\nassets = ["QQQ"]\nstart = 2017-01-01\ncash = "EFFR"\n'
        '[baselines]\nrules = ["buy_and_hold"]\n[costs.equity]\nfee_bps = 3\n')
    doc = make_doc({"rule.window": [50, 100]})
    doc["run"] = "runs/r.toml"
    cfg = parse_sweep_config(doc, str(tmp_path / "s.toml"))
    assert cfg.assets == ("QQQ",) and cfg.cash == "EFFR" and cfg.costs["equity"].fee_bps == 3
    assert cfg.start == pd.Timestamp("2017-01-01") and cfg.end is None
    assert cfg.name == "ma"   # a named run file does not name the sweep: the base strategy does
    doc["costs"] = {"equity": {"fee_bps": 1}}
    with pytest.raises(ConfigError, match=r"names a run config; put \[costs\] there"):
        parse_sweep_config(doc, str(tmp_path / "s.toml"))
    doc.pop("costs")
    doc["run"] = "runs/missing.toml"
    with pytest.raises(ConfigError, match="missing.toml"):
        parse_sweep_config(doc, str(tmp_path / "s.toml"))
