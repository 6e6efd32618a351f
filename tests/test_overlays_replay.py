"""Streamed overlays (what a sweep runs) equal riskoff.strategies.overlays.apply_overlays bar for bar.

The streamed version skips history before a *reset point* (a long enough run of zero raw
targets); random targets with zero runs of every length, fractional levels, NaN, inf and random
overlay parameters check that the skip never changes an output.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskoff.strategies.overlays import (
    Overlays,
    apply_overlays,
    overlay_stream_nb,
    prev_max,
)


def _streamed(raw: np.ndarray, close: np.ndarray, ov: Overlays, first: int) -> np.ndarray:
    n = len(raw)
    prevmax = prev_max(close, ov.stop_reentry_bars) if ov.trailing_stop > 0 else np.full(n, -np.inf)
    with np.errstate(invalid="ignore"):
        pos = raw[raw > 0]
    minpos = float(pos.min()) if len(pos) else np.inf
    out = np.full(n, -99.0)
    overlay_stream_nb(ov.to_record()[0], np.ascontiguousarray(raw), minpos, np.ascontiguousarray(close),
                      np.ascontiguousarray(prevmax), first, out)
    return out


def _raw_path(rng: np.random.Generator, n: int, levels: list[float]) -> np.ndarray:
    out = np.empty(n)
    t = 0
    while t < n:
        run = int(rng.geometric(rng.choice([0.02, 0.1, 0.4])))
        out[t:t + run] = rng.choice(levels)
        t += run
    out[rng.random(n) < 0.01] = np.nan
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       hyst=st.sampled_from([0.0, 0.0, 0.05, 0.3, 0.6]),
       min_out=st.sampled_from([0, 1, 2, 5, 30]),
       cooldown=st.sampled_from([0, 0, 1, 4, 25]),
       stop=st.sampled_from([0.0, 0.0, 0.02, 0.08, 0.3]),
       reentry=st.sampled_from([1, 2, 5, 20, 60]),
       ml=st.sampled_from([1.0, 1.0, 2.0]),
       fractional=st.booleans())
def test_streamed_overlays_equal_apply_overlays(seed, hyst, min_out, cooldown, stop, reentry, ml, fractional):
    if hyst >= ml:
        hyst = 0.0
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 700))
    levels = [0.0, 0.0, 1.0] + ([0.25, 0.5, 0.04, 1.5, np.inf, -np.inf] if fractional else [])
    raw = _raw_path(rng, n, levels)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    close[rng.random(n) < 0.03] = np.nan
    ov = Overlays(min_bars_out=min_out, cooldown_bars=cooldown, hysteresis=hyst, trailing_stop=stop,
                  max_leverage=ml, stop_reentry_bars=reentry)
    idx = pd.date_range("2000-01-01", periods=n)
    expected = apply_overlays(pd.Series(raw, idx), pd.Series(close, idx), ov).to_numpy()
    first = int(rng.integers(0, n))
    got = _streamed(raw, close, ov, first)
    np.testing.assert_array_equal(got[first:], expected[first:])


def test_reset_point_is_used_and_exact():
    """A long zero run before the traded span: the stream restarts there, with identical output."""
    rng = np.random.default_rng(7)
    n = 3000
    raw = np.ones(n)
    raw[1000:1100] = 0.0          # reset point at 1100 for any L <= 100
    raw[:1000] = rng.random(1000) > 0.5
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    ov = Overlays(min_bars_out=5, cooldown_bars=3, trailing_stop=0.05, stop_reentry_bars=20)
    idx = pd.date_range("2000-01-01", periods=n)
    expected = apply_overlays(pd.Series(raw, idx), pd.Series(close, idx), ov).to_numpy()
    got = _streamed(raw, close, ov, 2000)
    np.testing.assert_array_equal(got[2000:], expected[2000:])
    # the bars before the reset point were not computed (left at the fill value)
    assert np.all(got[:1000] == -99.0)


@pytest.mark.parametrize("hyst", [0.1, 0.5])
def test_no_reset_when_hysteresis_can_hold_a_small_level(hyst):
    """A positive raw value inside the band can keep hysteresis non-zero through a zero run."""
    n = 400
    raw = np.zeros(n)
    raw[10:20] = 1.0
    raw[20:30] = 0.05              # inside the band: hysteresis output stays at 1.0 ... then
    raw[30:300] = 0.0              # ... drops to 0 (|0 - 1| > band)
    raw[300:] = 0.05               # never moves from 0 again
    raw[100:105] = 1.0
    raw[105:110] = 0.05            # hysteresis stays at 1.0 across the zero run below
    close = np.linspace(100, 120, n)
    ov = Overlays(hysteresis=hyst, min_bars_out=3)
    idx = pd.date_range("2000-01-01", periods=n)
    expected = apply_overlays(pd.Series(raw, idx), pd.Series(close, idx), ov).to_numpy()
    got = _streamed(raw, close, ov, 350)
    np.testing.assert_array_equal(got[350:], expected[350:])


@pytest.mark.parametrize("zeros", range(1, 40))
def test_reset_waits_for_a_cut_held_by_the_cooldown(zeros):
    """A rise just before a zero run: the cooldown delays the cut, which delays the next rise."""
    n = 300
    raw = np.zeros(n)
    raw[95:100] = 1.0                 # rise at 95 (cooldown holds the exposure until 106)
    raw[100 + zeros:] = 1.0           # zero run of `zeros` bars, then invested again
    close = 100 + np.sin(np.arange(n)) * 5
    for ov in (Overlays(min_bars_out=8, cooldown_bars=10),
               Overlays(min_bars_out=2, cooldown_bars=10, trailing_stop=0.01, stop_reentry_bars=12)):
        idx = pd.date_range("2000-01-01", periods=n)
        expected = apply_overlays(pd.Series(raw, idx), pd.Series(close, idx), ov).to_numpy()
        for first in range(100, 140):
            got = _streamed(raw, close, ov, first)
            np.testing.assert_array_equal(got[first:], expected[first:], err_msg=f"first={first} {ov}")
