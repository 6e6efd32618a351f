"""Event-driven rules: the callback's own account, the two shipped examples, and truncation.

References are independent: the engine's ``simulate`` on the rule's targets, and plain-Python
re-implementations of the examples written as loops over the raw arrays.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskoff import RISK_OFF
from riskoff.engine.account import Costs, simulate
from riskoff.signals.contract import discover
from riskoff.signals.evaluate import run_signal
from riskoff.strategies.contract import StrategyContext, discover_strategies, run_rule
from riskoff.strategies.event_rules import EventRule, run_event_rule

RULES = discover_strategies()
SLICE = ("2025-09-15", "2025-11-14")


def hourly_ctx(labels=("crash_speed", "range_volume_shock", "funding_flips"), lo=SLICE[0], hi=SLICE[1]):
    sigs = discover()
    outs = {lab: run_signal(sigs.get(lab), start=lo, end=hi, calendar="1h") for lab in labels}
    idx = next(iter(outs.values())).index
    from riskoff.data import load
    close = load(["BINANCE-BTCUSDT-1H"], lo, hi, calendar="1h", stale="allow")["BINANCE-BTCUSDT-1H.close"]
    return StrategyContext(asset="BINANCE-BTCUSDT-1H", close=close.reindex(idx),
                           states=pd.DataFrame({k: v["state"] for k, v in outs.items()}, index=idx),
                           readings=pd.DataFrame({k: v["reading"] for k, v in outs.items()}, index=idx),
                           calendar="1h", periods_per_year=8760)


@pytest.fixture(scope="module")
def ctx():
    return hourly_ctx()


class Flip(EventRule):
    """In, out, in every 7 bars: exercises fills in both directions."""

    def on_bar(self, v):
        return 1.0 if (v.t // 7) % 2 == 0 else 0.25


def test_callback_account_equals_the_engine_on_its_own_targets(ctx):
    close = ctx.close
    run = run_event_rule(Flip(), close.index, close.to_numpy(), {}, {}, "1h", fee=0.001, slip=0.0005)
    sim = simulate(close, run.target.to_frame("flip"), costs=Costs(fee_bps=10, slippage_bps=5), fill="next_close",
                   engine="numba")
    np.testing.assert_allclose(run.equity.to_numpy(), sim.equity["flip"].to_numpy(), rtol=0, atol=1e-12)
    # a decision at bar t fills at bar t+1: the first cut (decided on bar 7) trades on bar 8
    assert run.fills.iloc[7] == 0 and run.fills.iloc[8] < 0


def reference_entry_stop_thirds(close: np.ndarray, stop: float, wait: int, lookback: int) -> np.ndarray:
    """The entry-price stop with thirds, as a plain loop with its own position bookkeeping."""
    out = np.empty(len(close))
    level, decided, last_change = 1.0, 0.0, -10**9
    held, entry, pending = 0.0, np.nan, True
    for t, c in enumerate(close):
        if pending:  # the previous decision fills at this close
            if held == 0.0 and decided > 0.0:
                entry = c
            held, pending = decided, False
            if held == 0.0:
                entry = np.nan
        if held > 0 and c <= entry * (1 - stop) and level > 0:
            level, last_change = 0.0, t
        elif level < 1.0 and t - last_change >= wait and t >= lookback and c > max(close[t - lookback:t]):
            level, last_change = min(1.0, round(level + 1 / 3, 12)), t
        if level != decided:
            decided, pending = level, True
        out[t] = decided
    return out


def test_entry_stop_thirds_matches_a_plain_loop_on_real_hours(ctx):
    spec = RULES.get("entry_stop_thirds")
    params = {"stop": 0.04, "wait": 6, "lookback": 12}
    bare = StrategyContext(asset=ctx.asset, close=ctx.close, states=ctx.states[[]], readings=ctx.readings[[]],
                           calendar="1h", periods_per_year=8760)  # the price alone, no signal exits
    got = run_rule(spec, bare, params).to_numpy()
    want = reference_entry_stop_thirds(ctx.close.to_numpy(), **params)
    np.testing.assert_array_equal(got, want)
    assert (got == 0).any() and set(np.round(got, 6)) >= {0.0, round(1 / 3, 6), round(2 / 3, 6), 1.0}


def test_crash_cut_funding_around_2025_10_10(ctx):
    out = run_rule(RULES.get("crash_cut_funding"), ctx, {})
    # range_volume_shock is risk-off on the 20:00 bar (decided 21:00 UTC): out before the 21:00-21:20 wick
    assert out.loc["2025-10-10 19:00"] == 1.0 and out.loc["2025-10-10 20:00"] == 0.0
    back = out.loc["2025-10-10 20:00":]
    first_in = back[back == 1.0].index[0]
    assert first_in - pd.Timestamp("2025-10-10 20:00") >= pd.Timedelta(hours=8)
    fund = ctx.readings["funding_flips"]
    assert fund.loc[first_in] >= 0.0
    crash = ctx.states[["crash_speed", "range_volume_shock"]].loc[first_in]
    assert not (crash == RISK_OFF).any()


def test_the_view_is_point_in_time_and_read_only(ctx):
    seen = []

    class Spy(EventRule):
        def on_bar(self, v):
            h = v.closes()
            assert len(h) == v.t + 1 and h[-1] == v.close
            with pytest.raises(ValueError):
                h[0] = 0.0
            seen.append(len(v.states("crash_speed")))
            return 1.0

    run_event_rule(Spy(), ctx.index[:50], ctx.close.to_numpy()[:50], {"crash_speed": ctx.states["crash_speed"][:50]},
                   {}, "1h")
    assert seen == list(range(1, 51))


@pytest.mark.parametrize("name", ["entry_stop_thirds", "crash_cut_funding"])
@settings(max_examples=13, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.integers(min_value=1, max_value=61 * 24 - 2))
def test_callback_rules_are_truncation_invariant(ctx, name, hours):
    spec = RULES.get(name)
    params = {"stop": 0.03, "wait": 4, "lookback": 8} if name == "entry_stop_thirds" else {}
    full = _full(ctx, name, params)
    t = ctx.index[hours]
    part = run_rule(spec, ctx.truncate(t), params)
    pd.testing.assert_series_equal(part, full.loc[:t], check_freq=False)


_cache: dict = {}


def _full(ctx, name, params):
    if name not in _cache:
        _cache[name] = run_rule(RULES.get(name), ctx, params)
    return _cache[name]
