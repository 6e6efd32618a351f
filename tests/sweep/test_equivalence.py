"""The sweep's fast path equals the normal path one combination at a time.

Reference: ``riskoff.run.runner.simulate_config`` (build_exposure -> engine.simulate ->
evaluation.full_period_stats / window_metrics, i.e. quantstats formulas), the engine's kernel
over an exposure matrix, and a full vectorbt Portfolio (``riskoff.engine.account.to_vectorbt``).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from riskoff.engine.account import to_vectorbt
from riskoff.run.runner import simulate_config
from riskoff.strategies.config import StrategyConfig
from riskoff.strategies.exposure import build_exposure
from riskoff.sweep import (
    FULL_METRICS,
    WINDOW_METRICS,
    asset_context,
    clear_caches,
    combo_strategy,
    plan_sweep,
    run_chunk,
    run_config,
    run_sweep,
    sweep_equity,
)
from tests.sweep.conftest import OVERLAY_STRATEGY, make_config

TOL = dict(rtol=1e-9, atol=1e-9)


def one_by_one(plan, combos):
    """simulate_config on the sampled combinations (plus the buy & hold baseline)."""
    cfg = plan.config
    strats = tuple(combo_strategy(cfg, int(c), f"c{c}") for c in combos)
    rc = dataclasses.replace(run_config(cfg, plan.end),
                             strategies=(StrategyConfig("buy_and_hold", "buy_and_hold"), *strats))
    return simulate_config(rc, data_dir=plan.data_dir)


def check_against_reference(plan, result, combos):
    ref = one_by_one(plan, combos)
    res = result.results.set_index(["combo", "asset"])
    n_windows = 0
    for c in combos:
        for asset in plan.config.assets:
            row = res.loc[(int(c), asset)]
            st = ref.stats.set_index(["strategy", "asset"]).loc[(f"c{c}", asset)]
            for m in FULL_METRICS[:-1]:
                np.testing.assert_allclose(row[m], st[m], **TOL, err_msg=f"combo {c} {asset} {m}")
            pair = next(p for p in ref.pairs if p.strategy == f"c{c}" and p.asset == asset)
            assert row["trades"] == len(pair.orders)
            eq, w, _ = sweep_equity(plan, asset, [c])
            np.testing.assert_allclose(eq[c].to_numpy(), pair.equity.to_numpy(), **TOL)
            np.testing.assert_allclose(w[c].to_numpy(), pair.exposure.to_numpy(), **TOL)
            wins = ref.windows[(ref.windows.strategy == f"c{c}") & (ref.windows.asset == asset)]
            covered = {w_ for w_ in plan.config.windows if not np.isnan(row[f"w.{w_}.drawdown_avoided"])}
            assert covered == set(wins["window"])
            for _, wr in wins.iterrows():
                n_windows += 1
                for m in WINDOW_METRICS:
                    np.testing.assert_allclose(row[f"w.{wr['window']}.{m}"], wr[m], **TOL,
                                               err_msg=f"combo {c} {asset} {wr['window']} {m}")
            np.testing.assert_allclose(row["dd_avoided_mean"], wins["drawdown_avoided"].mean(), **TOL)
    assert n_windows > 0


def test_chunked_sweep_equals_one_by_one(overlay_plan):
    result = run_sweep(overlay_plan, chunk_size=7)
    assert len(result.results) == overlay_plan.config.n_combos * 2
    sample = np.random.default_rng(11).choice(overlay_plan.config.n_combos, 5, replace=False)
    check_against_reference(overlay_plan, result, sample)


def test_chunk_size_does_not_change_results(overlay_plan):
    a = run_sweep(overlay_plan, chunk_size=7).results
    b = run_sweep(overlay_plan, chunk_size=1000).results
    c = run_sweep(overlay_plan, combos=range(0, overlay_plan.config.n_combos, 3), chunk_size=5).results
    pd.testing.assert_frame_equal(a, b)
    sub = a[a["combo"] % 3 == 0].drop(columns=["stability", "rank"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, c.drop(columns=["stability", "rank"]).reset_index(drop=True))


def test_engine_kernel_path_equals_fused(overlay_plan):
    combos = np.arange(overlay_plan.config.n_combos)
    for asset in overlay_plan.config.assets:
        f = run_chunk(overlay_plan, asset, combos, kernel="fused")
        e = run_chunk(overlay_plan, asset, combos, kernel="numba")
        np.testing.assert_allclose(e.stats, f.stats, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(e.windows, f.windows, rtol=1e-12, atol=1e-12)


def test_fast_path_equals_vectorbt_portfolio(data_dir):
    """All-in / all-out timing with every overlay, crypto and equity costs, money-market cash.

    (Fractional targets are checked against the engine's numba kernel above: on BTC-USD with crypto
    costs the engine's own numba and vectorbt paths differ by ~1e-5 on some tiny rebalancing buys,
    an engine matter reported separately.)
    """
    cfg = make_config({"rule.window": [40, 200], "overlays.trailing_stop": [0.0, 0.1],
                       "overlays.min_bars_out": [0, 7], "overlays.cooldown_bars": [0, 4],
                       "overlays.hysteresis": [0.0, 0.5]})
    plan = plan_sweep(cfg, data_dir=data_dir)
    sample = [int(c) for c in np.random.default_rng(5).choice(cfg.n_combos, 4, replace=False)]
    for asset in cfg.assets:
        ctx = asset_context(plan, asset)
        expo = pd.DataFrame({c: build_exposure(combo_strategy(cfg, c), asset, start=cfg.start, end=plan.end,
                                               data_dir=plan.data_dir).exposure.reindex(ctx.index)
                             for c in sample})
        pf = to_vectorbt(ctx.close_s, expo, cash_rate=ctx.cash_rate, costs=ctx.costs)
        value = pf.value()
        eq, _, res = sweep_equity(plan, asset, sample)
        for k, c in enumerate(sample):
            np.testing.assert_allclose(eq[c].to_numpy(), value.iloc[:, k].to_numpy(), **TOL)
        vb = run_chunk(plan, asset, np.array(sample), kernel="vectorbt")
        np.testing.assert_allclose(vb.stats, res.stats, **TOL)
        np.testing.assert_allclose(vb.windows, res.windows, **TOL)


def test_signal_grid_equals_one_by_one_and_computes_each_signal_set_once(data_dir, monkeypatch):
    import riskoff.signals.evaluate as signal_mod

    cfg = make_config({"signal.vix_mean_reversion.entry_z": [2.0, 3.0],
                       "signal.ma_break.slow": [150, 200],
                       "rule.k": [1, 2],
                       "overlays.min_bars_out": [0, 5]},
                      strategy={"name": "two", "rule": "k_of_n", "signals": ["vix_mean_reversion", "ma_break"],
                                "params": {"caution_weight": 0.5}},
                      assets=["QQQ", "SPY", "BTC-USD"], start="2019-01-01")
    plan = plan_sweep(cfg, data_dir=data_dir)
    calls = []
    real = signal_mod.run_signal

    def counting(spec, params=None, **kw):
        calls.append((spec.name, tuple(sorted((params or {}).items())), kw.get("calendar")))
        return real(spec, params, **kw)

    monkeypatch.setattr(signal_mod, "run_signal", counting)
    clear_caches()
    result = run_sweep(plan, chunk_size=3)
    # 2 entry_z x 2 slow = 4 distinct signal parameter sets, once per calendar (QQQ and SPY share
    # the US one, BTC-USD trades on UTC days)
    assert len(calls) == 4 * 2 and len(set(calls)) == len(calls)
    monkeypatch.setattr(signal_mod, "run_signal", real)
    check_against_reference(plan, result, [0, 7, 13])


def test_next_open_fill_and_costs_equal_one_by_one(data_dir):
    doc_costs = {"crypto": {"fee_bps": 25, "slippage_bps": 10}}
    from riskoff.sweep import parse_sweep_config
    from tests.sweep.conftest import make_doc
    doc = make_doc({"rule.window": [30, 120], "overlays.trailing_stop": [0.0, 0.15],
                    "overlays.cooldown_bars": [0, 10]}, fill="next_open", cash="EFFR", start="2016-06-01")
    doc["costs"] = doc_costs
    plan = plan_sweep(parse_sweep_config(doc, "t.toml"), data_dir=data_dir)
    result = run_sweep(plan)
    check_against_reference(plan, result, [0, 3, 6])


def test_idle_exposure_fills_no_opinion_bars_like_the_normal_path(data_dir):
    # SOFR starts 2018-04-03: before that the rule has no opinion and idle_exposure = 1 keeps SPY held
    cfg = make_config({"rule.off_exposure": [0.0, 0.5]},
                      strategy={"name": "sofr", "rule": "any_off", "signals": ["sofr_iorb_spread"],
                                "overlays": {"idle_exposure": 1.0}},
                      assets=["SPY"], start="2016-06-01")
    plan = plan_sweep(cfg, data_dir=data_dir)
    result = run_sweep(plan)
    _, w, _ = sweep_equity(plan, "SPY", [0])
    assert (w[0].loc["2016-07-01":"2018-03-01"] > 0.99).all()
    check_against_reference(plan, result, [0, 1])


def test_idle_exposure_is_not_a_grid_axis(data_dir):
    import pytest

    from riskoff.util.errors import ConfigError
    with pytest.raises(ConfigError, match="idle_exposure"):
        make_config({"overlays.idle_exposure": [0.0, 1.0]}, strategy=OVERLAY_STRATEGY)
