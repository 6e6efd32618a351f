"""Stateful overlays: what happens to a rule's raw target bar by bar before the engine sees it.

Every overlay is one small unit here: its settings (fields of :class:`Overlays`, declared once
with their range; the numba record type :data:`overlay_settings_dt` is generated from them), its
state (fields of :class:`OverlayState`), a numba ``*_step_nb`` function that advances the state
by one bar, and how many bars of history a streamed run must replay (:func:`replay_bars`).
:func:`overlay_step_nb` chains them in a fixed order, one bar at a time. It is the only
implementation: :func:`apply_overlays` (the run path), the sweep kernels and the event-driven
engine all advance the same step, so a new overlay is written once, here.

Order on the raw target ``r`` of bar t (NaN = the rule has no opinion):

    idle_exposure = e   NaN -> e (what to hold while the rule's signals have no data yet; 0 = cash,
                        1 = stay invested), then clip to [0, max_leverage].
    hysteresis = b      the exposure moves to r[t] only when |r[t] - exposure[t-1]| > b.
    min_bars_out = N    once de-risked (any cut at bar d), no rise before bar d + N (N <= 1: none).
    cooldown_bars = N   after any rise at bar e, no cut on bars e+1 .. e+N.
    trailing_stop = x   while invested, track the peak close since entry; at close <= peak x (1 - x)
                        go to 0 and stay there until the gated target is > 0 and either the close
                        is the highest of the last N bars (N = ``stop_reentry_bars``) or N bars have
                        passed since the stop; the peak restarts at re-entry. A missing close
                        neither moves the peak nor triggers.
    max_leverage        upper bound of the exposure (default 1.0).

Everything starts in cash (exposure 0 before the first bar). The exposure decided at bar t is
filled by the engine at t+1; nothing here shifts it.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
from numba import njit

from riskoff.util.durations import to_bars
from riskoff.util.errors import ConfigError

__all__ = ["Overlays", "OverlayState", "HysteresisState", "GateState", "StopState", "overlay_settings_dt", "initial_overlay_state", "overlay_step_nb",
           "hysteresis_step_nb", "gate_step_nb", "trailing_stop_step_nb", "clip_step_nb", "replay_bars",
           "replay_start_nb", "overlay_stream_nb", "prev_max", "apply_overlays", "hysteresis", "gate", "trailing_stop",
           "overlay_fields"]

_NEVER = -(1 << 40)  # "long ago": a bar index no gate clock can be within reach of


def _setting(default, low, high, text: str, doc: str):
    return field(default=default, metadata={"low": low, "high": high, "range": text, "doc": doc})


@dataclass(frozen=True)
class Overlays:
    """Overlay settings of one strategy (the declaration: type, default and range of each field).

    Integer fields count bars; the others are fractions of the account. Ranges that depend on
    another field (``hysteresis`` and ``idle_exposure`` below ``max_leverage``) are checked after
    the plain ranges.
    """

    min_bars_out: int = _setting(0, 0, 100_000, "0 .. 100000", "bars to stay out after a cut")
    cooldown_bars: int = _setting(0, 0, 100_000, "0 .. 100000", "bars without a new cut after a rise")
    hysteresis: float = _setting(0.0, 0.0, None, "0 .. < max_leverage", "ignore target moves this small")
    trailing_stop: float = _setting(0.0, 0.0, 1.0 - 1e-12, "0 .. < 1 (a fraction: 0.2 = 20% below the peak)",
                                    "exit at this fall from the peak since entry")
    max_leverage: float = _setting(1.0, 1e-12, 10.0, "> 0 and <= 10", "upper bound of the exposure")
    stop_reentry_bars: int = _setting(20, 1, 100_000, "1 .. 100000", "re-entry look-back after a stop")
    idle_exposure: float = _setting(0.0, 0.0, None, "0 .. max_leverage", "exposure while the rule has no opinion")

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in (int, "int") and isinstance(v, str):
                to_bars(v, "1s", key=f"overlays.{f.name}")  # a time span: bars per clock, see on_clock()
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ConfigError(f"overlays.{f.name} = {v!r}: expected a number")
            if f.type in (int, "int"):
                if not float(v).is_integer():
                    raise ConfigError(f"overlays.{f.name} = {v!r}: expected a whole number of bars")
                object.__setattr__(self, f.name, int(v))
            else:
                object.__setattr__(self, f.name, float(v))
            lo, hi = f.metadata["low"], f.metadata["high"]
            if (lo is not None and getattr(self, f.name) < lo) or (hi is not None and getattr(self, f.name) > hi):
                self._out_of_range(f.name)
        if self.hysteresis >= self.max_leverage:
            raise ConfigError(f"overlays.hysteresis = {self.hysteresis!r} is out of range; expected "
                              f"0 .. < max_leverage ({self.max_leverage:g})")
        if self.idle_exposure > self.max_leverage:
            raise ConfigError(f"overlays.idle_exposure = {self.idle_exposure!r} is out of range; expected "
                              f"0 .. max_leverage ({self.max_leverage:g})")

    def _out_of_range(self, name: str) -> None:
        text = next(f.metadata["range"] for f in fields(self) if f.name == name)
        raise ConfigError(f"overlays.{name} = {getattr(self, name)!r} is out of range; expected {text}")

    def on_clock(self, bar: str) -> "Overlays":
        """These settings with every time span ("5d", "24h") as a bar count on a clock of ``bar``."""
        spans = {f.name: to_bars(getattr(self, f.name), bar, key=f"overlays.{f.name}") for f in fields(self)
                 if isinstance(getattr(self, f.name), str)}
        return replace(self, **spans) if spans else self

    def to_record(self) -> np.recarray:
        """These settings as a one-element record array of :data:`overlay_settings_dt` ([0] is the record;
        a record array so that fields read as attributes in plain Python too, not only under numba)."""
        return np.rec.array([tuple(getattr(self, n) for n in overlay_settings_dt.names)], dtype=overlay_settings_dt)


def overlay_fields() -> dict[str, type]:
    """Field name -> int or float for every overlay setting (what sweeps may grid over)."""
    return {f.name: int if f.type in (int, "int") else float for f in fields(Overlays)}


#: numba record of one strategy's overlay settings, generated from the :class:`Overlays` declaration.
overlay_settings_dt = np.dtype([(name, np.int64 if t is int else np.float64) for name, t in overlay_fields().items()],
                               align=True)

#: per-bar state of each overlay (passed by value: numba keeps it in registers)
HysteresisState = namedtuple("HysteresisState", ["prev"])            # the exposure it last moved to
GateState = namedtuple("GateState", ["prev", "last_down", "last_up"])  # last exposure let through, bars of
                                                                       # the last cut and the last rise
StopState = namedtuple("StopState", ["prev", "peak", "stopped", "stop_bar"])  # peak close since entry (NaN =
                                                                       # none yet); out since stop_bar
#: the state of every overlay, one field per overlay
OverlayState = namedtuple("OverlayState", ["hysteresis", "gate", "stop"])


@njit(cache=True)
def initial_overlay_state() -> OverlayState:
    """The state before the first bar: everything in cash, no cut or rise ever seen."""
    return OverlayState(HysteresisState(0.0), GateState(0.0, _NEVER, _NEVER), StopState(0.0, np.nan, False, 0))


@njit(cache=True)
def clip_step_nb(settings, raw: float) -> float:
    """NaN -> idle_exposure, then into [0, max_leverage] (NaN and negatives -> 0)."""
    v = raw
    if v != v:
        v = settings.idle_exposure
    if v != v or v < 0.0:
        return 0.0
    if v > settings.max_leverage:
        return settings.max_leverage
    return v


@njit(cache=True)
def hysteresis_step_nb(settings, state: HysteresisState, v: float):
    """(exposure, state): move to v only when it is more than ``hysteresis`` away."""
    prev = state.prev
    if abs(v - prev) > settings.hysteresis:
        prev = v
    return prev, HysteresisState(prev)


@njit(cache=True)
def gate_step_nb(settings, state: GateState, t: int, v: float):
    """(exposure, state): minimum time out after a cut, cooldown after a rise."""
    prev, last_down, last_up = state.prev, state.last_down, state.last_up
    if v > prev:
        if t - last_down >= settings.min_bars_out:
            prev = v
            last_up = t
    elif v < prev:
        if t - last_up > settings.cooldown_bars:
            prev = v
            last_down = t
    return prev, GateState(prev, last_down, last_up)


@njit(cache=True)
def trailing_stop_step_nb(settings, state: StopState, t: int, v: float, close: float, prevmax: float):
    """(exposure, state): the trailing stop. ``prevmax`` is the highest close of the
    ``stop_reentry_bars - 1`` bars before t (-inf when none): the "new N-bar high" re-entry test."""
    # one exit point: numba/LLVM keep the state in registers instead of building it per branch
    peak, stopped, stop_bar = state.peak, state.stopped, state.stop_bar
    out = 0.0
    blocked = False
    if stopped:
        release = False
        if v > 0.0:
            if t - stop_bar >= settings.stop_reentry_bars:
                release = True
            elif close == close:
                release = not (prevmax > close)
        if release:
            stopped = False
        else:
            blocked = True
    if not blocked and v > 0.0:
        if state.prev == 0.0 or peak != peak:
            peak = close
        elif close > peak:
            peak = close
        if close <= peak * (1.0 - settings.trailing_stop):  # False while close or peak is NaN
            stopped = True
            stop_bar = t
        else:
            out = v
    return out, StopState(out, peak, stopped, stop_bar)


@njit(cache=True)
def overlay_step_nb(settings, state: OverlayState, t: int, raw: float, close: float, prevmax: float):
    """Advance every overlay by one bar: (exposure decided at bar t, new state).

    ``settings`` is a record of :data:`overlay_settings_dt`; inactive overlays are skipped (they
    would leave the value unchanged anyway).
    """
    h, g, s = state.hysteresis, state.gate, state.stop
    v = clip_step_nb(settings, raw)
    if settings.hysteresis > 0.0:
        v, h = hysteresis_step_nb(settings, h, v)
    if settings.min_bars_out > 1 or settings.cooldown_bars > 0:
        v, g = gate_step_nb(settings, g, t, v)
    if settings.trailing_stop > 0.0:
        v, s = trailing_stop_step_nb(settings, s, t, v, close, prevmax)
    return v, OverlayState(h, g, s)


def replay_bars(settings: Overlays) -> int:
    """Bars of target <= 0 after which every overlay is back in its initial state.

    After that many bars in cash the gate's clocks have run out (a cut at most ``cooldown_bars``
    into the run and at least ``min_bars_out`` bars ago) and a stop is at least
    ``stop_reentry_bars`` old, so a streamed run may start there (hysteresis also needs every
    positive target above its band: see :func:`replay_start_nb`).
    """
    return settings.cooldown_bars + max(settings.min_bars_out,
                                        settings.stop_reentry_bars if settings.trailing_stop > 0 else 0) + 1


@njit(cache=True)
def replay_start_nb(settings, raw, minpos: float, first: int) -> int:
    """The bar from which stepping reproduces a run started at bar 0, for outputs from ``first`` on.

    Streams start from a reset point (:func:`replay_bars` bars of target <= 0 before ``first``),
    then skip leading bars whose target is <= 0 (their output is 0). Without any active overlay
    the output needs no history and this is ``first``. ``minpos`` is the smallest positive raw
    target (hysteresis keeps state through cash only when some positive value is inside its band).
    """
    n = raw.shape[0]
    do_h = settings.hysteresis > 0.0
    do_g = settings.min_bars_out > 1 or settings.cooldown_bars > 0
    do_s = settings.trailing_stop > 0.0
    if not (do_h or do_g or do_s):
        return first
    r = 0
    if not do_h or minpos > settings.hysteresis:
        reentry = settings.stop_reentry_bars if do_s else 0
        need = settings.cooldown_bars + max(settings.min_bars_out, reentry) + 1
        run = 0
        for t in range(first - 1, -1, -1):
            if raw[t] > 0.0 or (raw[t] != raw[t] and settings.idle_exposure > 0.0):
                run = 0
            else:
                run += 1
                if run >= need:
                    r = t + need
                    break
    for t in range(r, n):
        if raw[t] > 0.0 or (raw[t] != raw[t] and settings.idle_exposure > 0.0):
            return t
    return n


@njit(cache=True)
def overlay_stream_nb(settings, raw, minpos: float, close, prevmax, first: int, out) -> None:
    """Write the exposure of bars ``first ..`` into ``out``, stepping from the replay start only.

    What a sweep runs per combination: bars before ``first`` are stepped only from
    :func:`replay_start_nb` on (and may be written), bars from ``first`` on are always written.
    """
    n = raw.shape[0]
    t0 = replay_start_nb(settings, raw, minpos, first)
    for t in range(first, min(t0, n)):
        out[t] = 0.0
    state = initial_overlay_state()
    for t in range(t0, n):
        out[t], state = overlay_step_nb(settings, state, t, raw[t], close[t], prevmax[t])


@njit(cache=True)
def _overlay_path_nb(settings, raw, close, prevmax, out):
    state = initial_overlay_state()
    for t in range(raw.shape[0]):
        out[t], state = overlay_step_nb(settings, state, t, raw[t], close[t], prevmax[t])


def prev_max(close: np.ndarray, bars: int) -> np.ndarray:
    """Highest close of the ``bars - 1`` bars before each bar, NaNs skipped; -inf when there is none.

    The trailing stop's re-entry test ("the close is the highest of the last N bars") as one
    array, so the per-bar step needs no look-back loop.
    """
    close = np.asarray(close, dtype="float64")
    if bars <= 1:
        return np.full(len(close), -np.inf)
    s = pd.Series(close).shift(1).rolling(int(bars) - 1, min_periods=1).max()
    return np.ascontiguousarray(s.fillna(-np.inf).to_numpy(dtype=float))


def _as_array(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype="float64"))


def _run(x, close, overlays: Overlays) -> np.ndarray:
    raw = _as_array(x)
    c = _as_array(close) if close is not None else np.full(len(raw), np.nan)
    pm = prev_max(c, overlays.stop_reentry_bars) if overlays.trailing_stop > 0 else np.full(len(raw), -np.inf)
    out = np.empty(len(raw))
    _overlay_path_nb(overlays.to_record()[0], raw, c, pm, out)
    return out


def apply_overlays(target: pd.Series, close: pd.Series, overlays: Overlays = Overlays()) -> pd.Series:
    """Raw rule target -> exposure: idle fill, clip, hysteresis, gate and trailing stop, bar by bar."""
    close_v = close.reindex(target.index) if overlays.trailing_stop > 0 else None
    return pd.Series(_run(target, close_v, overlays), index=target.index, name="exposure")


def _single(x, values: np.ndarray):
    return pd.Series(values, index=x.index, name="exposure") if isinstance(x, pd.Series) else values


def hysteresis(x: pd.Series | np.ndarray, band: float):
    """Only the hysteresis overlay (exposure moves to x[t] when |x[t] - exposure[t-1]| > band; starts at 0).

    Unlike :func:`apply_overlays` a negative or NaN input is passed to the band test as is; use
    it on clean targets.
    """
    return _single(x, _run(x, None, Overlays(hysteresis=float(band), max_leverage=max(10.0, float(band) + 1))))


def gate(x: pd.Series | np.ndarray, min_bars_out: int = 0, cooldown_bars: int = 0):
    """Only the minimum-time-out / cooldown gate (see the module docstring)."""
    return _single(x, _run(x, None, Overlays(min_bars_out=int(min_bars_out), cooldown_bars=int(cooldown_bars),
                                             max_leverage=10.0)))


def trailing_stop(x: pd.Series | np.ndarray, close: pd.Series | np.ndarray, stop: float, reentry_bars: int = 20):
    """Only the trailing-drawdown stop from the running peak since entry (see the module docstring)."""
    return _single(x, _run(x, close, Overlays(trailing_stop=float(stop), stop_reentry_bars=int(reentry_bars),
                                              max_leverage=10.0)))
