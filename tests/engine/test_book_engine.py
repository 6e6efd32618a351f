"""The book engine (riskoff.engine.books) against independent references.

- a US-only book, calendar rebalancing, no costs, no cash rate: vectorbt's grouped, cash-sharing
  ``from_orders`` (target percent, call_seq="auto", update_value=False) on the same targets;
- with costs and with a mixed-clock book (BTC-USD beside US assets): a plain per-bar loop written
  here from the rules of issue 25 (fills in UTC instant order, each sized on the value at its
  instant, sells first, a buy capped at the cash there is, costs per asset class).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.data.align import load
from riskoff.engine.account import Costs, EngineInputError
from riskoff.engine.books import simulate_book
from riskoff.strategies.books import PortfolioConfig, book_targets, rebalance_flags


def _closes(data_dir, assets, calendar, start="2016-01-01", end="2020-12-31") -> pd.DataFrame:
    cols = {}
    for a in assets:
        cal = "utc" if a.endswith("-USD") else "us"
        cols[a] = load([a], start, end, calendar=cal, data_dir=data_dir)[f"{a}.close"]
    frame = pd.DataFrame(cols).sort_index()
    return frame if calendar == "union" else frame.reindex(calendar)


def _random_exposure(index, assets, seed, steps=(0.0, 0.5, 1.0)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = {}
    for a in assets:
        level = rng.choice(steps, size=len(index))
        keep = rng.random(len(index)) > 0.04  # ~1 change in 25 bars
        keep[0] = True
        s = pd.Series(np.where(keep, np.nan, level), index=index)
        s.iloc[0] = 1.0
        s[~keep] = level[~keep]
        out[a] = s.where(~keep).ffill()
    return pd.DataFrame(out)


def _vbt_book(close: pd.DataFrame, targets: pd.DataFrame, rebal: np.ndarray):
    import vectorbt as vbt

    # the order of a decision at bar t fills at bar t+1: a size only where the target changed or a
    # rebalance was decided the bar before; NaN = no order, the position drifts
    prev = targets.shift(1).fillna(0.0)
    decided = (targets != prev).to_numpy() | rebal[:, None]
    size = np.where(np.vstack([np.zeros((1, targets.shape[1]), bool), decided[:-1]]),
                    np.vstack([np.full((1, targets.shape[1]), np.nan), targets.to_numpy()[:-1]]), np.nan)
    pf = vbt.Portfolio.from_orders(close=close, size=pd.DataFrame(size, index=close.index, columns=close.columns),
                                   size_type="targetpercent", group_by=True, cash_sharing=True, call_seq="auto",
                                   update_value=False, init_cash=1.0, min_size=0.0, freq="1D")
    return pf.value()


@pytest.mark.parametrize("rule,basket", [("monthly", {"TLT": 0.5, "GLD": 0.5}), ("quarterly", {})])
def test_us_book_equals_vectorbt_grouped_cash_sharing(data_dir, rule, basket):
    assets = ["SPY", "QQQ", "TLT", "GLD"]
    close = _closes(data_dir, assets, "union")
    assert not close.isna().any().any()  # one calendar: every US asset trades every session
    book = PortfolioConfig("b", weights=(("SPY", 0.4), ("QQQ", 0.2), ("TLT", 0.25), ("GLD", 0.15)),
                           rebalance=rule, risk_off_into=tuple(basket.items()))
    expo = _random_exposure(close.index, ["SPY", "QQQ", "GLD"], seed=3)  # TLT not covered: counts as 1
    targets = book_targets(book, expo)
    rebal = rebalance_flags(close.index, rule, us=True)
    assert rebal.sum() == (60 if rule == "monthly" else 20)
    sim = simulate_book(close, targets, clocks=dict.fromkeys(assets, "us"), rebalance_at=rebal)
    ref = _vbt_book(close, targets, rebal)
    np.testing.assert_allclose(sim.equity.to_numpy(), ref.to_numpy(), rtol=1e-12, atol=0)
    assert set(sim.orders["cause"]) == {"initial", "rule", "rebalance"}


# ---------------------------------------------------------------------------------------------
# the plain loop


def reference_book(close: pd.DataFrame, targets: pd.DataFrame, clocks: dict, costs: dict, growth: np.ndarray,
                   rebal: np.ndarray, band: float | None):
    """The rules of issue 25, one date and one fill instant at a time, in plain Python: ``(equity, log)``
    with one ``(date, column, units, cause)`` per fill in execution order."""
    cols = list(close.columns)
    # next_close: a US close (16:00 New York) comes before the crypto day's close (00:00 UTC next day)
    instants = sorted({clocks[c] for c in cols}, key=lambda c: 0 if c == "us" else 1)
    cash, units = 1.0, dict.fromkeys(cols, 0.0)
    last = dict.fromkeys(cols, np.nan)
    decided, pending, cause = dict.fromkeys(cols, 0.0), dict.fromkeys(cols, False), dict.fromkeys(cols, "")
    entered = set()
    equity, log = [], []
    for t, day in enumerate(close.index):
        cash *= growth[t]
        for inst in instants:
            px = {c: close.at[day, c] for c in cols}
            mark = {c: (px[c] if clocks[c] in instants[:instants.index(inst) + 1] and px[c] == px[c] else last[c])
                    for c in cols}
            group = [c for c in cols if clocks[c] == inst and pending[c] and px[c] == px[c]]
            if not group:
                continue
            value = cash + sum(units[c] * mark[c] for c in cols if units[c] != 0)
            trades = {}
            for c in group:
                pending[c] = False
                trades[c] = decided[c] * value / px[c] - units[c]
            for c in group:
                q = trades[c]
                if q < 0 and abs(q) * px[c] > 1e-12 * value:
                    got = -q * px[c] * (1 - costs[c].slippage_bps / 1e4)
                    cash += got * (1 - costs[c].fee_bps / 1e4)
                    units[c] += q
                    log.append((day, c, q, cause[c]))
            # buys smallest dollar gap first: when cash runs short the largest buy is capped
            for c in sorted(group, key=lambda c: (trades[c] * px[c], cols.index(c))):
                q = trades[c]
                if q > 0 and q * px[c] > 1e-12 * value:
                    spend = min(q * px[c], cash)  # never below zero cash: a capped buy
                    if spend > 0:
                        cash -= spend
                        bought = spend / (px[c] * (1 + costs[c].slippage_bps / 1e4) * (1 + costs[c].fee_bps / 1e4))
                        units[c] += bought
                        log.append((day, c, bought, cause[c]))
        for c in cols:
            if close.at[day, c] == close.at[day, c]:
                last[c] = close.at[day, c]
        eq = cash + sum(units[c] * last[c] for c in cols if units[c] != 0)
        equity.append(eq)
        for c in cols:
            w = units[c] * last[c] / eq if units[c] != 0 else 0.0
            tgt = targets.at[day, c]
            if band is not None and abs(w - tgt) > band and not pending[c]:
                pending[c], cause[c] = True, "band"
            if tgt != decided[c]:
                decided[c], pending[c], cause[c] = tgt, True, ("rule" if c in entered else "initial")
                entered.add(c)
        if rebal[t]:
            for c in cols:
                if not pending[c]:
                    pending[c], cause[c] = True, "rebalance"
    return np.array(equity), log


def _growth(index, rate_pct):
    days = np.r_[0.0, np.diff(index.to_numpy()).astype("timedelta64[D]").astype(float)]
    return 1.0 + rate_pct / 100 * days / 360


@pytest.mark.parametrize("rebalance", ["monthly", "band"])
def test_mixed_clock_book_with_costs_equals_plain_loop(data_dir, rebalance):
    assets = ["SPY", "TLT", "BTC-USD"]
    close = _closes(data_dir, assets, "union", start="2019-01-01", end="2021-12-31")
    assert close["SPY"].isna().any() and not close["BTC-USD"].isna().any()  # two clocks on one index
    clocks = {"SPY": "us", "TLT": "us", "BTC-USD": "utc"}
    # each asset decides on its own bars; the book carries a closed market's last decision
    expo = _random_exposure(close.index, ["SPY", "BTC-USD"], seed=11)
    expo["SPY"] = expo["SPY"].where(close["SPY"].notna()).ffill()
    book = PortfolioConfig("m", weights=(("SPY", 0.5), ("TLT", 0.3), ("BTC-USD", 0.2)),
                           rebalance=rebalance, band=0.03 if rebalance == "band" else None,
                           risk_off_into=(("TLT", 1.0),))
    targets = book_targets(book, expo)
    rebal = rebalance_flags(close.index, rebalance, us=True)
    costs = {"SPY": Costs(1, 2), "TLT": Costs(1, 2), "BTC-USD": Costs(10, 5)}
    rate = pd.Series(2.0, index=close.index)
    sim = simulate_book(close, targets, clocks=clocks, costs=costs, cash_rate=rate, rebalance_at=rebal,
                        band=book.band)
    ref, log = reference_book(close, targets, clocks, costs, _growth(close.index, 2.0), rebal, book.band)
    np.testing.assert_allclose(sim.equity.to_numpy(), ref, rtol=1e-11)
    assert len(sim.orders) == len(log)
    assert list(sim.orders["cause"]) == [c for *_, c in log]
    assert list(sim.orders["column"]) == [c for _, c, *_ in log]  # the same fill order: US before crypto
    if rebalance == "band":
        assert (sim.orders["cause"] == "band").sum() > 5


def test_later_fill_never_funds_an_earlier_one():
    """A BTC sale filled at 00:00 UTC cannot fund an SPY buy filled hours earlier on the same date:
    the SPY buy is capped at the cash there is at the NYSE close (0.2 of the book), flagged capped."""
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    close = pd.DataFrame({"SPY": [100.0] * 4, "BTC-USD": [50.0] * 4}, index=idx)
    targets = pd.DataFrame({"SPY": [0.4, 0.8, 0.8, 0.8], "BTC-USD": [0.4, 0.0, 0.0, 0.0]}, index=idx)
    sim = simulate_book(close, targets, clocks={"SPY": "us", "BTC-USD": "utc"})
    day2 = sim.orders[sim.orders["date"] == idx[2]]
    assert list(day2["column"]) == ["SPY", "BTC-USD"]  # US close first, then the crypto day's close
    assert list(day2["side"]) == ["buy", "sell"]
    assert day2["shortfall"].tolist() == pytest.approx([0.2, 0.0], abs=1e-15)  # 0.4 wanted, 0.2 of cash
    assert day2.iloc[0]["notional"] == pytest.approx(0.2, abs=1e-15)  # the cash at 16:00 New York, not 0.4
    assert sim.weights.loc[idx[3], "SPY"] == pytest.approx(0.6, abs=1e-15)
    assert list(sim.orders["cause"]) == ["initial", "initial", "rule", "rule"]
    # with the sale first (both on one clock) the buy is funded in full
    same = simulate_book(close, targets, clocks={"SPY": "utc", "BTC-USD": "utc"})
    assert same.weights.loc[idx[3], "SPY"] == pytest.approx(0.8, abs=1e-15)


def test_book_targets_above_one_are_refused():
    idx = pd.date_range("2024-01-01", periods=3, freq="D")
    close = pd.DataFrame({"A": [1.0, 1, 1], "B": [1.0, 1, 1]}, index=idx)
    with pytest.raises(EngineInputError, match="above 1"):
        simulate_book(close, pd.DataFrame({"A": [0.7] * 3, "B": [0.6] * 3}, index=idx), clocks={})
    with pytest.raises(EngineInputError, match="daily only"):
        simulate_book(close, close * 0.1, clocks={"A": "1h", "B": "us"})
