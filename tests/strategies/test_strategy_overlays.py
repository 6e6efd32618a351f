"""Stateful overlays: each numba loop against a plain-python reference loop on random inputs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategy_synth import price_paths


from riskoff.strategies.overlays import Overlays, apply_overlays, gate, hysteresis, trailing_stop

LEVELS = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
targets = st.lists(st.one_of(LEVELS, st.floats(0, 1)), min_size=1, max_size=120)


# ---- plain-python references, written from the docstrings ----------------------------------
# They are organised differently from the numba loops they check (segments and look-backs over the
# output already produced, instead of one pass with state variables), so a shared slip in a loop
# does not cancel out.
def ref_hysteresis(x, band):
    """Piecewise-constant output: each held level lasts until the first input that differs from it
    by more than ``band``; that input becomes the next level. Starts at 0."""
    x = [float(v) for v in x]
    out, level, i = [], 0.0, 0
    while i < len(x):
        jump = next((j for j in range(i, len(x)) if abs(x[j] - level) > band), len(x))
        out.extend([level] * (jump - i))  # bars inside the band hold the level
        if jump < len(x):
            level = x[jump]
            out.append(level)
        i = jump + 1
    return np.array(out)


def ref_gate(x, min_out, cooldown):
    """A rise is allowed unless the output was cut fewer than ``min_out`` bars ago; a cut is allowed
    unless the output rose at most ``cooldown`` bars ago. Both read the output history itself."""
    out = []

    def bars_since(kind, t):
        for s in range(t - 1, -1, -1):
            before = out[s - 1] if s else 0.0
            if (kind == "cut" and out[s] < before) or (kind == "rise" and out[s] > before):
                return t - s
        return math.inf

    for t, v in enumerate(x):
        held = out[-1] if out else 0.0
        if v > held and bars_since("cut", t) >= min_out:
            out.append(v)
        elif v < held and bars_since("rise", t) > cooldown:
            out.append(v)
        else:
            out.append(held)
    return np.array(out)


def ref_stop(x, close, stop, n):
    out, prev, peak, stopped_at = [], 0.0, math.nan, None
    for t, (v, c) in enumerate(zip(x, close)):
        if stopped_at is not None:
            window = [p for p in close[max(0, t - n + 1): t] if not math.isnan(p)]
            new_high = not math.isnan(c) and all(c >= p for p in window)
            if v > 0 and (t - stopped_at >= n or new_high):
                stopped_at = None
            else:
                out.append(0.0)
                prev = 0.0
                continue
        if v <= 0:
            out.append(0.0)
            prev = 0.0
            continue
        if prev == 0.0 or math.isnan(peak):
            peak = c
        elif not math.isnan(c):
            peak = max(peak, c)
        if not math.isnan(c) and not math.isnan(peak) and c <= peak * (1 - stop):
            stopped_at = t
            out.append(0.0)
            prev = 0.0
            continue
        out.append(v)
        prev = v
    return np.array(out)


# ---- reference equality on random inputs --------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(x=targets, band=st.floats(0, 0.9))
def test_hysteresis_matches_reference(x, band):
    np.testing.assert_array_equal(hysteresis(np.array(x), band), ref_hysteresis(x, band))


@settings(max_examples=150, deadline=None)
@given(x=targets, min_out=st.integers(0, 15), cooldown=st.integers(0, 15))
def test_gate_matches_reference(x, min_out, cooldown):
    np.testing.assert_array_equal(gate(np.array(x), min_out, cooldown), ref_gate(x, min_out, cooldown))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), stop=st.floats(0.01, 0.5), n=st.integers(1, 30))
def test_trailing_stop_matches_reference(data, stop, n):
    x = data.draw(targets)
    close = data.draw(price_paths(len(x)))
    np.testing.assert_array_equal(trailing_stop(np.array(x), close, stop, n), ref_stop(x, list(close), stop, n))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), band=st.floats(0, 0.5), min_out=st.integers(0, 10), cooldown=st.integers(0, 10),
       stop=st.sampled_from([0.0, 0.05, 0.2]), lev=st.sampled_from([0.5, 1.0, 2.0]))
def test_apply_overlays_is_the_documented_pipeline(data, band, min_out, cooldown, stop, lev):
    x = data.draw(st.lists(st.one_of(st.just(math.nan), st.floats(0, 3)), min_size=1, max_size=100))
    close = data.draw(price_paths(len(x)))
    idx = pd.date_range("2021-01-01", periods=len(x), name="date")
    ov = Overlays(min_bars_out=min_out, cooldown_bars=cooldown, hysteresis=band * lev, trailing_stop=stop,
                  max_leverage=lev, stop_reentry_bars=7)
    got = apply_overlays(pd.Series(x, index=idx), pd.Series(close, index=idx), ov)
    want = [min(0.0 if math.isnan(v) else v, lev) for v in x]
    want = ref_hysteresis(want, band * lev)
    want = ref_gate(list(want), min_out, cooldown)
    if stop:
        want = ref_stop(list(want), list(close), stop, 7)
    np.testing.assert_array_equal(got.to_numpy(), want)
    assert got.between(0, lev).all() and got.index.equals(idx)


# ---- the semantics themselves (properties, independent of the reference loops) ---------------
@settings(max_examples=100, deadline=None)
@given(x=targets, min_out=st.integers(2, 15))
def test_min_time_out_holds_after_every_cut(x, min_out):
    out = gate(np.array(x), min_out, 0)
    cuts = [t for t in range(len(out)) if out[t] < (out[t - 1] if t else 0.0)]
    for d in cuts:
        seg = out[d: d + min_out]
        assert all(seg[i + 1] <= seg[i] for i in range(len(seg) - 1)), (d, seg)


@settings(max_examples=100, deadline=None)
@given(x=targets, cooldown=st.integers(1, 15))
def test_cooldown_blocks_cuts_after_every_rise(x, cooldown):
    out = gate(np.array(x), 0, cooldown)
    rises = [t for t in range(len(out)) if out[t] > (out[t - 1] if t else 0.0)]
    for e in rises:
        seg = out[e: e + cooldown + 1]
        assert all(seg[i + 1] >= seg[i] for i in range(len(seg) - 1)), (e, seg)


@settings(max_examples=100, deadline=None)
@given(x=targets, band=st.floats(0.01, 0.9))
def test_hysteresis_moves_only_beyond_the_band(x, band):
    out = hysteresis(np.array(x), band)
    prev = 0.0
    for v, o in zip(x, out):
        if o != prev:
            assert abs(v - prev) > band and o == v
        else:
            assert abs(v - prev) <= band or v == prev
        prev = o


@pytest.mark.parametrize("min_out, cooldown, want", [
    # cut at bar 1; with min_bars_out = N the rise is taken exactly N bars later, not N + 1
    (2, 0, [1, 0, 0, 1, 1, 1]),
    (3, 0, [1, 0, 0, 0, 1, 1]),
    (0, 0, [1, 0, 1, 1, 1, 1]),
])
def test_min_time_out_boundary_directed(min_out, cooldown, want):
    # hand-written from the definition (the random reference tests may not draw this boundary)
    np.testing.assert_array_equal(gate(np.array([1, 0, 1, 1, 1, 1.0]), min_out, cooldown), want)


def test_cooldown_boundary_directed():
    # a rise at bar 1; with cooldown_bars = 2 a cut is allowed only when more than 2 bars have passed
    x = np.array([0, 1, 0, 0, 0, 0.0])
    np.testing.assert_array_equal(gate(x, 0, 2), [0, 1, 1, 1, 0, 0])


def test_trailing_stop_directed():
    # 0..9 rise to 110, then fall 12% -> stop; rule stays invested the whole time
    close = np.r_[np.linspace(100, 110, 10), [105, 99, 97, 98, 99, 100, 101, 102, 103, 104, 111, 112]]
    x = np.ones(len(close))
    out = trailing_stop(x, close, 0.10, reentry_bars=30)
    hit = int(np.argmax(close <= 110 * 0.9))
    assert out[:hit].tolist() == [1.0] * hit and out[hit] == 0.0
    # back in only when close makes a new 30-bar high (111 > 110), not before
    back = int(np.argmax(close > 110))
    assert (out[hit:back] == 0).all() and (out[back:] == 1).all()
    # with a short time release the stop lifts after 3 bars although no new high is made
    out3 = trailing_stop(x, close, 0.10, reentry_bars=3)
    assert out3[hit: hit + 3].tolist() == [0.0, 0.0, 0.0] and out3[hit + 3] == 1.0
    # no release while the rule itself is out
    xr = x.copy()
    xr[hit:back + 1] = 0.0
    outr = trailing_stop(xr, close, 0.10, reentry_bars=3)
    assert (outr[hit: back + 1] == 0).all() and outr[back + 1] == 1.0


def test_overlays_validation():
    from riskoff.util.errors import ConfigError
    with pytest.raises(ConfigError, match=r"overlays\.trailing_stop = 1\.5 is out of range"):
        Overlays(trailing_stop=1.5)
    with pytest.raises(ConfigError, match=r"overlays\.min_bars_out = 2\.5.*whole number"):
        Overlays(min_bars_out=2.5)
    with pytest.raises(ConfigError, match=r"overlays\.hysteresis"):
        Overlays(hysteresis=1.0, max_leverage=1.0)
    with pytest.raises(ConfigError, match=r"overlays\.cooldown_bars = 'x'"):
        Overlays(cooldown_bars="x")
    assert Overlays(min_bars_out=3.0).min_bars_out == 3 and isinstance(Overlays(min_bars_out=3.0).min_bars_out, int)


def test_idle_exposure_is_held_while_the_rule_has_no_opinion():
    import numpy as np
    import pandas as pd

    from riskoff.strategies.overlays import Overlays, apply_overlays
    idx = pd.date_range("2020-01-01", periods=6)
    raw = pd.Series([np.nan, np.nan, 1.0, 0.0, np.nan, 1.0], idx)
    close = pd.Series(100.0, idx)
    assert apply_overlays(raw, close, Overlays()).tolist() == [0, 0, 1, 0, 0, 1]
    assert apply_overlays(raw, close, Overlays(idle_exposure=1.0)).tolist() == [1, 1, 1, 0, 1, 1]
    assert apply_overlays(raw, close, Overlays(idle_exposure=0.5, min_bars_out=3)).tolist() == [0.5, 0.5, 1, 0, 0, 0]


def test_hysteresis_holds_on_a_move_of_exactly_the_band():
    # 0 -> 0.5 is beyond 0.25; 0.5 -> 0.75 and 0.5 -> 0.25 are exactly 0.25: "more than the band" holds
    assert hysteresis(np.array([0.5, 0.75, 0.25, 0.2]), 0.25).tolist() == [0.5, 0.5, 0.5, 0.2]


def test_trailing_stop_fires_on_a_fall_of_exactly_the_stop_width():
    close = np.array([100.0, 100.0, 90.0, 95.0])   # 90 = 100 x (1 - 0.10)
    assert trailing_stop(np.ones(4), close, 0.10, reentry_bars=30).tolist() == [1.0, 1.0, 0.0, 0.0]
