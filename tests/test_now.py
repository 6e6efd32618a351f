"""``riskoff now`` is the backtest's own decision: compared with ``==`` against the run's outputs.

For each shipped config the run is simulated once (session scope; significance off, which does not
touch targets or fills). The reference is the run itself: the target it decided at each bar
(``PairResult.target``, what exposure.csv's engine was fed), the engine's fills
(``PairResult.orders``: each fill's bar and the target it aimed at) and its events (events.csv rows,
``StrategyRun.events``). The decision and fill instants of the reference are written here from the
definitions (17:00 New York on a session, 00:00 UTC after a UTC day, an hourly bar's close; fills at
the next bar's close or open), not taken from riskoff.run.now.

The read-out's history is computed once per config up to the run's end and indexed at every instant
(cheap); a few instants are also read the way the command does it, with the history cut at bar(T),
and must give the same records.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.data.calendars import nyse_sessions

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("selloffs.toml", "macro_liquidity.toml", "intraday_crypto.toml")
NY = "America/New_York"


def _ny(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(NY).tz_convert("UTC").tz_localize(None)


def decision_instants(index: pd.DatetimeIndex, clock: str) -> np.ndarray:
    """Reference decision instants (UTC ns), from the definitions."""
    if clock == "us":
        return (index.normalize() + pd.Timedelta(hours=17)).tz_localize(NY).tz_convert("UTC").as_unit("ns").asi8
    if clock == "utc":
        return (index + pd.Timedelta(days=1)).as_unit("ns").asi8
    return (index + pd.Timedelta(clock)).as_unit("ns").asi8


def fill_instants(index: pd.DatetimeIndex, clock: str, fill: str) -> np.ndarray:
    """Reference fill instants (UTC ns) of an order on each bar."""
    if clock == "us":
        hm = pd.Timedelta(hours=16) if fill == "next_close" else pd.Timedelta(hours=9, minutes=30)
        return (index.normalize() + hm).tz_localize(NY).tz_convert("UTC").as_unit("ns").asi8
    close = pd.Timedelta(days=1) if clock == "utc" else pd.Timedelta(clock)
    return (index + (close if fill == "next_close" else pd.Timedelta(0))).as_unit("ns").asi8


@dataclasses.dataclass
class Study:
    cfg: object
    data: object
    result: object
    history: list
    run_end: tuple


@pytest.fixture(scope="session", params=CONFIGS)
def study(request, data_dir) -> Study:
    from riskoff.data.calendars import clock_of
    from riskoff.data.context import DataContext
    from riskoff.run.config import load_config
    from riskoff.run.now import compute_history, history_end
    from riskoff.run.runner import simulate_config

    cfg = load_config(ROOT / "backtests" / request.param)
    cfg = dataclasses.replace(cfg, significance=dataclasses.replace(cfg.significance, null=False, bootstrap=False))
    data = DataContext.create(data_dir, cfg.series)
    result = simulate_config(cfg, data=data)
    ends = {}
    for a in cfg.assets:
        clock = clock_of(data.catalog[a])
        last = next(p for p in result.pairs if p.asset == a).target.index[-1]
        ends[a] = history_end(clock, last)
    history = compute_history(cfg, data, ends)
    return Study(cfg, data, result, history, (result.end, result.end_limited_by))


def _span(s: Study) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First instant every pair has decided, last decision instant of the run (on every clock)."""
    firsts, lasts = [], []
    for p in s.result.pairs:
        t = decision_instants(p.target.index, p.calendar)
        firsts.append(t[0])
        lasts.append(t[-1])
    return pd.Timestamp(max(firsts)), pd.Timestamp(min(lasts))


def dst_switch_days(first: int, last: int) -> list[pd.Timestamp]:
    """The days New York's UTC offset changes between ``first`` and ``last`` (inclusive years)."""
    noon = pd.date_range(f"{first}-01-01 12:00", f"{last}-12-31 12:00", freq="D").tz_localize(NY)
    offset = np.array([t.utcoffset().total_seconds() for t in noon])
    return [noon[i].tz_localize(None).normalize() for i in np.flatnonzero(np.diff(offset) != 0) + 1]


def instants(s: Study, n_random: int = 200, seed: int = 26) -> list[pd.Timestamp]:
    """Every instant the acceptance lists, inside the run's span."""
    lo, hi = _span(s)
    out: list[pd.Timestamp] = []
    for w in s.cfg.windows.values():
        out += [w.start, w.end] + [w.trough_for(a) for a in s.cfg.assets]
    # each clock's decision instant and one second either side, on the window bars and random bars
    rng = np.random.default_rng(seed)
    for p in {p.calendar: p for p in s.result.pairs}.values():
        idx = p.target.index
        picks = list(rng.choice(len(idx), 10, replace=False))
        for w in s.cfg.windows.values():
            picks += list(np.flatnonzero((idx >= w.start.normalize()) & (idx <= w.end))[:1])
        for t in decision_instants(idx[sorted(set(picks))], p.calendar):
            out += [pd.Timestamp(t) - pd.Timedelta(seconds=1), pd.Timestamp(t), pd.Timestamp(t) + pd.Timedelta(seconds=1)]
    # 16:59:59 and 17:00 New York on DST switch days (the days New York's UTC offset changes, from
    # the tz database) and the sessions after them
    for d in dst_switch_days(lo.year, hi.year):
        for day in (d, d + pd.Timedelta(days=1)):
            out += [_ny(f"{day:%Y-%m-%d} 16:59:59"), _ny(f"{day:%Y-%m-%d} 17:00:00")]
    # weekends and NYSE holidays, and Thursday 16:30 New York (the H.4.1 release) one second either side
    days = pd.date_range(lo.normalize(), hi.normalize(), freq="D")
    holidays = days[(days.weekday < 5) & ~days.isin(nyse_sessions())]
    weekends = days[days.weekday >= 5]
    thursdays = days[days.weekday == 3]
    for d in list(rng.choice(holidays, 12, replace=False)) + list(rng.choice(weekends, 8, replace=False)):
        out += [_ny(f"{pd.Timestamp(d):%Y-%m-%d} 12:00"), _ny(f"{pd.Timestamp(d):%Y-%m-%d} 17:00")]
    for d in rng.choice(thursdays, 8, replace=False):
        t = _ny(f"{pd.Timestamp(d):%Y-%m-%d} 16:30")
        out += [t - pd.Timedelta(seconds=1), t, t + pd.Timedelta(seconds=1)]
    span_ns = hi.value - lo.value
    out += [pd.Timestamp(lo.value + int(x)) for x in rng.integers(0, span_ns, n_random)]
    return sorted({t for t in out if lo <= t <= hi})


_REF: dict[int, tuple] = {}  # id(pair) -> (pair, arrays)


def _ref_arrays(p, fill: str) -> tuple:
    """Per pair, once: decided targets, decision and fill instants, the engine's fills, events.csv rows."""
    # keyed by id() but holding the pair itself: once a config's study is freed, a new pair may get
    # the same id, and must not find the old pair's arrays
    hit = _REF.get(id(p))
    if hit is None or hit[0] is not p:
        idx = p.target.index
        ev = p.run.events()
        hit = _REF[id(p)] = (p, (p.target.fillna(0.0).to_numpy(), decision_instants(idx, p.calendar),
                                 fill_instants(idx, p.calendar, fill), p.orders["date"].to_numpy(),
                                 p.orders["target"].to_numpy(), ev["date"].to_numpy()))
    return hit[1]


def reference(s: Study, t: pd.Timestamp) -> dict[str, tuple[float, float, str | None]]:
    """(decided, held, changed_at) per strategy/asset, read from the run's own outputs at instant t."""
    out = {}
    for p in s.result.pairs:
        idx = p.target.index
        target, decide, fills, order_dates, order_targets, event_dates = _ref_arrays(p, s.cfg.fill)
        k = int(np.searchsorted(decide, t.value, side="right")) - 1
        decided = float(target[k])
        # held: the target of the engine's last fill on a bar whose fill instant is at or before t
        c = int(np.searchsorted(fills, t.value, side="right")) - 1
        n = int(np.searchsorted(order_dates, idx[c].to_datetime64(), side="right")) if c >= 0 else 0
        held = float(order_targets[n - 1]) if n else 0.0
        # changed_at: the decision instant of the last events.csv row at or before bar(t)
        e = int(np.searchsorted(event_dates, idx[k].to_datetime64(), side="right"))
        changed = None
        if e:
            d = pd.DatetimeIndex([event_dates[e - 1]])
            changed = pd.Timestamp(int(decision_instants(d, p.calendar)[0])).strftime("%Y-%m-%dT%H:%M:%SZ")
        out[p.key] = (decided, held, changed)
    return out


def test_read_out_equals_the_run_at_every_listed_instant(study):
    from riskoff.run.now import readout

    s = study
    checked = 0
    when = instants(s)
    for t in when:
        got = readout(s.cfg, s.data, t, history=s.history, run_end=s.run_end)
        ref = reference(s, t)
        assert sorted(f"{r.strategy}/{r.asset}" for r in got.records) == sorted(ref), t
        for r in got.records:
            want = ref[f"{r.strategy}/{r.asset}"]
            assert (r.decided, r.held, r.changed_at) == want, (t, r.strategy, r.asset)
            assert r.pending == (r.decided != r.held)
            checked += 1
    assert len(when) > 300 and checked == len(when) * len(s.result.pairs)


def test_the_command_path_cut_at_bar_t_equals_the_indexed_history(study):
    """The command computes each history only up to bar(T); that equals the run-length history."""
    from riskoff.run.now import readout

    s = study
    lo, hi = _span(s)
    rng = np.random.default_rng(7)
    picks = [w.trough_for(s.cfg.assets[0]) + pd.Timedelta(hours=23) for w in s.cfg.windows.values()]
    picks = [t for t in picks if lo <= t <= hi][:1] + [pd.Timestamp(lo.value + int(rng.integers(0, hi.value - lo.value)))]
    for t in picks:
        cut = readout(s.cfg, s.data, t, run_end=s.run_end)
        full = readout(s.cfg, s.data, t, history=s.history, run_end=s.run_end)
        assert cut.as_dict() == full.as_dict(), t
