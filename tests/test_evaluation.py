"""Window and full-period metrics on hand-built paths, computed independently in the test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.evaluation.evaluate import (
    derisk_episodes,
    full_period_stats,
    max_drawdown,
    window_metrics,
)
from riskoff.evaluation.windows import SellOffWindow

IDX = pd.date_range("2020-01-01", periods=200, freq="D")


def path(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=IDX[: len(values)])


def test_max_drawdown_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    eq = path(np.cumprod(1 + rng.normal(0, 0.02, 200)))
    peak, worst = -np.inf, 0.0
    for v in eq:
        peak = max(peak, v)
        worst = min(worst, v / peak - 1)
    assert max_drawdown(eq) == pytest.approx(worst, rel=1e-12)


def test_derisk_episodes_are_runs_below_full():
    tgt = path([1, 1, 0, 0, 1, 0.5, 1, 0])
    assert derisk_episodes(tgt) == [(IDX[2], IDX[3]), (IDX[5], IDX[5]), (IDX[7], None)]


def test_window_metrics_for_a_strategy_that_sells_before_the_trough():
    # Buy & hold falls 40% from day 10 to day 20 and recovers; the strategy goes to cash on day 12
    # (decided), holds cash through the trough and is back in on day 25.
    bh = np.ones(120)
    bh[10:21] = np.linspace(1.0, 0.6, 11)
    bh[21:] = 0.6 * np.cumprod(np.full(99, 1.005))
    target = np.ones(120)
    target[12:25] = 0.0
    exposure = np.r_[1.0, target[:-1]]  # filled a bar later
    strat = np.ones(120)
    for t in range(1, 120):
        strat[t] = strat[t - 1] * (1 + exposure[t] * (bh[t] / bh[t - 1] - 1))
    w = SellOffWindow("w", "w", IDX[10], IDX[20], IDX[30])
    m = window_metrics(w, "X", path(strat), path(bh), path(exposure), path(target))
    assert m["bh_max_dd"] == pytest.approx(-0.4)
    assert m["strategy_max_dd"] == pytest.approx(strat[10:31].min() / strat[10:31].max() - 1)
    assert m["drawdown_avoided"] == pytest.approx(m["strategy_max_dd"] + 0.4)
    assert m["drawdown_avoided"] > 0.25
    assert m["exposure_at_trough"] == 0.0
    assert m["lead_time_days"] == 8          # de-risked on day 12, trough on day 20
    assert m["reentry_lag_days"] == 5        # back to full on day 25
    assert m["strategy_return"] == pytest.approx(strat[30] / strat[10] - 1)
    assert m["return_given_up_60d"] == pytest.approx((bh[90] / bh[30]) - (strat[90] / strat[30]))


def test_window_not_covered_by_the_data_gives_none():
    w = SellOffWindow("w", "w", IDX[150], IDX[160], IDX[250] if len(IDX) > 250 else pd.Timestamp("2030-01-01"))
    eq = path(np.ones(200))
    assert window_metrics(w, "X", eq, eq, eq, eq) is None


def test_full_period_stats_use_the_asset_class_annualisation():
    rng = np.random.default_rng(1)
    eq = path(np.cumprod(1 + rng.normal(0.001, 0.02, 200)))
    ones = path(np.ones(200))
    crypto = full_period_stats(eq, ones, ones, eq, "crypto", "utc")
    equity = full_period_stats(eq, ones, ones, eq, "equity", "us")
    rets = eq.pct_change().iloc[1:]
    assert crypto["periods_per_year"] == 365 and equity["periods_per_year"] == 252
    assert crypto["volatility"] == pytest.approx(rets.std() * np.sqrt(365), rel=1e-9)
    assert equity["volatility"] == pytest.approx(rets.std() * np.sqrt(252), rel=1e-9)
    assert crypto["cagr"] == pytest.approx((eq.iloc[-1] / eq.iloc[0]) ** (365 / len(rets)) - 1, rel=1e-9)


def test_false_alarms_count_episodes_without_a_following_drawdown():
    bh = np.ones(200)
    bh[100:110] = np.linspace(1.0, 0.8, 10)   # a 20% fall after day 100
    bh[110:] = 0.8
    target = np.ones(200)
    target[20:25] = 0.0    # nothing follows: false alarm
    target[95:105] = 0.0   # followed by the fall: a true alarm
    s = full_period_stats(path(bh), path(target), path(target), path(bh), "equity", "us")
    assert s["derisk_episodes"] == 2 and s["false_alarms"] == 1


# ---------------------------------------------------------------- the shared definitions (issue 12)
# lead_time, false_alarms_of and derisk_episodes are the one definition the run and the signal
# scorecard share. Reference: the label-slicing loops evaluation used before they were factored out.

def _runs_loop(target):
    below = (target.fillna(1.0) < 0.999).to_numpy()
    out, start = [], None
    for i, b in enumerate(below):
        if b and start is None:
            start = i
        elif not b and start is not None:
            out.append((target.index[start], target.index[i - 1]))
            start = None
    if start is not None:
        out.append((target.index[start], None))
    return out


def _lead_loop(tgt, trough, lookback=90):
    recent = tgt.loc[trough - pd.Timedelta(days=lookback):trough]
    if len(recent) and recent.iloc[-1] < 0.999:
        full_bars = recent[recent >= 0.999]
        first_off = recent.loc[full_bars.index[-1]:].index[1] if len(full_bars) else recent.index[0]
        return float((trough - first_off).days)
    return float("nan")


def _alarms_loop(episodes, bh, dd, horizon=60):
    n = 0
    for first, _ in episodes:
        h = bh.loc[first:first + pd.Timedelta(days=horizon)]
        if len(h) and (h.min() / h.iloc[0] - 1.0) > -dd:
            n += 1
    return n


@pytest.mark.parametrize("seed", range(8))
def test_shared_definitions_match_the_label_slicing_loops(seed):
    from riskoff.evaluation.evaluate import false_alarms_of, lead_time

    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2019-01-01", periods=600)
    tgt = pd.Series(np.where(rng.random(600) < 0.12 + 0.05 * seed, rng.choice([0.0, 0.5], 600), 1.0), idx)
    tgt = tgt.rolling(3, min_periods=1).min()  # runs of several bars, like real de-risking
    bh = pd.Series(np.cumprod(1 + rng.normal(0, 0.015, 600)), idx)
    assert derisk_episodes(tgt) == _runs_loop(tgt)
    for trough in list(idx[::17]) + [idx[0] - pd.Timedelta(days=3), pd.Timestamp("2019-06-01")]:  # incl. a Saturday
        got, want = lead_time(tgt, trough), _lead_loop(tgt, trough)
        assert (np.isnan(got) and np.isnan(want)) or got == want, trough
    for cls, dd in (("crypto", 0.15), ("equity", 0.07)):
        assert len(false_alarms_of(derisk_episodes(tgt), bh, cls)) == _alarms_loop(_runs_loop(tgt), bh, dd)


def alarm_path(n: int, fall: float) -> tuple[pd.Series, pd.Series]:
    """Buy & hold flat at 1, falling by ``fall`` over days 30..39 and staying there; the target is
    out on days 20..24 (one de-risk episode whose 60-day horizon covers the fall)."""
    idx = pd.date_range("2021-01-01", periods=n, freq="D")
    bh = np.ones(n)
    bh[30:40] = np.linspace(1.0, 1.0 - fall, 10)
    bh[40:] = 1.0 - fall
    target = np.ones(n)
    target[20:25] = 0.0
    return pd.Series(bh, idx), pd.Series(target, idx)


@pytest.mark.parametrize("fall,crypto_alarms,equity_alarms", [
    (0.10, 1, 0),   # a 10% fall: enough to justify an equity de-risk (7%), not a crypto one (15%)
    (0.05, 1, 1),   # below both thresholds: a false alarm everywhere
    (0.20, 0, 0),   # above both: a true alarm everywhere
])
def test_false_alarm_threshold_depends_on_the_asset_class(fall, crypto_alarms, equity_alarms):
    bh, target = alarm_path(200, fall)
    crypto = full_period_stats(bh, target, target, bh, "crypto", "utc")
    equity = full_period_stats(bh, target, target, bh, "equity", "us")
    assert (crypto["false_alarms"], equity["false_alarms"]) == (crypto_alarms, equity_alarms)
    assert (crypto["false_alarm_drawdown"], equity["false_alarm_drawdown"]) == (0.15, 0.07)
    assert crypto["derisk_episodes"] == equity["derisk_episodes"] == 1


def test_a_fall_after_the_60_day_horizon_does_not_justify_an_alarm():
    idx = pd.date_range("2021-01-01", periods=200, freq="D")
    bh = pd.Series(np.r_[np.ones(90), np.full(110, 0.5)], idx)   # falls 50% on day 90
    target = pd.Series(np.r_[np.ones(20), np.zeros(5), np.ones(175)], idx)  # out on day 20: 70 days early
    assert full_period_stats(bh, target, target, bh, "equity", "us")["false_alarms"] == 1


@pytest.mark.parametrize("asset_class,calendar,bars_per_year", [("equity", "us", 252), ("crypto", "utc", 365)])
@pytest.mark.parametrize("years", [1, 2])
def test_turnover_is_traded_weight_per_year(asset_class, calendar, bars_per_year, years):
    # one year = bars_per_year returns; the target trades 1 + 1 + 0.5 + 0.5 = 3.0 of weight in all
    n = bars_per_year * years + 1
    idx = pd.date_range("2021-01-01", periods=n, freq="D")
    target = np.ones(n)
    target[50:60] = 0.0
    target[100:110] = 0.5
    eq = pd.Series(np.linspace(1.0, 1.5, n), idx)
    s = full_period_stats(eq, pd.Series(target, idx), pd.Series(target, idx), eq, asset_class, calendar)
    assert s["turnover"] == pytest.approx(3.0 / years, rel=1e-12)
