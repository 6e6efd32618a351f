"""Tests for riskoff.engine.account: timing, accounting, costs, cash yield, calendars and the vectorbt cross-check."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskoff.engine.account import (
    DEFAULT_COSTS,
    Costs,
    EngineInputError,
    simulate,
    simulate_portfolio,
    to_vectorbt,
)

RTOL = 1e-9


# ---------------------------------------------------------------------------------------------
# helpers


def market(n: int = 300, seed: int = 0, *, nan_frac: float = 0.0, daily: bool = False):
    """Random-walk close/open, a piecewise-constant exposure with a NaN warm-up, and a cash rate."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-01", periods=n, freq="D") if daily else pd.bdate_range("2021-01-01", periods=n)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))
    opn = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.004, n))
    if nan_frac:
        gaps = rng.random(n) < nan_frac
        gaps[0] = False
        close[gaps] = np.nan
        opn[gaps] = np.nan
    levels = rng.uniform(0, 1, n)
    change = rng.random(n) < 0.08
    change[10] = True
    expo = pd.Series(np.where(change, levels, np.nan), idx).ffill()
    expo.iloc[:10] = np.nan
    rate = rng.uniform(0.5, 5.5, n)
    rate[rng.random(n) < 0.05] = np.nan
    return (pd.Series(close, idx, name="X"), pd.Series(opn, idx, name="X"), expo.rename("X"),
            pd.Series(rate, idx))


def growth_factors(index: pd.DatetimeIndex, rate: pd.Series | None) -> np.ndarray:
    g = np.ones(len(index))
    if rate is None:
        return g
    for t in range(1, len(index)):
        r = rate.iloc[t]
        days = (index[t] - index[t - 1]).days
        g[t] = 1.0 if math.isnan(r) else 1.0 + r / 100.0 * days / 360.0
    return g


def reference_equity(close: pd.Series, expo: pd.Series, rate: pd.Series | None, fee_bps: float,
                     slip_bps: float, init_cash: float = 1.0) -> np.ndarray:
    """Plain-Python account: next-close fills, vectorbt target-percent sizing, carried closes."""
    fee, slip = fee_bps / 1e4, slip_bps / 1e4
    g = growth_factors(close.index, rate)
    c = close.to_numpy()
    e = expo.fillna(0.0).to_numpy()
    cash, units, decided, pending, last = init_cash, 0.0, 0.0, False, math.nan
    out = []
    for t in range(len(c)):
        cash *= g[t]
        if pending and not math.isnan(c[t]):
            value = cash + units * c[t]
            want = decided * value / c[t] - units
            if want < 0:  # sell the excess; costs come out of the proceeds
                cash += -want * c[t] * (1 - slip) * (1 - fee)
                units += want
            elif want > 0:  # spend the dollar gap, costs included
                cash -= want * c[t]
                units += want / ((1 + slip) * (1 + fee))
            pending = False
        if not math.isnan(c[t]):
            last = c[t]
        out.append(cash + (units * last if units else 0.0))
        if e[t] != decided:
            decided, pending = e[t], True
    return np.array(out)


def replay(res, close: pd.DataFrame, rate: pd.Series | None, init_cash: float = 1.0):
    """Rebuild cash and units from the order log alone; returns (cash, units) arrays."""
    g = growth_factors(close.index, rate)
    pos = {c: i for i, c in enumerate(close.columns)}
    n, k = close.shape
    flows, trades = np.zeros(n), np.zeros((n, k))
    where = {d: i for i, d in enumerate(close.index)}
    for row in res.orders.itertuples():
        t, sign = where[row.date], (1.0 if row.side == "buy" else -1.0)
        flows[t] += -sign * row.notional - row.fee
        trades[t, pos[row.column]] += sign * row.size
    cash = np.empty(n)
    running = init_cash
    for t in range(n):
        running = running * g[t] + flows[t]
        cash[t] = running
    return cash, np.cumsum(trades, axis=0)


def carried(close: pd.DataFrame) -> np.ndarray:
    return close.ffill().fillna(0.0).to_numpy()


# ---------------------------------------------------------------------------------------------
# 1. independent reference loop


@pytest.mark.parametrize("nan_frac", [0.0, 0.1])
def test_equity_matches_plain_python_reference(nan_frac):
    close, _, expo, rate = market(400, seed=1, nan_frac=nan_frac)
    res = simulate(close, expo, cash_rate=rate, costs=Costs(fee_bps=5.0, slippage_bps=10.0))
    ref = reference_equity(close, expo, rate, 5.0, 10.0)
    assert len(res.orders) > 10
    np.testing.assert_allclose(res.equity["X"].to_numpy(), ref, rtol=RTOL, atol=0)


# ---------------------------------------------------------------------------------------------
# 2. numba kernel vs vectorbt


VBT_CASES = {
    "next_close": dict(),
    "next_open": dict(fill="next_open"),
    "nan_gaps": dict(nan_frac=0.1),
    "periodic": dict(rebalance_every=15),
    "leverage": dict(max_leverage=2.0),
}


@pytest.mark.parametrize("case", list(VBT_CASES))
def test_kernel_matches_vectorbt(case):
    kw = dict(VBT_CASES[case])
    close, opn, expo, rate = market(500, seed=2, nan_frac=kw.pop("nan_frac", 0.0))
    if kw.get("max_leverage"):
        expo = expo * kw["max_leverage"]
    if kw.get("fill") == "next_open":
        kw["open"] = opn
    args = dict(cash_rate=rate, costs=Costs(fee_bps=3.0, slippage_bps=7.0), **kw)
    fast = simulate(close, expo, **args)
    ref = simulate(close, expo, engine="vectorbt", **args)
    assert len(fast.orders) > 10
    np.testing.assert_allclose(fast.equity.to_numpy(), ref.equity.to_numpy(), rtol=RTOL, atol=0)
    np.testing.assert_allclose(fast.exposure.to_numpy(), ref.exposure.to_numpy(), rtol=1e-7, atol=1e-12)
    assert list(fast.orders["date"]) == list(ref.orders["date"])
    assert list(fast.orders["side"]) == list(ref.orders["side"])
    for col in ("size", "price", "fee"):
        np.testing.assert_allclose(fast.orders[col].to_numpy(), ref.orders[col].to_numpy(), rtol=1e-7)


def test_vectorbt_portfolio_columns_and_sweep():
    close, _, expo, rate = market(200, seed=3)
    sweep = pd.DataFrame({"a": expo, "b": (expo * 0.5), "c": expo.fillna(0.3)})
    pf = to_vectorbt(close, sweep, cash_rate=rate, costs=Costs(1, 2))
    fast = simulate(close, sweep, cash_rate=rate, costs=Costs(1, 2))
    np.testing.assert_allclose(pf.value().to_numpy(), fast.equity.to_numpy(), rtol=RTOL, atol=0)
    assert list(pf.value().columns) == ["a", "b", "c"]


def test_vectorbt_rejects_threshold_rebalancing():
    close, _, expo, _ = market(50)
    with pytest.raises(ValueError, match="threshold"):
        simulate(close, expo, rebalance="threshold", engine="vectorbt")


# ---------------------------------------------------------------------------------------------
# 3. no fill before the decision bar


@pytest.mark.parametrize("fill", ["next_close", "next_open"])
def test_first_fill_is_the_bar_after_the_decision(fill):
    close, opn, _, rate = market(120, seed=4)
    k = 37
    expo = pd.Series(0.0, close.index)
    expo.iloc[k:] = 0.8
    res = simulate(close, expo, open=opn, fill=fill, cash_rate=rate, costs=Costs(1, 2))
    assert res.orders["date"].iloc[0] == close.index[k + 1]

    rng = np.random.default_rng(5)
    other = expo.copy()
    other.iloc[k:] = rng.uniform(0, 1, len(close) - k)
    res2 = simulate(close, other, open=opn, fill=fill, cash_rate=rate, costs=Costs(1, 2))
    np.testing.assert_array_equal(res.equity.iloc[: k + 1].to_numpy(), res2.equity.iloc[: k + 1].to_numpy())
    assert not np.allclose(res.equity.iloc[k + 2:].to_numpy(), res2.equity.iloc[k + 2:].to_numpy())


@pytest.mark.parametrize("missing", ["close", "open"])
def test_next_open_needs_both_prices_on_the_fill_bar(missing):
    close, opn, _, _ = market(60, seed=14)
    k = 20
    expo = pd.Series(0.0, close.index)
    expo.iloc[k:] = 1.0
    (close if missing == "close" else opn).iloc[k + 1] = np.nan
    res = simulate(close, expo, open=opn, fill="next_open")
    assert list(res.orders["date"]) == [close.index[k + 2]]
    assert res.orders["price"].iloc[0] == opn.iloc[k + 2]


# ---------------------------------------------------------------------------------------------
# 4. buy & hold


def test_buy_and_hold_tracks_the_price():
    close, _, _, _ = market(250, seed=6)
    res = simulate(close, pd.Series(1.0, close.index))
    eq = res.equity["X"]
    assert eq.iloc[0] == eq.iloc[1] == 1.0
    np.testing.assert_allclose((eq / eq.iloc[1]).iloc[1:], (close / close.iloc[1]).iloc[1:], rtol=RTOL)
    np.testing.assert_allclose(res.exposure["X"].iloc[1:], 1.0, rtol=RTOL)


# ---------------------------------------------------------------------------------------------
# 5. cash accrual


def test_cash_accrues_act360_including_weekends():
    idx = pd.bdate_range("2024-01-01", periods=30)  # Mon..Fri, so every Monday follows a 3-day gap
    rate = pd.Series(np.linspace(5.0, 5.5, len(idx)), idx)
    rate.iloc[7] = np.nan
    res = simulate(pd.Series(100.0, idx), pd.Series(0.0, idx), cash_rate=rate, init_cash=1000.0)
    eq = res.equity.iloc[:, 0]
    days = np.array([0] + [(idx[t] - idx[t - 1]).days for t in range(1, len(idx))])
    expected = 1000.0 * np.cumprod(np.r_[1.0, 1.0 + np.nan_to_num(rate.to_numpy()[1:]) / 100 * days[1:] / 360])
    np.testing.assert_allclose(eq.to_numpy(), expected, rtol=1e-12)
    monday = next(t for t in range(1, len(idx)) if idx[t].dayofweek == 0 and t != 7)
    assert eq.iloc[monday] / eq.iloc[monday - 1] == pytest.approx(1 + rate.iloc[monday] / 100 * 3 / 360, rel=1e-13)
    assert eq.iloc[7] == eq.iloc[6]  # NaN rate: no accrual
    assert res.orders.empty


def test_leveraged_cash_pays_the_rate():
    idx = pd.bdate_range("2024-01-01", periods=20)
    rate = pd.Series(5.0, idx)
    res = simulate(pd.Series(50.0, idx), pd.Series(2.0, idx), cash_rate=rate, max_leverage=2.0)
    # From bar 1 on: 2 units of value in the asset (flat price), cash = -1 compounding at the rate.
    g = growth_factors(idx, rate)
    debt = -np.cumprod(g[2:])
    np.testing.assert_allclose(res.equity.iloc[2:, 0].to_numpy(), 2 * g[1] + debt * g[1], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# 6. exposure bounds


def test_out_of_bounds_exposure_names_column_and_date():
    close, _, expo, _ = market(60)
    bad = pd.DataFrame({"alpha": expo, "beta": expo})
    bad.iloc[25, 1] = 1.3
    with pytest.raises(ValueError, match=r"'beta'.*" + str(close.index[25].date())):
        simulate(close, bad)
    bad.iloc[25, 1] = -0.1
    with pytest.raises(EngineInputError, match="beta"):
        simulate(close, bad)
    bad.iloc[25, 1] = 1.3
    simulate(close, bad, max_leverage=1.5)  # allowed with leverage


def test_actual_exposure_stays_in_bounds_with_threshold_rebalancing():
    close, _, expo, rate = market(400, seed=7)
    band = 0.01
    res = simulate(close, expo, cash_rate=rate, costs=Costs(2, 5), rebalance="threshold", rebalance_band=band)
    w = res.exposure["X"].to_numpy()
    assert np.nanmin(w) >= 0 and np.nanmax(w) <= 1 + 1e-12
    # Every close where the weight drifted off an unchanged target by more than the band is
    # followed by a fill; without the rule those bars have no order.
    target = expo.fillna(0.0).to_numpy()
    unchanged = np.r_[True, target[1:] == target[:-1]]
    drift = np.flatnonzero((np.abs(w - target) > band) & unchanged)[:-1]
    assert len(drift) > 5
    assert set(close.index[drift + 1]) <= set(res.orders["date"])
    plain = simulate(close, expo, cash_rate=rate, costs=Costs(2, 5))
    assert not set(close.index[drift + 1]) <= set(plain.orders["date"])


def test_mismatched_index_raises():
    close, _, expo, rate = market(60)
    with pytest.raises(ValueError, match="exposure index"):
        simulate(close, expo.iloc[1:])
    with pytest.raises(ValueError, match="cash_rate index"):
        simulate(close, expo, cash_rate=rate.iloc[:-1])


# ---------------------------------------------------------------------------------------------
# 7. truncation invariance


@pytest.mark.parametrize("kw", [dict(), dict(rebalance="threshold", rebalance_band=0.03),
                                dict(rebalance_every=10, fill="next_open")])
def test_truncation_invariance(kw):
    close, opn, expo, rate = market(300, seed=8, nan_frac=0.05)
    full = simulate(close, expo, open=opn, cash_rate=rate, costs=Costs(1, 2), **kw)
    for cut in (50, 173, 299):
        part = simulate(close.iloc[:cut], expo.iloc[:cut], open=opn.iloc[:cut], cash_rate=rate.iloc[:cut],
                        costs=Costs(1, 2), **kw)
        np.testing.assert_array_equal(part.equity.to_numpy(), full.equity.iloc[:cut].to_numpy())


# ---------------------------------------------------------------------------------------------
# 8. accounting property


@st.composite
def paths(draw):
    n = draw(st.integers(3, 60))
    rets = draw(st.lists(st.floats(-0.2, 0.2), min_size=n, max_size=n))
    gaps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    levels = draw(st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=n, max_size=n))
    rate = draw(st.floats(0, 20))
    fee, slip = draw(st.floats(0, 50)), draw(st.floats(0, 50))
    return n, rets, gaps, levels, rate, fee, slip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths(), st.sampled_from([None, "threshold"]), st.sampled_from(["next_close", "next_open"]))
def test_equity_is_cash_plus_positions(path, rebalance, fill):
    n, rets, gaps, levels, r, fee, slip = path
    idx = pd.bdate_range("2022-01-03", periods=n)
    close = pd.Series(50 * np.exp(np.cumsum(rets)), idx, name="A")
    close[np.array(gaps)] = np.nan
    opn = close.shift(1).fillna(50.0) * np.exp(np.sin(np.arange(n)) / 100)
    expo = pd.Series([np.nan if v is None else v for v in levels], idx, dtype=float)
    rate = pd.Series(r, idx)
    res = simulate(close, expo, open=opn, fill=fill, cash_rate=rate, costs=Costs(fee, slip), rebalance=rebalance,
                   rebalance_band=0.02)
    cash, units = replay(res, close.to_frame(), rate)
    eq = res.equity["A"].to_numpy()
    np.testing.assert_allclose(eq, cash + units[:, 0] * carried(close.to_frame())[:, 0], rtol=1e-9, atol=1e-12)
    assert (eq > 0).all()
    assert (cash >= -1e-12).all() and (units >= -1e-15).all()
    w = res.exposure["A"].to_numpy()
    assert (w >= 0).all() and (w <= 1 + 1e-9).all()
    assert (res.orders["date"] > idx[0]).all()
    assert close.reindex(res.orders["date"]).notna().all()  # never fills at a carried price


# ---------------------------------------------------------------------------------------------
# 9. multi-asset, shared cash, two calendars


def two_calendars(n: int = 70, seed: int = 9):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="D")  # every UTC day
    close = pd.DataFrame({"SPY": 400 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
                          "BTC": 40_000 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))}, idx)
    close.loc[idx.dayofweek >= 5, "SPY"] = np.nan
    return close


def next_trading_day(close: pd.Series, t: int) -> pd.Timestamp:
    return close.iloc[t + 1:].first_valid_index()


def test_portfolio_weekend_orders_wait_for_the_next_trading_day():
    close = two_calendars()
    idx = close.index
    sat = next(t for t in range(len(idx)) if idx[t].dayofweek == 5)
    fri = next(t for t in range(sat + 1, len(idx)) if idx[t].dayofweek == 4)
    w = pd.DataFrame(0.0, idx, close.columns)
    w.iloc[sat:] = [0.5, 0.3]
    w.iloc[fri:] = [0.2, 0.7]
    rate = pd.Series(4.0, idx)
    costs = {"SPY": DEFAULT_COSTS["equity"], "BTC": DEFAULT_COSTS["crypto"]}
    res = simulate_portfolio(close, w, cash_rate=rate, costs=costs)
    o = res.orders
    first = o.groupby("column")["date"].apply(list)
    assert first["BTC"][0] == idx[sat + 1] and first["SPY"][0] == next_trading_day(close["SPY"], sat)
    assert first["SPY"][0].dayofweek == 0 and first["BTC"][0].dayofweek == 6
    # Friday decision: BTC fills Saturday, SPY waits for Monday.
    assert first["BTC"][1] == idx[fri + 1]
    assert first["SPY"][1] == next_trading_day(close["SPY"], fri) and first["SPY"][1].dayofweek == 0
    assert list(res.equity.columns) == ["portfolio"] and list(res.exposure.columns) == ["SPY", "BTC"]

    # One shared cash account: equity = cash + both positions at carried closes, cash never < 0.
    cash, units = replay(res, close, rate)
    np.testing.assert_allclose(res.equity["portfolio"], cash + (units * carried(close)).sum(axis=1), rtol=1e-12)
    assert (cash >= -1e-12).all()
    # Saturday's BTC buy (0.3 -> 0.7) can only spend the ~0.2 of free cash: SPY's sale waits for Monday.
    assert abs(cash[fri + 1]) < 1e-12 and res.exposure["BTC"].iloc[fri + 1] < 0.6
    assert o[o["column"] == "SPY"]["side"].iloc[1] == "sell"


def test_portfolio_sells_before_buys_on_the_same_bar():
    close = two_calendars().ffill()  # both trade every day here
    idx = close.index
    w = pd.DataFrame({"SPY": 0.6, "BTC": 0.4}, idx)
    w.iloc[30:] = [0.4, 0.6]
    res = simulate_portfolio(close, w, costs=Costs(5, 5))
    day = res.orders[res.orders["date"] == idx[31]]
    assert list(day["side"]) == ["sell", "buy"] and list(day["column"]) == ["SPY", "BTC"]
    cash, _ = replay(res, close, None)
    assert (cash >= -1e-12).all()


def test_portfolio_of_one_asset_equals_simulate():
    close, _, expo, rate = market(200, seed=10, nan_frac=0.05)
    single = simulate(close, expo, cash_rate=rate, costs=Costs(2, 3), rebalance="threshold")
    multi = simulate_portfolio(close.to_frame(), expo.to_frame("X"), cash_rate=rate, costs={"X": Costs(2, 3)},
                               rebalance="threshold")
    np.testing.assert_array_equal(single.equity["X"].to_numpy(), multi.equity["portfolio"].to_numpy())


def test_portfolio_weights_over_leverage_raise():
    close = two_calendars()
    w = pd.DataFrame({"SPY": 0.6, "BTC": 0.6}, close.index)
    with pytest.raises(ValueError, match="above max_leverage"):
        simulate_portfolio(close, w)


# ---------------------------------------------------------------------------------------------
# misc behaviour


def test_columns_are_independent_accounts():
    close, _, expo, rate = market(150, seed=11)
    sweep = pd.DataFrame({"a": expo, "b": expo.fillna(0.0) * 0.3})
    both = simulate(close, sweep, cash_rate=rate, costs=Costs(1, 2))
    alone = simulate(close, sweep["b"], cash_rate=rate, costs=Costs(1, 2))
    np.testing.assert_array_equal(both.equity["b"].to_numpy(), alone.equity.iloc[:, 0].to_numpy())


def test_nan_exposure_means_cash_and_orders_only_on_changes():
    close, _, expo, _ = market(200, seed=12)
    res = simulate(close, expo)
    changes = expo.fillna(0.0).diff().fillna(expo.fillna(0.0)).ne(0)
    assert len(res.orders) == changes.sum()
    assert (res.equity["X"].iloc[:11] == 1.0).all()  # warm-up NaNs: in cash, no rate given


def test_costs_mapping_must_cover_every_column():
    close, _, expo, _ = market(30)
    sweep = pd.DataFrame({"a": expo, "b": expo})
    with pytest.raises(ValueError, match="no entry for column 'b'"):
        simulate(close, sweep, costs={"a": Costs(1, 2)})


def test_periodic_rebalance_adds_orders_back_to_target():
    close, _, _, _ = market(100, seed=13)
    expo = pd.Series(0.5, close.index)
    res = simulate(close, expo, rebalance_every=20)
    assert list(res.orders["date"]) == [close.index[t + 1] for t in (0, 20, 40, 60, 80)]
    np.testing.assert_allclose(res.exposure["X"].iloc[[1, 21, 41, 61, 81]], 0.5, rtol=1e-12)


def test_vectorbt_keeps_tiny_rebalances_in_high_priced_assets():
    """Fractional exposures on a BTC-like price: trades of < 1e-8 units must not be dropped."""
    rng = np.random.default_rng(11)
    idx = pd.date_range("2018-01-01", periods=400, freq="D")
    close = pd.Series(60_000 * np.exp(np.cumsum(rng.normal(0, 0.03, 400))), idx)
    # steps of ~2e-4 of equity = ~3e-9 BTC: below vectorbt's default min_size
    exposure = pd.Series(np.clip(0.5 + np.cumsum(rng.normal(0, 2e-4, 400)), 0, 1), idx)
    costs = Costs(10.0, 5.0)
    fast = simulate(close, exposure, costs=costs)
    slow = simulate(close, exposure, costs=costs, engine="vectorbt")
    rel = (fast.equity / slow.equity - 1).abs().to_numpy().max()
    assert rel < 1e-9, rel
