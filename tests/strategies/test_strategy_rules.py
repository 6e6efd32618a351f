"""Each shipped rule on synthetic state frames: exposures as the rule's docstring specifies."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_synth import make_ctx, state_frames

from riskoff.strategies.contract import discover_strategies, run_rule
from riskoff.util.errors import ConfigError

N = np.nan
REG = discover_strategies()


def rule(name, ctx, **params):
    return run_rule(REG.get(name), ctx, params)


def per_row(states: pd.DataFrame, fn) -> np.ndarray:
    """Reference: apply ``fn(list of states without NaN)`` row by row; NaN when no opinion."""
    out = []
    for row in states.itertuples(index=False):
        known = [v for v in row if not math.isnan(v)]
        out.append(fn(known, list(row)) if known else math.nan)
    return np.array(out, dtype="float64")


def assert_same(got: pd.Series, want: np.ndarray) -> None:
    np.testing.assert_allclose(got.to_numpy(), want, rtol=0, atol=1e-12, equal_nan=True)


# ---- any_off / all_off / k_of_n ------------------------------------------------------------
def test_any_off_small_case():
    ctx = make_ctx({"a": [0, 2, 0, N, 1, N], "b": [0, 0, 1, 2, 1, N]})
    got = rule("any_off", ctx, off_exposure=0.25)
    assert_same(got, np.array([1, 0.25, 1, 0.25, 1, N]))
    got = rule("any_off", ctx, caution_is_off=True)
    assert_same(got, np.array([1, 0, 0, 0, 0, N]))


def test_all_off_small_case():
    ctx = make_ctx({"a": [2, 2, 2, N, 1], "b": [0, 2, N, 2, 2]})
    assert_same(rule("all_off", ctx), np.array([1, 0, 1, 1, 1]))
    assert_same(rule("all_off", ctx, caution_is_off=True), np.array([1, 0, 1, 1, 0]))


@settings(max_examples=60, deadline=None)
@given(frame=state_frames(), off=st.floats(0, 1), on=st.floats(0, 2))
def test_any_all_off_match_reference(frame, off, on):
    ctx = make_ctx(frame)
    assert_same(rule("any_off", ctx, off_exposure=off, on_exposure=on),
                per_row(frame, lambda k, row: off if 2.0 in k else on))
    assert_same(rule("all_off", ctx, off_exposure=off, on_exposure=on),
                per_row(frame, lambda k, row: off if all(v == 2.0 for v in row) else on))


@settings(max_examples=60, deadline=None)
@given(frame=state_frames(), data=st.data())
def test_k_of_n_counts(frame, data):
    n = frame.shape[1]
    k = data.draw(st.integers(1, n))
    cw = data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    ctx = make_ctx(frame)
    want = per_row(frame, lambda kn, row: 0.0 if sum(1.0 if v == 2 else cw if v == 1 else 0.0 for v in kn) >= k
                   else 1.0)
    assert_same(rule("k_of_n", ctx, k=k, caution_weight=cw), want)


def test_k_of_n_is_any_off_at_1_and_all_off_at_n():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.choice([0.0, 1.0, 2.0, N], size=(200, 3)), columns=list("abc"))
    ctx = make_ctx(frame)
    pd.testing.assert_series_equal(rule("k_of_n", ctx, k=1), rule("any_off", ctx))
    pd.testing.assert_series_equal(rule("k_of_n", ctx, k=3), rule("all_off", ctx))


def test_k_of_n_rejects_k_above_signal_count():
    ctx = make_ctx({"a": [0, 2], "b": [2, 2]})
    with pytest.raises(ConfigError, match=r"k = 3 .*2 signal"):
        rule("k_of_n", ctx, k=3)


# ---- exposure_ladder ----------------------------------------------------------------------
def test_ladder_steps_default():
    # votes: 0, 1, 2, 0.5 (one caution), 1 (two cautions), 1.5 (off + caution), 3 (past the last rung)
    ctx = make_ctx({"a": [0, 2, 2, 1, 1, 2, 2, N],
                    "b": [0, 0, 2, 0, 1, 1, 2, N],
                    "c": [0, 0, 0, 0, 0, 0, 2, N]})
    assert_same(rule("exposure_ladder", ctx), np.array([1.0, 0.5, 0.0, 0.75, 0.5, 0.25, 0.0, N]))


def test_ladder_custom_steps_and_caution_weight():
    ctx = make_ctx({"a": [0, 2, 2, 2, 1], "b": [0, 0, 2, 2, 1], "c": [0, 0, 0, 2, 1]})
    got = rule("exposure_ladder", ctx, steps=[1.0, 0.6, 0.3, 0.1], caution_weight=0.0)
    assert_same(got, np.array([1.0, 0.6, 0.3, 0.1, 1.0]))


@settings(max_examples=60, deadline=None)
@given(frame=state_frames(), cw=st.floats(0, 1),
       steps=st.lists(st.floats(0, 2), min_size=1, max_size=5))
def test_ladder_matches_reference(frame, cw, steps):
    def ref(known, row):
        votes = sum(1.0 if v == 2 else cw if v == 1 else 0.0 for v in known)
        i = int(math.floor(votes))
        if i >= len(steps) - 1:
            return steps[-1]
        frac = votes - i
        return steps[i] + frac * (steps[i + 1] - steps[i])
    got = rule("exposure_ladder", make_ctx(frame), steps=steps, caution_weight=cw)
    np.testing.assert_allclose(got.to_numpy(), per_row(frame, ref), atol=1e-9, equal_nan=True)


def test_ladder_rejects_bad_steps():
    ctx = make_ctx({"a": [0, 2]})
    with pytest.raises(ConfigError, match="steps"):
        rule("exposure_ladder", ctx, steps=[1.0, -0.5])
    with pytest.raises(ConfigError, match="steps"):
        rule("exposure_ladder", ctx, steps=[])


# ---- weighted_score -----------------------------------------------------------------------
def test_weighted_score_thresholds():
    ctx = make_ctx({"a": [2, 0, N, 1, 0, 2], "b": [0, 2, 2, 1, 1, 2]})
    # weights a=3, b=1: scores .75, .25, 1 (a has no opinion: renormalised), .5, .125, 1
    got = rule("weighted_score", ctx, weights={"a": 3, "b": 1}, caution_threshold=0.2, off_threshold=0.6,
               caution_exposure=0.4)
    assert_same(got, np.array([0.0, 0.4, 0.0, 0.4, 1.0, 0.0]))
    # equal weights: .5, .5, 1, .5, .25, 1 with default thresholds .25 / .5
    assert_same(rule("weighted_score", ctx), np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.0]))
    # a list of weights in signal order is the same as the table
    pd.testing.assert_series_equal(rule("weighted_score", ctx, weights=[3, 1], off_threshold=0.6),
                                   rule("weighted_score", ctx, weights={"a": 3, "b": 1}, off_threshold=0.6))


@settings(max_examples=60, deadline=None)
@given(frame=state_frames(), data=st.data())
def test_weighted_score_matches_reference(frame, data):
    labels = list(frame.columns)
    w = {lab: data.draw(st.floats(0.1, 5)) for lab in labels}
    lo = data.draw(st.floats(0, 1))
    hi = data.draw(st.floats(lo, 1))
    score_of = {0.0: 0.0, 1.0: 0.5, 2.0: 1.0}

    def ref(known, row):
        pairs = [(w[lab], score_of[v]) for lab, v in zip(labels, row) if not math.isnan(v)]
        s = sum(a * b for a, b in pairs) / sum(a for a, _ in pairs)
        return 0.0 if s >= hi - 1e-12 else 0.5 if s >= lo - 1e-12 else 1.0
    got = rule("weighted_score", make_ctx(frame), weights=w, caution_threshold=lo, off_threshold=hi)
    assert_same(got, per_row(frame, ref))


def test_weighted_score_rejects_unknown_label_and_bad_thresholds():
    ctx = make_ctx({"vix": [0, 2], "breadth": [2, 2]})
    with pytest.raises(ConfigError, match=r"'vx'.*did you mean 'vix'"):
        rule("weighted_score", ctx, weights={"vx": 1})
    with pytest.raises(ConfigError, match="off_threshold"):
        rule("weighted_score", ctx, caution_threshold=0.8, off_threshold=0.5)
    with pytest.raises(ConfigError, match="weights has 3 entries"):
        rule("weighted_score", ctx, weights=[1, 1, 1])


# ---- reenter_when -------------------------------------------------------------------------
def test_reenter_only_after_named_signals_recover():
    #              0  1  2  3  4  5  6  7  8  9
    vix =         [0, 0, 2, 2, 0, 0, 0, 0, 0, 0]
    breadth =     [0, 0, 0, 1, 1, N, 0, 0, 0, 0]
    ma =          [0, 0, 0, 2, 2, 2, 2, 2, 2, 0]
    ctx = make_ctx({"vix": vix, "breadth": breadth, "ma": ma})
    got = rule("reenter_when", ctx, signals=["vix", "breadth"])
    # out at 2 (vix turns off); vix back on at 4 but breadth in caution, NaN at 5 -> still out;
    # both on at 6 -> re-enter, although ma is still risk-off (it turned off at 3, no new exit)
    assert_same(got, np.array([1, 1, 0, 0, 0, 0, 1, 1, 1, 1]))
    # caution_ok: breadth's caution counts as recovered from bar 4
    assert_same(rule("reenter_when", ctx, signals=["vix", "breadth"], caution_ok=True),
                np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 1]))
    # default (all signals must be risk-on): ma blocks re-entry until bar 9
    assert_same(rule("reenter_when", ctx), np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1]))


def test_reenter_exit_on_subset_and_new_exit_edge():
    a = [N, 0, 2, 2, 2, 0, 0, 2, 0]
    b = [N, 2, 0, 0, 0, 0, 0, 0, 0]
    ctx = make_ctx({"a": a, "b": b})
    # exit only on a: b's risk-off at bar 1 is ignored; a turns off at 2, back on at 5; turns off again at 7
    got = rule("reenter_when", ctx, exit_on=["a"], signals=["a"], off_exposure=0.2)
    assert_same(got, np.array([N, 1, 0.2, 0.2, 0.2, 1, 1, 0.2, 1]))


def reenter_reference(frame, entry, exits, caution_ok, off, on):
    labels = list(frame.columns)
    last = {lab: None for lab in labels}
    out, started, invested = [], False, True
    for row in frame.itertuples(index=False):
        vals = dict(zip(labels, row))
        edge = False
        for lab, v in vals.items():
            if math.isnan(v):
                continue
            if lab in exits and v == 2 and last[lab] != 2:
                edge = True
            last[lab] = v
        if not started and all(math.isnan(v) for v in row):
            out.append(math.nan)
            continue
        started = True
        if invested and edge:
            invested = False
        elif not invested and not edge:
            limit = 1 if caution_ok else 0
            if all(not math.isnan(vals[lab]) and vals[lab] <= limit for lab in entry):
                invested = True
        out.append(on if invested else off)
    return np.array(out, dtype="float64")


@settings(max_examples=80, deadline=None)
@given(frame=state_frames(max_bars=80), data=st.data())
def test_reenter_when_matches_reference(frame, data):
    labels = list(frame.columns)
    entry = data.draw(st.lists(st.sampled_from(labels), unique=True))
    exits = data.draw(st.lists(st.sampled_from(labels), unique=True))
    caution_ok = data.draw(st.booleans())
    got = rule("reenter_when", make_ctx(frame), signals=entry, exit_on=exits, caution_ok=caution_ok,
               off_exposure=0.1, on_exposure=0.9)
    want = reenter_reference(frame, entry or labels, exits or labels, caution_ok, 0.1, 0.9)
    assert_same(got, want)


def test_reenter_when_rejects_unknown_label():
    ctx = make_ctx({"vix_mean_reversion": [0, 2], "breadth": [0, 0]})
    with pytest.raises(ConfigError, match=r"'vix_mean_reversio'.*did you mean 'vix_mean_reversion'"):
        rule("reenter_when", ctx, signals=["vix_mean_reversio"])


# ---- baselines on synthetic paths ---------------------------------------------------------
def test_buy_and_hold_is_constant():
    ctx = make_ctx({"a": [N] * 50})
    assert (rule("buy_and_hold", ctx) == 1.0).all()
    assert (rule("buy_and_hold", ctx, exposure=0.6) == 0.6).all()


def test_ma_timing_synthetic():
    # up 60 bars, down 60 bars: in while close > 20-bar mean, NaN for the first 19 bars
    close = np.r_[np.linspace(100, 160, 60), np.linspace(159, 100, 60)]
    ctx = make_ctx({"a": [N] * len(close)}, close)
    got = rule("ma_timing", ctx, window=20)
    ma = pd.Series(close).rolling(20).mean().to_numpy()
    want = np.where(np.isnan(ma), np.nan, (close > ma).astype(float))
    assert_same(got, want)
    assert np.isnan(got.iloc[:19]).all() and got.iloc[19:60].eq(1).all() and got.iloc[-10:].eq(0).all()


def test_ma_timing_monthly_only_changes_on_first_bar_of_month():
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 400)))
    ctx = make_ctx({"a": [N] * 400}, close)
    daily = rule("ma_timing", ctx, window=50)
    monthly = rule("ma_timing", ctx, window=50, monthly=True)
    month = ctx.close.index.to_period("M")
    first = np.r_[True, month[1:] != month[:-1]]
    # equal to the daily decision on first bars, constant within the month
    assert_same(monthly[first], daily[first].to_numpy())
    for _, grp in monthly.groupby(month):
        assert grp.nunique(dropna=False) == 1
    assert (monthly != daily).any()


@pytest.mark.parametrize("calendar", ["us", "utc"])
def test_vol_target_uses_periods_per_year(calendar):
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    ctx = make_ctx({"a": [N] * 300}, close, calendar=calendar)
    got = rule("vol_target", ctx, target_vol=0.1, window=30, max_exposure=2.0)
    ret = pd.Series(close).pct_change()
    vol = ret.rolling(30).std().to_numpy() * np.sqrt({"us": 252, "utc": 365}[calendar])
    assert_same(got, np.minimum(0.1 / vol, 2.0))
    assert np.isnan(got.iloc[:30]).all() and got.iloc[30:].notna().all()
