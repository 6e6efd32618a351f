"""Conformance of every discovered rule: bounded exposure and truncation invariance (no look-ahead)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategy_synth import make_ctx, price_paths, random_ctx, state_frames

from riskoff.strategies.contract import discover_strategies, run_rule
from riskoff.strategies.overlays import Overlays, apply_overlays
from riskoff.util.errors import PluginError

REGISTRY = discover_strategies()
RULES = sorted(REGISTRY.strategies)
SHIPPED = {"any_off", "all_off", "k_of_n", "weighted_score", "exposure_ladder", "reenter_when",
           "buy_and_hold", "ma_timing", "vol_target"}
# short windows so that the baselines have decisions inside the synthetic paths
SMALL = {"ma_timing": {"window": 20}, "vol_target": {"window": 10}, "entry_stop_thirds": {"wait": 3, "lookback": 5}}


def params_for(name: str, labels) -> dict:
    """SMALL, plus the signal labels a label-reading event rule needs (the synthetic ones)."""
    params = dict(SMALL.get(name, {}))
    if name == "crash_cut_funding":
        params.update(crash=list(labels[:max(1, len(labels) - 1)]), funding=labels[-1], normal=1.0, min_out=3)
    return params
OVERLAYS = [Overlays(), Overlays(min_bars_out=5, cooldown_bars=3, hysteresis=0.1, trailing_stop=0.08,
                                 stop_reentry_bars=6, max_leverage=1.5)]


def test_all_shipped_rules_are_discovered_without_errors():
    assert SHIPPED <= set(RULES)
    assert not REGISTRY.errors, REGISTRY.errors
    for name in SHIPPED:
        spec = REGISTRY.get(name)
        assert spec.summary, f"{name} has no docstring"
        assert spec.needs_signals is (name not in {"buy_and_hold", "ma_timing", "vol_target"})


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("calendar", ["us", "utc"])
@pytest.mark.parametrize("seed", [0, 1])
def test_truncation_invariance(name, calendar, seed):
    spec = REGISTRY.get(name)
    ctx = random_ctx(seed, n=260, calendar=calendar)
    params = params_for(name, ctx.labels)
    full = run_rule(spec, ctx, params)
    assert full.notna().any(), "the synthetic context never gets a decision: the test would be vacuous"
    exposures = [apply_overlays(full, ctx.close, ov) for ov in OVERLAYS]
    rng = np.random.default_rng(seed + 100)
    for cut in sorted(rng.choice(len(ctx.index), size=6, replace=False)):
        t = ctx.index[cut]
        small = ctx.truncate(t)
        part = run_rule(spec, small, params)
        pd.testing.assert_series_equal(part, full.loc[:t], check_freq=False)
        for ov, ex in zip(OVERLAYS, exposures):
            pd.testing.assert_series_equal(apply_overlays(part, small.close, ov), ex.loc[:t], check_freq=False)


@pytest.mark.parametrize("name", RULES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=state_frames(max_bars=80), data=st.data())
def test_exposure_within_bounds(name, frame, data):
    close = data.draw(price_paths(len(frame)))
    lev = data.draw(st.sampled_from([0.5, 1.0, 2.0]))
    ov = Overlays(max_leverage=lev, min_bars_out=data.draw(st.integers(0, 5)),
                  cooldown_bars=data.draw(st.integers(0, 5)), trailing_stop=data.draw(st.sampled_from([0.0, 0.1])))
    ctx = make_ctx(frame, close, calendar=data.draw(st.sampled_from(["us", "utc"])))
    spec = REGISTRY.get(name)
    params = params_for(name, ctx.labels)
    if name == "k_of_n":
        params["k"] = data.draw(st.integers(1, frame.shape[1]))
    raw = run_rule(spec, ctx, params)
    known = raw.dropna()
    # with default exposure params every shipped rule stays in 0 .. 1
    assert ((known >= 0) & (known <= 1 + 1e-12)).all(), known[(known < 0) | (known > 1 + 1e-12)]
    ex = apply_overlays(raw, ctx.close, ov)
    assert ex.notna().all() and ((ex >= 0) & (ex <= lev)).all()


def test_overlays_clip_above_max_leverage():
    ctx = random_ctx(4, n=100)
    raw = run_rule(REGISTRY.get("buy_and_hold"), ctx, {"exposure": 3.0})
    assert (raw == 3.0).all()
    assert (apply_overlays(raw, ctx.close, Overlays(max_leverage=1.5)) == 1.5).all()


def test_broken_rule_modules_do_not_take_others_down(tmp_path):
    (tmp_path / "broken_syntax.py").write_text("def target(ctx:\n")
    (tmp_path / "no_target.py").write_text('"""Has no target."""\nPARAMS = []\n')
    (tmp_path / "bad_param.py").write_text(
        "from riskoff import Param\nPARAMS = [Param('w', 1)]\ndef target(ctx):\n    return ctx.close * 0\n")
    (tmp_path / "fine_rule.py").write_text(
        '"""Half in."""\nNEEDS_SIGNALS = False\ndef target(ctx):\n    return ctx.close * 0 + 0.5\n')
    reg = discover_strategies([tmp_path])
    assert "fine_rule" in reg.strategies and SHIPPED <= set(reg.strategies)
    assert {"broken_syntax", "no_target", "bad_param"} <= set(reg.errors)
    assert "broken_syntax.py" in str(reg.errors["broken_syntax"])
    assert "no target" in str(reg.errors["no_target"])
    assert "'w'" in str(reg.errors["bad_param"])
    with pytest.raises(PluginError, match="no target"):
        reg.get("no_target")
    with pytest.raises(PluginError, match="did you mean 'fine_rule'"):
        reg.get("fine_rul")


def test_run_rule_rejects_bad_output(tmp_path):
    (tmp_path / "negative_rule.py").write_text("def target(ctx):\n    return ctx.close * 0 - 1\n")
    (tmp_path / "short_rule.py").write_text("def target(ctx):\n    return ctx.close.iloc[:-1] * 0\n")
    reg = discover_strategies([tmp_path])
    ctx = random_ctx(0, n=30)
    with pytest.raises(PluginError, match="not in 0 .. max_leverage"):
        run_rule(reg.get("negative_rule"), ctx)
    with pytest.raises(PluginError, match="index differs"):
        run_rule(reg.get("short_rule"), ctx)
