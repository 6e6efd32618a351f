"""The event-driven engine against the frame path, vectorbt and an independent accounting loop.

- default daily config (backtests/selloffs.toml): event path equity == frame path equity (1e-9);
- an hourly run: equity == a vectorbt Portfolio built from the run's own orders (1e-9);
- an hourly run: every equity change == exposure held before the bar x the bar's return, plus
  cash interest on elapsed hours (ACT/360), minus the costs of that bar's fills (plain loop);
- cash: a month in cash earns the same on hourly and daily bars.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskoff.engine.event_driven import simulate_events
from riskoff.run.config import load_config, parse_config
from riskoff.run.runner import simulate_config
from riskoff.util.paths import PROJECT_ROOT as ROOT

H1 = "BINANCE-BTCUSDT-1H"


def test_event_path_equals_the_frame_path_on_the_default_config():
    cfg = load_config(ROOT / "backtests" / "selloffs.toml")
    frame = simulate_config(cfg)
    events = {(p.strategy, p.asset): p for p in simulate_events(cfg, frame.end)}
    assert len(events) == len(frame.pairs) >= 40
    for p in frame.pairs:
        e = events[(p.strategy, p.asset)]
        assert e.equity.index.equals(p.equity.index), p.key
        np.testing.assert_allclose(e.equity.to_numpy(), p.equity.to_numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=p.key)


def hourly_config(fill="next_open", cash="money_market", start="2025-09-20", end="2025-10-31", extra=None):
    doc = {"run": {"name": "h", "start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date(),
                   "assets": [H1], "fill": fill, "cash": cash, "engine": "numba"},
           "costs": {"crypto": {"fee_bps": 10, "slippage_bps": 5}},
           "baselines": {"rules": ["buy_and_hold"]},
           "strategies": [
               {"name": "shock_out", "rule": "any_off", "signals": ["range_volume_shock", "crash_speed"],
                "overlays": {"min_bars_out": "12h", "idle_exposure": 1.0}},
               {"name": "crash_cut", "rule": "crash_cut_funding",
                "signals": ["crash_speed", "range_volume_shock", "funding_flips"]},
               {"name": "stop_thirds", "rule": "entry_stop_thirds", "params": {"stop": 0.03, "wait": "6h",
                                                                             "lookback": "12h"}}],
           **(extra or {})}
    return parse_config(doc, "hourly-test")


@pytest.fixture(scope="module")
def hourly():
    cfg = hourly_config()
    return cfg, simulate_config(cfg)


def test_hourly_event_path_equals_the_frame_path(hourly):
    cfg, frame = hourly
    events = {(p.strategy, p.asset): p for p in simulate_events(cfg, frame.end)}
    for p in frame.pairs:
        assert len(p.equity) == 42 * 24
        np.testing.assert_allclose(events[(p.strategy, p.asset)].equity.to_numpy(), p.equity.to_numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=p.key)
        assert len(p.orders) > (2 if p.strategy in ("shock_out", "crash_cut") else 0), p.key


def test_hourly_equity_equals_vectorbt_from_its_own_orders():
    import vectorbt as vbt

    cfg = hourly_config(cash="none")
    res = simulate_config(cfg)
    for p in res.pairs:
        close = res.prices[H1]
        size = pd.Series(0.0, index=close.index)
        price = pd.Series(np.nan, index=close.index)
        fees = pd.Series(0.0, index=close.index)
        for _, o in p.orders.iterrows():
            size[o["date"]] = o["size"] if o["side"] == "buy" else -o["size"]
            price[o["date"]] = o["price"]  # already slipped
            fees[o["date"]] = o["fee"] / o["notional"]
        pf = vbt.Portfolio.from_orders(close.ffill(), size, price=price.fillna(close.ffill()), fees=fees,
                                       init_cash=1.0, freq="1h")
        np.testing.assert_allclose(pf.value().to_numpy(), p.equity.to_numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=p.key)


def test_every_hourly_equity_change_is_explained():
    cfg = hourly_config(fill="next_close")
    res = simulate_config(cfg)
    from riskoff.engine.cash import money_market_rate
    close = res.prices[H1].ffill().to_numpy()
    rate = money_market_rate(res.prices[H1].index, "1h").fillna(0.0).to_numpy()
    for p in res.pairs:
        eq, w = p.equity.to_numpy(), p.exposure.to_numpy()
        cost = np.zeros(len(eq))
        for _, o in p.orders.iterrows():
            t = p.equity.index.get_loc(o["date"])
            cost[t] += o["size"] * abs(o["price"] - close[t]) + o["fee"]
        for t in range(1, len(eq)):
            held = w[t - 1] * eq[t - 1]                    # exposure held before bar t, in dollars
            interest = (eq[t - 1] - held) * rate[t] / 100 * (1 / 24) / 360
            want = eq[t - 1] + held * (close[t] / close[t - 1] - 1) + interest - cost[t]
            assert eq[t] == pytest.approx(want, rel=1e-12, abs=1e-13), (p.key, p.equity.index[t])


def test_a_month_in_cash_earns_the_same_on_hourly_and_daily_bars():
    from riskoff.engine.account import simulate
    from riskoff.engine.cash import money_market_rate
    hours = pd.date_range("2025-06-01", "2025-07-01", freq="1h")  # 720 elapsed hours = 30 days
    days = pd.date_range("2025-06-01", "2025-07-01", freq="D")
    h = simulate(pd.Series(100.0, hours), pd.Series(0.0, hours), cash_rate=money_market_rate(hours, "1h"))
    d = simulate(pd.Series(100.0, days), pd.Series(0.0, days), cash_rate=money_market_rate(days, "utc"))
    h_gain, d_gain = h.equity.iloc[-1, 0] - 1, d.equity.iloc[-1, 0] - 1
    # the published SOFR reaches the two clocks at different instants (a daily bar sees the day's
    # print at its end): a few basis points of the month's interest apart
    assert d_gain == pytest.approx(h_gain, rel=2e-3) and 0.0030 < h_gain < 0.0040  # ~4.3% a year for 30 days
    # at a constant rate only compounding differs: (1 + r/360/24)^720 vs (1 + r/360)^30
    h = simulate(pd.Series(100.0, hours), pd.Series(0.0, hours), cash_rate=pd.Series(4.0, hours))
    d = simulate(pd.Series(100.0, days), pd.Series(0.0, days), cash_rate=pd.Series(4.0, days))
    assert h.equity.iloc[-1, 0] == pytest.approx((1 + 0.04 / 360 / 24) ** 720, rel=1e-12)
    assert d.equity.iloc[-1, 0] == pytest.approx((1 + 0.04 / 360) ** 30, rel=1e-12)
    assert h.equity.iloc[-1, 0] == pytest.approx(d.equity.iloc[-1, 0], rel=1e-6)


@pytest.fixture(scope="module")
def hourly_stream():
    from riskoff.data.events import event_stream
    return event_stream([H1, "SOFR", "EFFR"], "2025-09-01", "2025-11-01")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.integers(min_value=0, max_value=60 * 24))
def test_engine_inputs_are_truncation_invariant(hourly_stream, hours):
    """Removing every event published after t leaves every bar decided by t unchanged."""
    from riskoff.data import load_catalog
    from riskoff.engine.event_driven import asset_bars
    spec = load_catalog()[H1]
    t = pd.Timestamp("2025-09-02") + pd.Timedelta(hours=hours, minutes=30)
    full = asset_bars(hourly_stream, spec, "2025-09-02", "2025-10-31")
    cut = asset_bars(hourly_stream.truncate(t), spec, "2025-09-02", "2025-10-31")
    known = full.decided_at <= t.value
    for a, b in [(full.close, cut.close), (full.open, cut.open), (full.cash_rate, cut.cash_rate)]:
        pd.testing.assert_series_equal(a[known], b[known])
    # and a bar decided after t shows nothing newer than t: the last close published by t, carried
    later = ~known & cut.close.notna().to_numpy()
    if later.any():
        assert (cut.close[later] == hourly_stream.as_of(t).latest(H1, "close")).all()


@pytest.mark.parametrize("cut", ["2025-10-10", "2025-10-20"])
def test_an_event_run_ending_at_t_agrees_with_the_full_run_up_to_t(cut):
    cfg = hourly_config()
    full = {(p.strategy, p.asset): p for p in simulate_events(cfg, pd.Timestamp("2025-10-31"))}
    for p in simulate_events(cfg, pd.Timestamp(cut)):
        ref = full[(p.strategy, p.asset)].equity.loc[:p.equity.index[-1]]
        np.testing.assert_allclose(p.equity.to_numpy(), ref.to_numpy(), rtol=1e-12, err_msg=p.strategy)


def test_a_five_minute_asset_runs_on_its_own_clock():
    doc = {"run": {"name": "m5", "start": pd.Timestamp("2025-10-08").date(), "end": pd.Timestamp("2025-10-12").date(),
                   "assets": ["BINANCE-BTCUSDT-5M"], "fill": "next_open", "cash": "money_market", "engine": "numba"},
           "baselines": {"rules": ["buy_and_hold"]},
           "strategies": [{"name": "shock", "rule": "any_off", "signals": ["range_volume_shock"],
                           "overlays": {"min_bars_out": "1h", "idle_exposure": 1.0}}],
           "windows": {"w": {"start": "2025-10-09", "trough": "2025-10-10T21:20Z", "end": "2025-10-11"}}}
    res = simulate_config(parse_config(doc, "m5-test"))
    assert all(len(p.equity) == 5 * 288 for p in res.pairs)
    assert set(res.stats["periods_per_year"]) == {105_120}
    row = res.windows.set_index("strategy").loc["shock"]
    # the hourly shock reading of the 20:00 bar (decided 21:00) reaches the 5m clock at 21:00: out 20 min early
    assert row["exposure_at_trough"] == 0.0 and row["lead_time_hours"] == pytest.approx(1 / 3)
