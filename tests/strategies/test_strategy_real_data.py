"""Baselines and the full config -> signals -> rule -> overlays pipeline on the real data snapshot."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load, load_catalog
from riskoff.signals.contract import RISK_OFF, discover
from riskoff.signals.evaluate import run_signal
from riskoff.strategies.config import SignalRef, StrategyConfig
from riskoff.strategies.contract import discover_strategies
from riskoff.strategies.exposure import build_exposure, exposure_events
from riskoff.strategies.overlays import Overlays

PROBE_SIGNAL = '''"""Probe: SPY close vs its moving average (risk-off 2% below, caution below)."""
from riskoff import Param, signal_frame, states_from_levels

INPUTS = ["SPY.close"]
PARAMS = [Param("window", 50, low=5, high=400)]
WARMUP = "window"
CALLS = []


def compute(data, window=50):
    CALLS.append(window)
    gap = data["SPY.close"] / data["SPY.close"].rolling(window).mean() - 1
    return signal_frame(reading=gap, state=states_from_levels(gap, 0.0, -0.02, higher_is_riskier=False))
'''

PROBE_RULE = '''"""Probe: records what the context looked like."""
NEEDS_SIGNALS = False
SEEN = []


def target(ctx):
    SEEN.append((ctx.asset, ctx.calendar, ctx.periods_per_year, len(ctx.close), ctx.close.name))
    return ctx.close * 0 + 1.0
'''


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    d = tmp_path_factory.mktemp("plugins")
    (d / "signals").mkdir()
    (d / "strategies").mkdir()
    (d / "signals" / "probe_spy_ma.py").write_text(PROBE_SIGNAL)
    (d / "strategies" / "probe_ctx_rule.py").write_text(PROBE_RULE)
    sig = discover([d / "signals"])
    rules = discover_strategies([d / "strategies"])
    assert "probe_spy_ma" in sig.signals and "probe_ctx_rule" in rules.strategies
    return sig, rules


def run(rule, asset, data_dir, *, params=None, signals=(), overlays=Overlays(), reg=None, **kw):
    cfg = StrategyConfig(name=f"t_{rule}", rule=rule, signals=tuple(signals), params=params or {}, overlays=overlays)
    extra = {} if reg is None else {"signals": reg[0], "strategies": reg[1]}
    return build_exposure(cfg, asset, data_dir=data_dir, **extra, **kw)


@pytest.mark.parametrize("asset", ["SPY", "BTC-USD"])
def test_buy_and_hold_is_one_on_every_bar_of_the_native_calendar(asset, data_dir):
    r = run("buy_and_hold", asset, data_dir)
    cal = load_catalog()[asset].calendar
    assert r.calendar == cal
    assert (r.exposure == 1.0).all() and r.exposure.notna().all()
    assert r.exposure.index.equals(load([asset], calendar=cal, data_dir=data_dir, stale="allow").index)
    if cal == "utc":  # 7 bars a week
        assert set(r.exposure.loc["2021"].index.dayofweek) == set(range(7))


def test_ma_timing_on_spy(data_dir):
    r = run("ma_timing", "SPY", data_dir, start="2021-01-01", end="2022-12-31")
    e = r.exposure
    assert e.index[0] >= pd.Timestamp("2021-01-01") and e.index[-1] <= pd.Timestamp("2022-12-31")
    assert (e.loc["2022-06"] == 0).all(), "SPY was below its 200-day average all of June 2022"
    assert e.loc["2021"].mean() > 0.9, "SPY was above its 200-day average through most of 2021"
    close = load(["SPY"], None, "2022-12-31", calendar="us", data_dir=data_dir)["SPY.close"]
    want = (close > close.rolling(200).mean()).astype(float).loc["2021":"2022"]
    np.testing.assert_array_equal(e.to_numpy(), want.to_numpy())
    monthly = run("ma_timing", "SPY", data_dir, start="2021-01-01", end="2022-12-31", params={"monthly": True})
    assert monthly.exposure.groupby(monthly.exposure.index.to_period("M")).nunique().max() == 1


def test_vol_target_on_btc(data_dir):
    r = run("vol_target", "BTC-USD", data_dir, start="2019-06-01", end="2023-12-31")
    e = r.exposure
    assert r.calendar == "utc"
    assert e.loc["2020-03"].mean() < e.loc["2023-07"].mean(), "COVID crash vol must cut exposure below a calm month"
    close = load(["BTC-USD"], None, "2023-12-31", calendar="utc", data_dir=data_dir)["BTC-USD.close"]
    std = close.pct_change().rolling(20).std()
    want365 = np.minimum(0.15 / (std * np.sqrt(365)), 1.0).loc["2019-06-01":]
    want252 = np.minimum(0.15 / (std * np.sqrt(252)), 1.0).loc["2019-06-01":]
    np.testing.assert_allclose(e.to_numpy(), want365.to_numpy(), rtol=1e-12)
    assert not np.allclose(e.to_numpy(), want252.to_numpy())


@pytest.mark.parametrize("asset, calendar, ppy", [("SPY", "us", 252), ("BTC-USD", "utc", 365)])
def test_context_uses_native_calendar_and_periods(asset, calendar, ppy, plugins, data_dir):
    seen = plugins[1].get("probe_ctx_rule").target.__globals__["SEEN"]
    seen.clear()
    run("probe_ctx_rule", asset, data_dir, reg=plugins, end="2024-12-31")
    assert seen and seen[-1][:3] == (asset, calendar, ppy) and seen[-1][4] == f"{asset}.close"


def test_signals_pipeline_cache_and_labels(plugins, data_dir):
    calls = plugins[0].get("probe_spy_ma").compute.__globals__["CALLS"]
    calls.clear()
    cache: dict = {}
    fast = SignalRef("probe_spy_ma", {"window": 20}, "fast")
    slow = SignalRef("probe_spy_ma", {"window": 100}, "slow")
    kw = dict(reg=plugins, start="2020-01-01", end="2022-12-31", signal_cache=cache)
    a = run("any_off", "SPY", data_dir, signals=[fast, slow], **kw)
    b = run("exposure_ladder", "SPY", data_dir, signals=[slow, fast], **kw)
    assert sorted(calls) == [20, 100], "shared signals are computed once"
    c = run("all_off", "BTC-USD", data_dir, signals=[fast], **kw)
    assert sorted(calls) == [20, 20, 100] and len(cache) == 3, "another calendar is another cache entry"
    assert list(a.states.columns) == ["fast", "slow"] and list(b.states.columns) == ["slow", "fast"]
    assert not a.states["fast"].equals(a.states["slow"])
    pd.testing.assert_frame_equal(a.states[["slow", "fast"]], b.states)
    # the rule's decision matches the states bar by bar (no overlays)
    off = (a.states == RISK_OFF).any(axis=1)
    assert off.any() and (~off).any()
    np.testing.assert_array_equal(a.exposure[off].to_numpy(), 0.0)
    np.testing.assert_array_equal(a.exposure[~off & a.states.notna().any(axis=1)].to_numpy(), 1.0)
    # a US signal on the BTC (utc) calendar: weekends carry Friday's decision, never NaN mid-history
    assert c.calendar == "utc" and c.states["fast"].loc["2021"].notna().all()
    assert (c.exposure.loc["2021"].index.dayofweek == 5).any()
    ev = exposure_events(a.exposure, a.states)
    assert len(ev) == int((a.exposure.diff().fillna(a.exposure.iloc[0]) != 0).sum())
    assert ev["states"].str.contains("fast=").all() and ev["states"].str.contains("slow=").all()


@pytest.mark.parametrize("asset", ["SPY", "BTC-USD"])
def test_end_and_start_truncation_on_real_data(asset, plugins, data_dir):
    sig = [SignalRef("probe_spy_ma", {"window": 30})]
    ov = Overlays(min_bars_out=5, cooldown_bars=3, hysteresis=0.1, trailing_stop=0.1, stop_reentry_bars=10)
    full = run("exposure_ladder", asset, data_dir, signals=sig, overlays=ov, reg=plugins, end="2023-06-30")
    assert full.exposure.nunique() > 1
    for cut in ["2020-03-16", "2022-06-17"]:
        part = run("exposure_ladder", asset, data_dir, signals=sig, overlays=ov, reg=plugins, end=cut)
        pd.testing.assert_series_equal(part.exposure, full.exposure.loc[:cut], check_freq=False)
        pd.testing.assert_frame_equal(part.states, full.states.loc[:cut], check_freq=False)
    window = run("exposure_ladder", asset, data_dir, signals=sig, overlays=ov, reg=plugins,
                 start="2020-02-01", end="2023-06-30")
    pd.testing.assert_series_equal(window.exposure, full.exposure.loc["2020-02-01":], check_freq=False)


SHIPPED_SIGNALS = sorted(discover().signals)


@pytest.mark.parametrize("name", SHIPPED_SIGNALS or ["(none shipped yet)"])
def test_shipped_signals_drive_a_rule_on_both_calendars(name, data_dir):
    if name not in SHIPPED_SIGNALS:
        pytest.skip("no signal modules in signals/ yet")
    cache: dict = {}
    intraday = discover().get(name).calendar not in ("us", "utc")  # Binance bars start 2021
    # 2020, or 2025 for a signal whose data starts later (etf_flows: 2024-01) or an intraday one
    first = None if intraday else run_signal(discover().get(name), calendar="us",
                                             data_dir=data_dir)["reading"].first_valid_index()
    year = "2025" if intraday or first >= pd.Timestamp("2020-01-01") else "2020"
    for asset in ("SPY", "BTC-USD"):
        r = run("any_off", asset, data_dir, signals=[name], start=f"{year}-01-01", end=f"{year}-12-31",
                signal_cache=cache)
        st = r.states[name]
        assert r.calendar == load_catalog()[asset].calendar
        assert set(st.dropna().unique()) <= {0.0, 1.0, 2.0}
        assert st.notna().any()
        assert (r.exposure[st == RISK_OFF] == 0).all()
        assert (r.exposure[st.isin([0.0, 1.0])] == 1).all()
        assert r.exposure.between(0, 1).all()
