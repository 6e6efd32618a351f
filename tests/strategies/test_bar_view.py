"""The callback view (riskoff.strategies.event_rules.BarView) on hand-built paths.

A recording rule follows a fixed schedule of decisions and writes down, at every bar, what the
view shows: the ``n=`` slices of ``closes``/``states``/``readings``, this bar's state and reading,
and the entry bookkeeping (``entry_time``, ``entry_price``, ``bars_since_entry``,
``hours_since_entry``). The references are plain loops over the raw arrays, with their own
position bookkeeping: a decision at bar t fills on the next bar with a close and a fill price, an
entry is the fill that takes the position from flat, a top-up keeps it, going flat clears it.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskoff.strategies.event_rules import EventRule, run_event_rule

N = 40
#: decisions (bar -> target): in, out, half in, topped up, out, in again across a bar without a close
SCHEDULE = {2: 1.0, 9: 0.0, 13: 0.5, 17: 1.0, 25: 0.0, 30: 1.0}
NO_CLOSE = 31  # the decision of bar 30 waits for bar 32 to fill
SIZES = (None, 0, 1, 3, 5, 1000)


def inputs(seed: int = 7):
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0, 1, N))
    close[NO_CLOSE] = np.nan
    price = close - 0.25  # fills at another price than the close (an open, say)
    cycle = [0.0, 1.0, 2.0, np.nan]
    states = {"a": np.array([cycle[i % 4] for i in range(N)]), "b": np.array([cycle[(i // 3) % 4] for i in range(N)])}
    readings = {"a": rng.normal(0, 1, N), "b": rng.normal(5, 2, N)}
    return close, price, states, readings


class Recorder(EventRule):
    def start(self, view):
        self.seen = []

    def on_bar(self, v):
        self.seen.append({
            "t": v.t, "time": v.time, "close": v.close,
            "closes": {n: np.array(v.closes() if n is None else v.closes(n)) for n in SIZES},
            "states": {(lab, n): np.array(v.states(lab) if n is None else v.states(lab, n))
                       for lab in ("a", "b") for n in SIZES},
            "readings": {(lab, n): np.array(v.readings(lab) if n is None else v.readings(lab, n))
                         for lab in ("a", "b") for n in SIZES},
            "state": v.state("a"), "reading": v.reading("b"),
            "entry_time": v.entry_time, "entry_price": v.entry_price,
            "bars_since_entry": v.bars_since_entry, "hours_since_entry": v.hours_since_entry,
            "writeable": v.closes().flags.writeable or v.states("a").flags.writeable,
        })
        return SCHEDULE.get(v.t)


def last_n(values, t: int, n: int | None) -> list[float]:
    """The values of bars 0..t, only the last n of them, oldest first (a plain backward walk)."""
    out: list[float] = []
    i = t
    while i >= 0 and (n is None or len(out) < n):
        out.insert(0, float(values[i]))
        i -= 1
    return out


def entries(close, price) -> list[tuple[int, float] | None]:
    """Per bar: (fill bar, fill price) of the open position's entry, None when flat."""
    out, held, pending, entry = [], 0.0, None, None
    for t in range(N):
        if pending is not None and not math.isnan(close[t]) and not math.isnan(price[t]):
            if held == 0.0 and pending > 0.0:
                entry = (t, float(price[t]))
            elif pending == 0.0:
                entry = None
            held, pending = pending, None
        out.append(entry)
        if t in SCHEDULE:
            pending = SCHEDULE[t]
    return out


def assert_same(got, want, what):
    np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float), err_msg=what)


@pytest.mark.parametrize("clock, bar_hours", [("1h", 1.0), ("5m", 1 / 12), ("utc", 24.0), ("us", 24.0)])
def test_view_matches_plain_loops(clock, bar_hours):
    close, price, states, readings = inputs()
    freq = {"1h": "1h", "5m": "5min", "utc": "D", "us": "B"}[clock]
    index = pd.date_range("2025-10-06", periods=N, freq=freq)
    rule = Recorder()
    run_event_rule(rule, index, close, states, readings, clock, price=price)
    want_entry = entries(close, price)
    assert [r["t"] for r in rule.seen] == list(range(N))
    for t, r in enumerate(rule.seen):
        where = f"{clock} bar {t}"
        assert r["time"] == index[t], where
        assert_same([r["close"]], [close[t]], where)
        for n in SIZES:
            assert_same(r["closes"][n], last_n(close, t, n), f"{where}: closes({n})")
            for lab in ("a", "b"):
                assert_same(r["states"][(lab, n)], last_n(states[lab], t, n), f"{where}: states({lab}, {n})")
                assert_same(r["readings"][(lab, n)], last_n(readings[lab], t, n), f"{where}: readings({lab}, {n})")
        assert_same([r["state"], r["reading"]], [states["a"][t], readings["b"][t]], where)
        assert not r["writeable"], where
        e = want_entry[t]
        if e is None:
            assert r["entry_time"] is None and r["bars_since_entry"] == -1, where
            assert math.isnan(r["entry_price"]) and math.isnan(r["hours_since_entry"]), where
        else:
            assert r["entry_time"] == index[e[0]], where
            assert r["entry_price"] == e[1], where
            assert r["bars_since_entry"] == t - e[0], where
            assert r["hours_since_entry"] == pytest.approx((t - e[0]) * bar_hours, rel=1e-12), where


def test_the_schedule_exercises_every_case():
    """Guard on the fixture itself: entries, a top-up that keeps the entry, exits, a delayed fill."""
    close, price, _, _ = inputs()
    e = entries(close, price)
    assert e[3] == (3, price[3]) and e[9] == (3, price[3]) and e[10] is None     # in on 3, out on 10
    assert e[14] == (14, price[14]) and e[18] == (14, price[14])                 # half in, topped up on 18
    assert e[26] is None and e[31] is None and e[32] == (32, price[32])          # the bar without a close waits


def test_hours_since_entry_on_an_hourly_clock_by_hand():
    close, price, states, readings = inputs()
    index = pd.date_range("2025-10-06", periods=N, freq="1h")
    rule = Recorder()
    run_event_rule(rule, index, close, states, readings, "1h", price=price)
    r = rule.seen[8]  # entered at the fill of bar 3 (03:00), five bars later
    assert r["entry_time"] == pd.Timestamp("2025-10-06 03:00") and r["bars_since_entry"] == 5
    assert r["hours_since_entry"] == 5.0 and r["entry_price"] == price[3]
    r = rule.seen[20]  # half in on bar 14, topped up on bar 18: still measured from 14:00
    assert r["entry_time"] == pd.Timestamp("2025-10-06 14:00") and r["hours_since_entry"] == 6.0
    assert list(rule.seen[5]["closes"][3]) == list(close[3:6])
