"""The intraday signals on the real Binance 1h bars: the seed episodes and an hourly truncation check.

Seed episodes: 2025-10-10 (BTC 114k -> 102k between 21:00 and 21:20 UTC) and 2026-02-05/06
(73k -> 60k by 00:15 UTC). A bar labelled T is decided at its close T + 1h.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_testdata import output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.data import load_catalog, read_series
from riskoff.signals.evaluate import evaluate, load_signal_data
from riskoff.util.paths import resolve_data_dir

INTRADAY = ["rv_spike", "crash_speed", "range_volume_shock", "funding_flips", "us_stress_hourly"]


def states(name: str, lo: str, hi: str) -> pd.Series:
    return output_for(name)["state"].loc[lo:hi]


def test_range_volume_shock_fires_on_the_bar_before_the_2025_10_10_wick():
    out = output_for("range_volume_shock")
    assert out.loc["2025-10-10 19:00", "state"] == RISK_ON
    assert out.loc["2025-10-10 20:00", "state"] == RISK_OFF  # decided 21:00 UTC, before the 21:00-21:20 crash
    assert out.loc["2025-10-10 21:00", "range_ratio"] > 20 and out.loc["2025-10-10 21:00", "volume_ratio"] > 30
    assert out.loc["2026-02-06 00:00", "state"] == RISK_OFF  # the 60,000 low bar
    # independent reference for one bar: medians of the previous 168 bars, by hand
    bars = load_signal_data(spec_named("range_volume_shock"), "2025-09-20", "2025-10-10", stale="allow")
    h, lo, o, v = (bars[f"BINANCE-BTCUSDT-1H.{c}"] for c in ("high", "low", "open", "volume"))
    t = bars.index.get_loc(pd.Timestamp("2025-10-10 20:00"))
    rng = ((h - lo) / o).to_numpy()
    want = min(rng[t] / np.median(rng[t - 168:t]), v.iloc[t] / np.median(v.to_numpy()[t - 168:t]))
    assert out.loc["2025-10-10 20:00", "reading"] == pytest.approx(want, rel=1e-12)


def test_crash_speed_on_the_seed_episodes():
    out = output_for("crash_speed")
    assert out.loc["2025-10-10 20:00", "state"] == CAUTION and out.loc["2025-10-10 18:00", "state"] == RISK_ON
    assert (states("crash_speed", "2025-10-10 20:00", "2025-10-10 23:00") == CAUTION).all()
    assert (states("crash_speed", "2026-02-05 17:00", "2026-02-06 02:00") == RISK_OFF).all()
    # 23:00 close 62,909.86 against the highest high of the 24 bars ending there
    bars = load_signal_data(spec_named("crash_speed"), "2026-02-04", "2026-02-05", stale="allow")
    high = bars["BINANCE-BTCUSDT-1H.high"].loc["2026-02-05 00:00":"2026-02-05 23:00"].max()
    assert out.loc["2026-02-05 23:00", "reading"] == pytest.approx(62909.86 / high - 1, rel=1e-12)


def test_rv_spike_on_the_seed_episodes():
    assert states("rv_spike", "2025-10-10 19:00", "2025-10-10 19:00").iloc[0] == RISK_ON
    assert (states("rv_spike", "2025-10-10 20:00", "2025-10-10 23:00") == CAUTION).all()
    assert (states("rv_spike", "2026-02-05 15:00", "2026-02-06 00:00") == CAUTION).all()
    assert states("rv_spike", "2026-02-06 01:00", "2026-02-06 01:00").iloc[0] == RISK_OFF
    out = output_for("rv_spike")
    close = load_signal_data(spec_named("rv_spike"), "2025-10-09", "2025-10-10", stale="allow")[
        "BINANCE-BTCUSDT-1H.close"]
    r = np.diff(np.log(close.loc["2025-10-09 21:00":"2025-10-10 21:00"].to_numpy()))
    assert out.loc["2025-10-10 21:00", "rv"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(8760), rel=1e-9)


def test_funding_flips_on_each_print():
    out = output_for("funding_flips")
    assert (states("funding_flips", "2025-10-10 00:00", "2025-10-10 23:00") == RISK_ON).all()
    raw = read_series(load_catalog()["BINANCE-BTCUSDT"], resolve_data_dir()[0])["rate"]
    assert out.loc["2025-10-10 15:00", "reading"] == raw.loc["2025-10-10 16:00"] * 3 * 365 * 100  # the 16:00 print
    assert out.loc["2025-10-10 14:00", "reading"] == raw.loc["2025-10-10 08:00"] * 3 * 365 * 100
    # 2026-02-05 16:00 print flips to -0.00005 (-5.5%/yr): caution from the bar decided at 16:00, for 8 h
    assert out.loc["2026-02-05 14:00", "state"] == RISK_ON
    assert out.loc["2026-02-05 15:00", "flip"] == 1 and out.loc["2026-02-05 16:00", "flip"] == 0
    assert (states("funding_flips", "2026-02-05 15:00", "2026-02-05 22:00") == CAUTION).all()
    assert states("funding_flips", "2026-02-05 23:00", "2026-02-05 23:00").iloc[0] == RISK_ON
    assert out.loc["2026-02-06 07:00", "state"] == RISK_OFF  # the 08:00 print, -15%/yr
    assert out.loc["2025-10-12 15:00", "state"] == RISK_OFF  # -11.9%/yr after the October crash


def test_us_stress_arrives_on_the_crypto_clock():
    out = output_for("us_stress_hourly")
    # Friday 2025-10-10: SPY -2.7% at the 16:00 New York close = 20:00 UTC, seen on the bar closing then
    assert out.loc["2025-10-10 18:00", "state"] == RISK_ON
    assert out.loc["2025-10-10 19:00", "state"] == RISK_OFF
    assert out.loc["2025-10-10 19:00", "reading"] == pytest.approx(-0.0270, abs=5e-4)
    assert out.loc["2025-10-10 20:00", "vix"] == 21.66 and out.loc["2025-10-10 19:00", "vix"] != 21.66
    # the state holds over the weekend until Monday's close
    assert (states("us_stress_hourly", "2025-10-10 19:00", "2025-10-13 18:00") == RISK_OFF).all()
    # 2026-02-05: a milder US day; US stress did not lead the crypto sell-off
    assert (states("us_stress_hourly", "2026-02-05 00:00", "2026-02-06 02:00") == RISK_ON).all()


SLICE = ("2025-09-15", "2025-11-14")  # two months of hourly bars around 2025-10-10


@settings(max_examples=25, deadline=None)
@given(hours=st.integers(min_value=0, max_value=61 * 24 - 1), name=st.sampled_from(INTRADAY))
def test_hourly_truncation(hours, name):
    """Cutting the data at bar t leaves every reading and state at or before t unchanged."""
    spec = spec_named(name)
    frame = _slice_frame(name)
    t = frame.index[0] + pd.Timedelta(hours=hours)
    full = _slice_output(name)
    part = evaluate(spec, frame.loc[:t])
    pd.testing.assert_frame_equal(part, full.loc[:t])


_frames: dict = {}


def _slice_frame(name):
    if name not in _frames:
        _frames[name] = load_signal_data(spec_named(name), SLICE[0], SLICE[1], stale="allow")
    return _frames[name]


def _slice_output(name):
    key = ("out", name)
    if key not in _frames:
        _frames[key] = evaluate(spec_named(name), _slice_frame(name))
    return _frames[key]
