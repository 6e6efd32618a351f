"""``riskoff now``: what every rule of a config decides as of an instant, decided by the backtest's own stages.

The read-out is a client of the same stages as ``riskoff run``: each strategy x asset goes through
:func:`riskoff.strategies.exposure.build_exposure` (the data layer's point-in-time alignment, the
signal evaluation, the rule and its overlays) over the whole history up to the bar the instant
falls in, so latches, hysteresis, re-entry rules and entry-price stops are path dependent exactly
as in a run. Nothing here decides anything; it indexes what the stages decided.

Definitions (every clock):

- bar(T): the last bar whose decision instant (:func:`riskoff.data.calendars.decision_times`:
  17:00 New York on an NYSE session, 00:00 UTC after a UTC day, an intraday bar's close) is at or
  before T. An instant equal to a decision instant counts as decided.
- decided(T): the exposure the strategy decides at bar(T) (after overlays; no decision = cash, 0,
  as the engine reads it).
- held(T): the decision of the last bar whose fill instant is at or before T. A decision at bar b
  fills on bar b+1, at its close (``fill = "next_close"``: the close's publication instant from the
  catalog, 16:00 New York for a US close, 00:00 UTC after the day for a UTC day, the bar's close
  for an intraday bar) or its open (``"next_open"``: 09:30 New York, 00:00 UTC at the start of the
  day, the bar's open time). pending = decided but not yet filled.

Past the run's end (the last date every required series covers), the frame is read with
``stale="allow"``: a series past its catalog staleness bound is NaN on those bars, its signals read
no opinion exactly as alignment does inside a run, and the read-out names the stale series, its
last publication and the signals and rules that read it.

Records are of two kinds: ``"pair"`` (one strategy on one asset) and ``"book"`` (one strategy on a
``[[portfolios]]`` book, :func:`book_records`: the pairs' decisions through the book's targets
formula, with each asset's decided and held target weight).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.data.context import DataContext
from riskoff.run.config import RunConfig
from riskoff.util.errors import ConfigError, RiskoffError

BASELINE_KEY = "baselines"
_DAY_NS = 86_400 * 10**9
US_OPEN = (9, 30)  # NYSE regular open, New York time (the fill instant of ``fill = "next_open"``)
EXIT_OK, EXIT_DERISKED, EXIT_STALE, EXIT_BOTH = 0, 3, 4, 5
#: how a next release is known: from the catalog's schedule, or only from its fixed lag
SCHEDULE, MODELLED = "catalog schedule", "modelled from the catalog lag"


# ------------------------------------------------------------------------------------------ instants

def parse_instant(text: str, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """An ``--as-of`` value as a naive UTC timestamp.

    ISO 8601 with an offset (``2026-03-20T17:00-04:00``, ``...Z``) is converted to UTC; a value
    without an offset is read as UTC. An instant after ``now`` (default: the current UTC time,
    ``RISKOFF_NOW`` in tests) is refused: nothing is published in the future.
    """
    from riskoff.data.sanity import now_utc

    try:
        ts = pd.Timestamp(str(text).strip())
    except (ValueError, TypeError, OverflowError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"--as-of {text!r}: not an instant; expected ISO 8601 such as 2026-03-20, "
                          "2026-03-20T21:00Z or 2026-03-20T17:00-04:00")
    ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
    current = now if now is not None else now_utc()
    if ts > current:
        raise ConfigError(f"--as-of {text!r} is in the future ({ts:%Y-%m-%d %H:%M:%S} UTC is after now, "
                          f"{current:%Y-%m-%d %H:%M:%S} UTC); nothing is published yet")
    return ts.as_unit("ns")


def iso(ns: int | None) -> str | None:
    """A UTC nanosecond stamp as ``YYYY-MM-DDTHH:MM:SSZ`` (None stays None)."""
    if ns is None:
        return None
    return pd.Timestamp(int(ns)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bars_around(clock: str, t: pd.Timestamp, before: pd.Timedelta, after: pd.Timedelta, data: DataContext
                 ) -> pd.DatetimeIndex:
    from riskoff.data.align import trading_calendar

    return trading_calendar(clock, t - before, t + after, data.data_dir, data.catalog)


def bar_at(clock: str, t: pd.Timestamp, data: DataContext) -> tuple[pd.Timestamp, int]:
    """(bar(T), its decision instant in UTC ns) on ``clock``: the last bar decided at or before T."""
    from riskoff.data.calendars import bar_clock, decision_times

    step = bar_clock(clock)
    span = pd.Timedelta(days=12) if step is None else max(4 * step, pd.Timedelta(hours=4))
    bars = _bars_around(clock, t, span, pd.Timedelta(days=2), data)
    when = decision_times(bars, clock)
    k = int(np.searchsorted(when, t.value, side="right")) - 1
    if k < 0:
        raise ConfigError(f"--as-of {t:%Y-%m-%d %H:%M:%S} UTC: no {clock} bar is decided by then")
    return bars[k], int(when[k])


def history_end(clock: str, bar: pd.Timestamp) -> pd.Timestamp:
    """The ``end`` that makes the stages stop at ``bar`` on ``clock``: the date for daily clocks; for a
    bar clock one nanosecond before the bar's close (a midnight ``end`` would mean the whole day)."""
    from riskoff.data.calendars import bar_clock

    step = bar_clock(clock)
    return bar if step is None else bar + step - pd.Timedelta(1, "ns")


def fill_instants(bars: pd.DatetimeIndex, clock: str, spec, fill: str) -> np.ndarray:
    """UTC ns instants at which an order on each bar fills: the close's publication instant (catalog
    lag and time) for ``next_close``, the bar's open for ``next_open``."""
    from riskoff.data.calendars import availability_times, bar_clock

    if fill == "next_close":
        return availability_times(pd.DatetimeIndex(bars), spec)
    if bar_clock(clock) is not None or clock == "utc":  # 24/7 clocks open when the bar starts
        return pd.DatetimeIndex(bars).as_unit("ns").asi8
    days = pd.DatetimeIndex(bars).normalize() + pd.Timedelta(hours=US_OPEN[0], minutes=US_OPEN[1])
    return days.tz_localize("America/New_York").tz_convert("UTC").as_unit("ns").asi8


# ------------------------------------------------------------------------------------------ records

@dataclass
class SignalReadout:
    """One signal of a rule at bar(T): its state, reading, and the decision instant of its last flip."""

    label: str
    state: str
    reading: float | None
    flipped_at: str | None
    inputs: list[str]


@dataclass
class Record:
    """One read-out row. ``kind`` is "pair" (a strategy on one asset) or "book" (a strategy on a
    ``[[portfolios]]`` book: ``asset`` is the book's name, ``decided``/``held`` its invested share
    sum_i w_i e_i / sum_i w_i, and ``weights`` the target weight of each of its assets)."""

    kind: str
    strategy: str
    asset: str
    clock: str
    baseline: bool
    bar: str
    decided: float
    held: float
    pending: bool
    decided_at: str
    changed_at: str | None
    fills_at: str | None
    signals: list[SignalReadout]
    last_flip: dict[str, str] | None
    inputs: list[str]
    stale_inputs: list[str]
    next_release: dict[str, str] | None
    #: books only: per asset, the decided and held target weights (what the book's orders aim at)
    weights: dict[str, dict[str, float]] | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.strategy}/{self.asset}"


@dataclass
class InputReadout:
    """One input series as of T: its last observation, when that was published, age and staleness."""

    series: str
    required: bool
    last_observation: str | None
    published_at: str | None
    age_days: float | None
    max_stale_days: int
    stale: bool
    next_release: str | None
    next_release_basis: str
    live_source: str | None
    signals: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


@dataclass
class Readout:
    """The whole read-out of a config as of one instant."""

    config: str
    as_of: str
    data_dir: str
    data_dir_from: str
    run_end: str | None
    run_end_limited_by: str | None
    fill: str
    records: list[Record]
    inputs: list[InputReadout]
    notes: list[str]

    @property
    def derisked(self) -> list[Record]:
        """Rules (not the baselines) that decided a target below 1."""
        return [r for r in self.records if not r.baseline and r.decided < 1.0 - 1e-12]

    @property
    def stale(self) -> list[InputReadout]:
        return [i for i in self.inputs if i.required and i.stale]

    @property
    def exit_code(self) -> int:
        """0 fresh and fully invested; 3 a rule de-risked; 4 an input stale; 5 both."""
        return {(False, False): EXIT_OK, (True, False): EXIT_DERISKED, (False, True): EXIT_STALE,
                (True, True): EXIT_BOTH}[(bool(self.derisked), bool(self.stale))]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        out["derisked"] = [r.key for r in self.derisked]
        out["stale"] = [i.series for i in self.stale]
        return out


# ------------------------------------------------------------------------------------------ history

@dataclass
class PairHistory:
    """The stages' output for one pair up to some end: the same object a run builds."""

    strategy: str
    asset: str
    clock: str
    run: Any  # riskoff.strategies.exposure.StrategyRun
    inputs: dict[str, list[str]]   # signal label -> its series (required first)
    required: set[str]


def baselines(cfg: RunConfig) -> set[str]:
    """Names of the config's baseline rules (``[baselines] rules``): exit code 3 ignores them."""
    base = cfg.raw.get(BASELINE_KEY, {}) if isinstance(cfg.raw, Mapping) else {}
    rules = base.get("rules", []) if isinstance(base, Mapping) else []
    return {rules} if isinstance(rules, str) else set(rules)


def compute_history(cfg: RunConfig, data: DataContext, ends: Mapping[str, pd.Timestamp], *,
                    signals=None, strategies=None) -> list[PairHistory]:
    """Every strategy x asset of ``cfg`` through the backtest's stages, each asset up to ``ends[asset]``
    (an ``end`` as :func:`history_end` gives), read past staleness bounds with ``stale="allow"``."""
    from riskoff.data.calendars import clock_of, clock_parts
    from riskoff.signals.contract import discover as discover_signals
    from riskoff.strategies.config import validate_config
    from riskoff.strategies.contract import discover_strategies
    from riskoff.strategies.exposure import build_exposure
    from riskoff.util.plugins import plugin_time_limit

    signals = signals if signals is not None else discover_signals(cfg.plugin_dirs)
    strategies = strategies if strategies is not None else discover_strategies(cfg.plugin_dirs)
    out = []
    with plugin_time_limit(cfg.plugin_time_limit):
        for asset in cfg.assets:
            clock = clock_of(data.catalog[asset])
            for strat in cfg.strategies_for(asset):
                run = build_exposure(strat, asset, start=cfg.start, end=ends[asset], data=data,
                                     strategies=strategies, signals=signals, stale="allow")
                _, _, resolved = validate_config(strat.on_clock(clock_parts(clock)[1], strategies=strategies,
                                                                signals=signals),
                                                 strategies=strategies, signals=signals)
                inputs, required = {}, {asset}
                for ref, sspec, sparams in resolved:
                    need = list(sspec.required_series(sparams))
                    extra = [s for s in sspec.optional_series_ids if s in data.catalog and s not in need
                             and (data.data_dir / data.catalog[s].relpath()).exists()]
                    inputs[ref.label] = need + extra
                    required |= set(need)
                out.append(PairHistory(strat.name, asset, clock, run, inputs, required))
    return out


# ------------------------------------------------------------------------------------------ inputs

def _observations(spec, data: DataContext) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(observation stamps, publication instants in UTC ns) of one series, as alignment reads them."""
    from riskoff.data.calendars import availability_times
    from riskoff.data.sanity import drop_filler_rows
    from riskoff.data.sources import read_series

    key = ("riskoff now: observations", spec.id)
    if key not in data.cache:  # one read per command (tests read one history at many instants)
        path = data.data_dir / spec.relpath()
        obs = drop_filler_rows(spec, read_series(spec, data.data_dir), path)
        # funding prints are public at settlement; everything else by the catalog's lag and time
        data.cache[key] = (obs.index, availability_times(obs.index, spec, prints=spec.calendar == "intraday"))
    return data.cache[key]


def next_release(spec, last_obs: pd.Timestamp | None, t: pd.Timestamp, obs: pd.DatetimeIndex
                 ) -> tuple[int | None, str]:
    """(UTC ns of the next publication after T that could bring a new value, how it is known).

    Daily series: the next observation day after the last one known (NYSE sessions for US series,
    every day for UTC series) published by the catalog's lag and time; weekly series the same
    weekday a week on (WALCL: Wednesday's week, Thursday 16:30 New York); intraday bars at their
    next close, funding at the next settlement. Monthly series have no schedule in the catalog,
    only a fixed lag: their next release is the next month's observation plus that lag
    (:data:`MODELLED`).
    """
    from riskoff.data.calendars import availability_times, us_business_days

    if last_obs is None:
        return None, SCHEDULE
    if spec.is_bar_series:
        step = spec.bar_delta
        return (t.floor(step) + step).value, SCHEDULE
    if spec.calendar == "intraday":  # funding: the venue's settlement interval
        gaps = np.diff(obs[-20:].as_unit("ns").asi8) if len(obs) > 1 else np.array([8 * 3600 * 10**9])
        step = int(np.median(gaps))
        k = max(1, int((t.value - last_obs.value) // step) + 1)
        return last_obs.value + k * step, SCHEDULE
    if spec.frequency == "monthly":
        cand = _months_after(last_obs)
        basis = MODELLED
    elif spec.frequency == "weekly":
        cand = pd.date_range(last_obs + pd.Timedelta(days=7), periods=200, freq="7D")
        basis = SCHEDULE
    elif spec.calendar == "us":
        hi = max(last_obs, t) + pd.Timedelta(days=30)
        cand = us_business_days(last_obs + pd.Timedelta(days=1), min(hi, pd.Timestamp("2040-12-31")))
        basis = SCHEDULE
    else:
        cand = pd.date_range(last_obs + pd.Timedelta(days=1), max(last_obs, t) + pd.Timedelta(days=30), freq="D")
        basis = SCHEDULE
    avail = availability_times(pd.DatetimeIndex(cand), spec)
    later = avail[avail > t.value]
    return (int(later[0]) if len(later) else None), basis


@lru_cache(maxsize=4096)
def _months_after(day: pd.Timestamp, n: int = 48) -> pd.DatetimeIndex:
    """The same day of the month for the ``n`` months after ``day`` (a monthly series' next periods)."""
    return pd.DatetimeIndex([day + pd.DateOffset(months=k) for k in range(1, n + 1)])


def read_inputs(ids: list[str], required: set[str], t: pd.Timestamp, data: DataContext) -> dict[str, InputReadout]:
    """Every input series as of T: last observation published by T, its publication, age, staleness
    against the catalog's ``max_stale_days`` (as alignment measures it: from publication), next release."""
    from riskoff.data.fetch import live_source

    out = {}
    for sid in ids:
        spec = data.catalog[sid]
        path = data.data_dir / spec.relpath()
        if not path.exists():
            out[sid] = InputReadout(sid, sid in required, None, None, None, spec.max_stale_days, sid in required,
                                    None, SCHEDULE, _source(live_source(spec)))
            continue
        idx, avail = _observations(spec, data)
        k = int(np.searchsorted(avail, t.value, side="right")) - 1
        last = idx[k] if k >= 0 else None
        published = int(avail[k]) if k >= 0 else None
        age = (t.value - published) / _DAY_NS if published is not None else None
        stale = age is None or age > spec.max_stale_days
        nxt, basis = next_release(spec, last, t, idx)
        stamp = None if last is None else (last.strftime("%Y-%m-%dT%H:%M:%SZ") if spec.calendar == "intraday"
                                           or spec.is_bar_series else last.strftime("%Y-%m-%d"))
        out[sid] = InputReadout(sid, sid in required, stamp, iso(published), None if age is None else round(age, 4),
                                spec.max_stale_days, stale, iso(nxt), basis, _source(live_source(spec)))
    return out


def _source(src: tuple[str, str] | None) -> str | None:
    return None if src is None else f"{src[0]}:{src[1]}"


# ------------------------------------------------------------------------------------------ read-out

def _state_name(v: float) -> str:
    from riskoff.signals.contract import STATE_NAMES

    return "no-opinion" if pd.isna(v) else STATE_NAMES.get(int(v), str(v))


@dataclass
class _Arrays:
    """A pair's history as arrays, built once: reading it at any instant is a few binary searches."""

    decided: np.ndarray       # the decided exposure per bar, no decision = 0 (as the engine reads it)
    decide_at: np.ndarray     # decision instant of each bar (UTC ns)
    fill_at: np.ndarray       # fill instant of an order on each bar, plus the bar after the last
    next_bar: pd.DatetimeIndex
    changes: np.ndarray       # positions of the bars where the decided exposure changed (events.csv rows)
    flips: dict[str, np.ndarray]  # per signal: positions of the bars where its state changed
    states: dict[str, np.ndarray]
    readings: dict[str, np.ndarray]


def _arrays(h: PairHistory, cfg: RunConfig, data: DataContext) -> _Arrays:
    from riskoff.data.calendars import decision_times
    from riskoff.strategies.exposure import exposure_events

    cached = getattr(h, "_arrays", None)
    if cached is not None:
        return cached
    run = h.run
    idx = run.exposure.index
    nxt = _bars_around(h.clock, idx[-1], pd.Timedelta(0), pd.Timedelta(days=10), data)
    nxt = nxt[nxt > idx[-1]][:1]
    # events.csv's own rows: a change at bar b depends only on bars up to b, so the rows of the
    # whole history up to bar(T) are the rows of a history cut at bar(T)
    ev = exposure_events(run.exposure, run.states)
    flips = {}
    for label in run.states.columns:
        v = run.states[label].to_numpy(dtype="float64")
        same = (v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))
        flips[label] = np.flatnonzero(~same) + 1
    out = _Arrays(run.exposure.astype("float64").fillna(0.0).to_numpy(), decision_times(idx, h.clock),
                  fill_instants(idx.append(nxt), h.clock, data.catalog[h.asset], cfg.fill), nxt,
                  np.searchsorted(idx.to_numpy(), pd.DatetimeIndex(ev["date"]).to_numpy()), flips,
                  {c: run.states[c].to_numpy(dtype="float64") for c in run.states.columns},
                  {c: run.readings[c].to_numpy(dtype="float64") for c in run.readings.columns})
    h._arrays = out  # type: ignore[attr-defined]
    return out


def _last_at_or_before(positions: np.ndarray, k: int) -> int | None:
    j = int(np.searchsorted(positions, k, side="right")) - 1
    return int(positions[j]) if j >= 0 else None


def pair_record(h: PairHistory, t: pd.Timestamp, bar: pd.Timestamp, cfg: RunConfig, data: DataContext,
                inputs: Mapping[str, InputReadout], base: set[str]) -> Record:
    """The read-out of one pair at instant T, indexed from its history (which reaches bar(T) or later)."""
    run, a = h.run, _arrays(h, cfg, data)
    idx = run.exposure.index
    k = int(np.searchsorted(a.decide_at, t.value, side="right")) - 1
    if k < 0 or idx[k] != bar:
        raise ConfigError(f"--as-of {t:%Y-%m-%d %H:%M:%S} UTC: {h.strategy}/{h.asset} has no bar {bar} "
                          f"(its history runs {idx[0]} .. {idx[-1]})")
    decided = float(a.decided[k])
    # held: an order fills on the bar after its decision; the last bar filled by T carries the
    # decision of the bar before it (the bar after bar(T) may already have filled: next_open)
    p = int(np.searchsorted(a.fill_at, t.value, side="right")) - 1
    held = float(a.decided[p - 1]) if p >= 1 else 0.0
    pending = abs(decided - held) > 1e-12
    fills_at = iso(int(a.fill_at[k + 1])) if pending and k + 1 < len(a.fill_at) else None
    c = _last_at_or_before(a.changes, k)
    changed_at = iso(int(a.decide_at[c])) if c is not None else None
    sigs, flips = [], []
    for label in run.states.columns:
        f = _last_at_or_before(a.flips[label], k)
        f_at = iso(int(a.decide_at[f])) if f is not None else None
        if f is not None:
            flips.append((f, label, f_at))
        reading = a.readings[label][k]
        sigs.append(SignalReadout(label, _state_name(a.states[label][k]),
                                  None if pd.isna(reading) else float(reading), f_at, list(h.inputs.get(label, []))))
    last_flip = None
    if flips:
        _, label, f_at = max(flips, key=lambda f: f[0])
        last_flip = {"signal": label, "at": f_at}
    series = [h.asset, *dict.fromkeys(s for v in h.inputs.values() for s in v if s != h.asset)]
    stale = [s for s in series if s in h.required and inputs[s].stale]
    # the asset's own next close counts: price rules, trailing stops and entry-price stops read it
    releases = [(inputs[s].next_release, s) for s in series if inputs[s].next_release]
    nr = None
    if releases:
        when, sid = min(releases)
        nr = {"series": sid, "at": when, "basis": inputs[sid].next_release_basis}
    return Record("pair", h.strategy, h.asset, h.clock, h.strategy in base,
                  bar.strftime("%Y-%m-%d") if h.clock in ("us", "utc") else bar.strftime("%Y-%m-%dT%H:%MZ"),
                  decided, held, pending, iso(int(a.decide_at[k])), changed_at, fills_at, sigs, last_flip, series,
                  stale, nr)


def book_records(cfg: RunConfig, data: DataContext, t: pd.Timestamp, history: list[PairHistory],
                 pairs: list[Record]) -> list[Record]:
    """One record per book x strategy (``[[portfolios]]``), read from the pairs' histories with the
    book's own targets formula (riskoff.strategies.books), as the run builds a book's targets.

    The run's book is indexed by the union of its assets' bars, each sleeve's decision carried over
    the dates its own market is closed; a row is decided once every sleeve has decided its bar, at
    the latest of their decision instants (a SPY + BTC-USD book's row d at 00:00 UTC of d + 1).
    bar(T) is the last row decided by T. An asset's order for a row fills at the asset's first fill
    instant after that row's decision (``run.fill``), so ``held`` takes each asset's weight from the
    last row its order has filled by T.
    """
    from riskoff.data.calendars import decision_times
    from riskoff.strategies.books import target_weights, weight_arrays

    if not cfg.portfolios:
        return []
    by_pair = {(h.strategy, h.asset): h for h in history}
    by_record = {(r.strategy, r.asset): r for r in pairs}
    any_pair = {h.asset: h for h in history}
    out = []
    for book in cfg.portfolios:
        assets = list(book.assets)
        w, d = weight_arrays(book)
        calendar = "utc" if any(any_pair[a].clock == "utc" for a in assets) else "us"
        # each asset's bars with the calendar's next bar after its history: a row that needs that
        # bar is not decided yet (its instant is past T), however far the history was computed
        bars = {}
        for a in assets:
            h = any_pair[a]
            arr = _arrays(h, cfg, data)
            bars[a] = (h.run.exposure.index.append(arr.next_bar),
                       np.concatenate([arr.decide_at, decision_times(arr.next_bar, h.clock)]))
        union = bars[assets[0]][0]
        for a in assets[1:]:
            union = union.union(bars[a][0])
        # per asset: the position of each book row on its own bars; a row is decided at the latest of
        # its assets' decision instants, and an asset's order for a row fills at the asset's first
        # fill instant after that (the same for every strategy of the book)
        never = np.iinfo("int64").max
        positions = [np.searchsorted(bars[a][0], union, side="right") - 1 for a in assets]
        decided_at = np.zeros(len(union), dtype="int64")
        for (_, decide_at), pos in zip((bars[a] for a in assets), positions, strict=True):
            decided_at = np.maximum(decided_at, np.where(pos >= 0, decide_at[np.maximum(pos, 0)], 0))
        r = int(np.searchsorted(decided_at, t.value, side="right")) - 1
        if r < 0:
            continue
        fill_rows = []
        for a in assets:
            f = _arrays(any_pair[a], cfg, data).fill_at
            k = np.searchsorted(f, decided_at[: r + 1], side="right")
            fill_rows.append(np.where(k < len(f), f[np.minimum(k, len(f) - 1)], never))
        for strategy in book.strategies:
            e = np.ones((r + 1, len(assets)))
            for j, a in enumerate(assets):
                h = by_pair.get((strategy, a))
                if h is not None:  # else the strategy does not cover the asset: exposure 1
                    val = np.append(_arrays(h, cfg, data).decided, 0.0)  # the next bar's is never read
                    pos = positions[j][: r + 1]
                    e[:, j] = np.where(pos >= 0, val[np.minimum(np.maximum(pos, 0), len(val) - 1)], 0.0)
            targets = target_weights(e, w, d)
            held_w, held_e, pending_at = np.zeros(len(assets)), np.zeros(len(assets)), []
            for j, fill_at in enumerate(fill_rows):
                filled = np.flatnonzero(fill_at <= t.value)
                if len(filled):
                    held_w[j], held_e[j] = targets[filled[-1], j], e[filled[-1], j]
                if held_w[j] != targets[r, j] and fill_at[r] != never:
                    pending_at.append(int(fill_at[r]))
            # the book's invested share, summed as riskoff.strategies.books.book_exposure sums it
            total = sum(wa for _, wa in book.weights)
            decided = held = 0.0
            for j, (_, wa) in enumerate(book.weights):
                decided += wa * e[r, j]
                held += wa * held_e[j]
            decided, held = decided / total, held / total
            changed = np.flatnonzero(np.any(np.abs(np.diff(targets, axis=0)) > 1e-12, axis=1)) + 1
            sleeves = [by_record[(strategy, a)] for a in assets if (strategy, a) in by_record]
            flips = [r_.last_flip for r_ in sleeves if r_.last_flip]
            releases = [r_.next_release for r_ in sleeves if r_.next_release]
            out.append(Record(
                "book", strategy, book.name, calendar, False, union[r].strftime("%Y-%m-%d"), decided, held,
                bool(pending_at), iso(int(decided_at[r])),
                iso(int(decided_at[changed[-1]])) if len(changed) else None,
                iso(min(pending_at)) if pending_at else None, [],
                max(flips, key=lambda f: f["at"]) if flips else None,
                list(dict.fromkeys(s_ for r_ in sleeves for s_ in r_.inputs)),
                list(dict.fromkeys(s_ for r_ in sleeves for s_ in r_.stale_inputs)),
                min(releases, key=lambda n: n["at"]) if releases else None,
                {a: {"decided": float(targets[r, j]), "held": float(held_w[j])} for j, a in enumerate(assets)}))
    return out


def first_decision(cfg: RunConfig, data: DataContext) -> int:
    """The UTC ns instant by which every asset of the config has its first decided bar (at run.start)."""
    from riskoff.data.calendars import clock_of, decision_times

    firsts = []
    for asset in cfg.assets:
        clock = clock_of(data.catalog[asset])
        bars = _bars_around(clock, cfg.start, pd.Timedelta(0), pd.Timedelta(days=10), data)
        firsts.append(int(decision_times(bars[:1], clock)[0]))
    return max(firsts)


def readout(cfg: RunConfig, data: DataContext, t: pd.Timestamp, *, history: list[PairHistory] | None = None,
            run_end: tuple[pd.Timestamp, str] | None = None) -> Readout:
    """The read-out of ``cfg`` as of instant ``t`` (naive UTC).

    ``history``: pairs already computed up to bar(T) or later (tests index one history at many
    instants); by default each asset's history is computed up to its own bar(T).
    ``run_end``: (end, limited by) of the run the data supports, when the caller knows it.
    """
    from riskoff.data.calendars import clock_of

    first = first_decision(cfg, data)
    if t.value < first:
        raise ConfigError(f"--as-of {t:%Y-%m-%d %H:%M:%S} UTC is before the data: the first decision of "
                          f"{cfg.source} (run.start {cfg.start:%Y-%m-%d}) is at {iso(first)}")
    bars = {a: bar_at(clock_of(data.catalog[a]), t, data)[0] for a in cfg.assets}
    if history is None:
        ends = {a: history_end(clock_of(data.catalog[a]), b) for a, b in bars.items()}
        history = compute_history(cfg, data, ends)
    if run_end is None:
        run_end = _run_end(cfg, history, data)
    ids = list(dict.fromkeys(s for h in history for s in (h.asset, *(x for v in h.inputs.values() for x in v))))
    required = set().union(*(h.required for h in history)) if history else set()
    inputs = read_inputs(ids, required, t, data)
    base = baselines(cfg)
    records = [pair_record(h, t, bars[h.asset], cfg, data, inputs, base) for h in history]
    records += book_records(cfg, data, t, history, records)
    for sid, inp in inputs.items():  # which signals and rules each input reaches (named when stale)
        for h, r in zip(history, records):
            labels = [lab for lab, v in h.inputs.items() if sid in v]
            inp.signals.extend(x for x in labels if x not in inp.signals)
            if labels or sid == h.asset:
                inp.rules.append(f"{h.strategy}/{h.asset}")
    notes = _notes(cfg, t, inputs, run_end) + live_cache_notes(data, inputs)
    return Readout(cfg.source, iso(t.value), str(data.data_dir), data.data_dir_from,
                   None if run_end is None else f"{run_end[0]:%Y-%m-%d}", None if run_end is None else run_end[1],
                   cfg.fill, records, list(inputs.values()), notes)


def _run_end(cfg: RunConfig, history: list[PairHistory], data: DataContext) -> tuple[pd.Timestamp, str] | None:
    from riskoff.run.plan import resolve_end

    required = tuple(dict.fromkeys(s for h in history for s in sorted(h.required)))
    try:
        return resolve_end(cfg, required, data)
    except (RiskoffError, IndexError):
        return None


def _notes(cfg: RunConfig, t: pd.Timestamp, inputs: Mapping[str, InputReadout],
           run_end: tuple[pd.Timestamp, str] | None) -> list[str]:
    notes = []
    if run_end is not None and t.normalize() > run_end[0]:
        notes.append(f"as of {t:%Y-%m-%d} is past the run's end {run_end[0]:%Y-%m-%d} (limited by {run_end[1]}): "
                     "stale inputs read no opinion, as past the staleness bound in a run")
    for i in inputs.values():
        if i.required and i.stale:
            last = f"last publication {i.published_at} (observation {i.last_observation})" if i.published_at \
                else "no observation published by then"
            notes.append(f"STALE {i.series}: {last}, {i.age_days if i.age_days is not None else '-'} days old "
                         f"> max_stale_days {i.max_stale_days}; signals {', '.join(i.signals) or '-'}; "
                         f"rules {', '.join(i.rules) or '-'}")
    manual = sorted(i.series for i in inputs.values() if i.required and i.live_source is None)
    if manual:
        notes.append("no live source (`riskoff data fetch` cannot refresh them; update their files by hand): "
                     + ", ".join(manual))
    return notes


def live_cache_notes(data: DataContext, inputs: Mapping[str, InputReadout]) -> list[str]:
    """How the data dir and the live cache combine: ``riskoff now`` reads one data dir, resolved as
    ``riskoff run`` resolves it (the live cache, where ``riskoff data fetch`` writes by default, comes
    last). When it reads another dir and the live cache holds newer rows of a required series, say
    so: those rows are not used."""
    from riskoff.data.sources import read_series
    from riskoff.util import paths
    from riskoff.util.errors import DataError

    live = Path(paths.LIVE_DATA_DIR)
    if not live.is_dir() or live.resolve() == Path(data.data_dir).resolve():
        return []
    newer = []
    for sid, inp in inputs.items():
        spec = data.catalog[sid]
        if not inp.required or not (live / spec.relpath()).is_file():
            continue
        try:
            last_live = read_series(spec, live).index[-1]
            last_here = read_series(spec, data.data_dir).index[-1] if (data.data_dir / spec.relpath()).exists() \
                else None
        except DataError:
            continue
        if last_here is None or last_live > last_here:
            newer.append(f"{sid} (through {last_live:%Y-%m-%d})")
    if not newer:
        return []
    return [f"the live cache {live} holds newer rows than the data dir read here for {', '.join(newer)}; they are "
            f"not used: run `riskoff data fetch --data-dir {data.data_dir}` to refresh this data dir, or read the "
            f"cache with --data-dir {live}"]


def run_now(config: str | Path, *, as_of: str | None = None, data_dir: str | Path | None = None) -> Readout:
    """Load ``config`` and read it out as of ``as_of`` (default: now) on the resolved data dir."""
    from riskoff.data.sanity import now_utc
    from riskoff.run.config import load_config

    cfg = load_config(config)
    t = parse_instant(as_of) if as_of is not None else now_utc().as_unit("ns")
    data = DataContext.create(data_dir, cfg.series)
    return readout(cfg, data, t)


# ------------------------------------------------------------------------------------------ state

def read_state(path: str | Path) -> dict[str, Any] | None:
    """The read-out kept by the last ``--state`` call, or None when the file does not exist yet."""
    import json

    path = Path(path)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--state {path}: not a riskoff now state file ({exc}); delete it to start afresh") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list) or not isinstance(doc.get("inputs"), list):
        raise ConfigError(f"--state {path}: not a riskoff now state file (no records/inputs); delete it to start "
                          "afresh")
    return doc


def write_state(path: str | Path, doc: Mapping[str, Any]) -> None:
    """Keep ``doc`` (a read-out's JSON form) in ``path``, written atomically (temp file + rename)."""
    import json

    from riskoff.util.files import atomic_write_text

    try:
        atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(f"--state {path}: cannot write it ({exc.strerror or exc})") from None


def changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[list[str], bool]:
    """(what changed from ``old`` to ``new`` as sentences, whether a decision changed).

    Compared per record (kind, strategy, asset): decided, held, pending and each signal's state;
    per input: stale or fresh. With no previous read-out every record is new (no decision change).
    """
    if old is None:
        return [f"first read-out: {len(new['records'])} records kept"], False
    out, decision = [], False

    def key(r: Mapping[str, Any]) -> str:
        return f"{r.get('kind', 'pair')}:{r['strategy']}/{r['asset']}"

    before = {key(r): r for r in old.get("records", []) if isinstance(r, Mapping) and "strategy" in r}
    for r in new["records"]:
        k, name = key(r), f"{r['strategy']}/{r['asset']}"
        o = before.pop(k, None)
        if o is None:
            out.append(f"{name}: new (decided {r['decided']:g})")
            continue
        if o.get("decided") != r["decided"]:
            decision = True
            out.append(f"{name}: decided {o.get('decided'):g} -> {r['decided']:g} at {r['decided_at']}")
        if o.get("held") != r["held"]:
            out.append(f"{name}: held {o.get('held'):g} -> {r['held']:g}")
        if o.get("pending") != r["pending"] and o.get("decided") == r["decided"]:
            out.append(f"{name}: " + ("pending fill" if r["pending"] else "filled"))
        ostates = {s["label"]: s["state"] for s in o.get("signals", []) if isinstance(s, Mapping)}
        for s in r["signals"]:
            if s["label"] in ostates and ostates[s["label"]] != s["state"]:
                out.append(f"{name}: signal {s['label']} {ostates[s['label']]} -> {s['state']}")
    out += [f"{k.split(':', 1)[1]}: no longer in the config" for k in before]
    ostale = {i["series"]: i.get("stale") for i in old.get("inputs", []) if isinstance(i, Mapping)}
    for i in new["inputs"]:
        if i["series"] in ostale and ostale[i["series"]] != i["stale"]:
            out.append(f"input {i['series']}: " + ("now STALE" if i["stale"] else "fresh again")
                       + f" (last publication {i['published_at']})")
    return out, decision


def notify(command: str, payload: str, timeout: float = 60.0) -> str | None:
    """Run ``command`` (split like a shell would, run without one) with ``payload`` on standard input.

    Returns None on success, else one line saying what went wrong (the caller warns; the read-out's
    own exit status is not changed by a failing hook).
    """
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"--on-change {command!r}: cannot split it into a command line ({exc})") from None
    if not argv:
        raise ConfigError("--on-change: empty command")
    try:
        done = subprocess.run(argv, input=payload, text=True, timeout=timeout, shell=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except FileNotFoundError:
        return f"--on-change: {argv[0]}: command not found"
    except PermissionError:
        return f"--on-change: {argv[0]}: permission denied"
    except subprocess.TimeoutExpired:
        return f"--on-change: {argv[0]} did not finish within {timeout:g} s"
    if done.returncode != 0:
        err = (done.stderr or "").strip().splitlines()
        return f"--on-change: {argv[0]} exited {done.returncode}" + (f": {err[-1]}" if err else "")
    return None
