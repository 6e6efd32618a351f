"""Signals: the plug-in contract, its helpers, and the discovery of signal modules (evaluation point
in time is :mod:`riskoff.signals.evaluate`).

A signal is one short module in ``signals/`` (see the README, "Write your own signal")::

    \"\"\"One-line summary. Then what it reads, its defaults and where they come from.\"\"\"
    from riskoff import Param, RISK_OFF, RISK_ON, signal_frame

    INPUTS = ["SPY.close"]                 # columns of the aligned frame (riskoff.data.load)
    PARAMS = [Param("window", 200, low=20, high=400, description="moving-average length")]
    WARMUP = "window"                      # bars before the first reading: an int, a param name or a function

    def compute(data, window=200):
        ma = data["SPY.close"].rolling(window).mean()
        return signal_frame(reading=data["SPY.close"] / ma - 1,
                            state=(data["SPY.close"] < ma).map({True: RISK_OFF, False: RISK_ON}).where(ma.notna()))

Optional module attributes: ``NAME`` (default: file name), ``OPTIONAL_INPUTS`` (loaded when the
data has them, otherwise absent from ``data``), ``CALENDAR`` ("us", "utc" or an intraday bar clock
such as "1h" or "5m": the bars ``compute`` runs on; default "us"; on a bar clock bar T is decided
at its close and sees every series as published by then, see ``riskoff.data.align``), ``REVISED`` (True when an input is a latest-vintage series that the publisher
revises after its first print, e.g. FRED's jobless claims or NFCI: the history reads cleaner than it
did in real time; shown as ``revised = true`` by ``riskoff signals show`` and in the scorecard).
``compute`` must be pure and causal: the value at bar t may use rows up to
t only. The conformance suite (tests/signals) checks this for every discovered signal.

States: ``RISK_ON`` (0), ``CAUTION`` (1), ``RISK_OFF`` (2), NaN while warming up (strategies read
NaN as "no opinion").

Helpers for ``compute``: :func:`signal_frame` (the return value), :func:`states_from_levels` (two
thresholds to states) and :func:`hysteresis` (a causal latch: enter on one condition, leave on
another). ``riskoff.testing`` holds the conformance checks (truncation invariance, warm-up) so a
plug-in author can run them on a new signal.
"""
from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.util.errors import ConfigError, PluginError, RiskoffError, did_you_mean
from riskoff.util.params import Param, resolve_params
from riskoff.util.paths import plugin_folders
from riskoff.util.plugins import Registry, discover_registry

RISK_ON, CAUTION, RISK_OFF = 0, 1, 2
STATE_NAMES = {RISK_ON: "risk-on", CAUTION: "caution", RISK_OFF: "risk-off"}
ENTRY_POINT_GROUP = "riskoff.signals"


def signal_frame(reading: pd.Series, state: pd.Series | np.ndarray, **extra: pd.Series) -> pd.DataFrame:
    """The frame every ``compute`` returns: ``reading`` (float), ``state`` (float 0/1/2 or NaN), extras."""
    out = pd.DataFrame({"reading": pd.Series(reading, dtype="float64")}, index=reading.index)
    out["state"] = np.asarray(state, dtype="float64")
    for k, v in extra.items():
        out[k] = v
    return out


def states_from_levels(reading: pd.Series, caution: float, risk_off: float, *, higher_is_riskier: bool = True
                       ) -> pd.Series:
    """Map a reading to states by two thresholds (NaN reading -> NaN state)."""
    r = reading if higher_is_riskier else -reading
    c, o = (caution, risk_off) if higher_is_riskier else (-caution, -risk_off)
    st = np.where(r >= o, RISK_OFF, np.where(r >= c, CAUTION, RISK_ON)).astype(float)
    st[reading.isna().to_numpy()] = np.nan
    return pd.Series(st, index=reading.index)


def hysteresis(enter: pd.Series, leave: pd.Series, valid: pd.Series | None = None) -> pd.Series:
    """A causal latch: True from a bar where ``enter`` holds until a later bar where ``leave`` holds.

    ``enter`` wins when both hold on the same bar. Bars where ``valid`` is False (e.g. a NaN
    reading) do not change the latch and come out as NaN. The value at bar t depends on bars <= t
    only, so a path-dependent state (stay risk-off until the re-risk trigger) stays point-in-time.

    Returns a float Series: 1.0 latched, 0.0 not latched, NaN where not valid.
    """
    on_arr = np.asarray(enter, dtype=bool)
    off_arr = np.asarray(leave, dtype=bool)
    ok = np.ones(len(on_arr), bool) if valid is None else np.asarray(valid, dtype=bool)
    out = np.full(len(on_arr), np.nan)
    latched = False
    for i in range(len(on_arr)):  # ~4k bars a signal: a plain loop costs about a millisecond
        if not ok[i]:
            continue
        if on_arr[i]:
            latched = True
        elif off_arr[i]:
            latched = False
        out[i] = 1.0 if latched else 0.0
    return pd.Series(out, index=enter.index)


def asof_ago(series: pd.Series, days: int) -> pd.Series:
    """The value each bar had ``days`` calendar days earlier: the latest bar at or before t - days.

    Causal (reads earlier rows only) and calendar-based, so a weekly series carried onto daily bars
    gives exactly the previous week's print at ``days=7`` whatever the holidays in between. NaN
    where the series has no bar that old.
    """
    idx = series.index
    pos = idx.searchsorted(idx - pd.Timedelta(days=days), side="right") - 1
    vals = series.to_numpy(dtype="float64")[np.maximum(pos, 0)].copy()
    vals[pos < 0] = np.nan
    return pd.Series(vals, index=idx)


@lru_cache(maxsize=None)
def signal_named(name: str) -> "SignalSpec":
    """A signal from the default plug-in folders, for a signal that builds on another one's output
    (call ``signal_named(name).compute(data, **params)``) rather than repeating its formula."""
    return discover().get(name)


@dataclass(frozen=True)
class SignalSpec:
    """A discovered signal: its declaration and its pure ``compute``."""

    name: str
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    compute: Callable[..., pd.DataFrame] = field(compare=False)
    optional_inputs: tuple[str, ...] = ()
    calendar: str = "us"
    warmup_rule: Any = 0
    doc: str = ""
    origin: str = ""
    revised: bool = False

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    @property
    def series_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.split(".")[0] for c in self.inputs))

    @property
    def optional_series_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.split(".")[0] for c in self.optional_inputs))

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return resolve_params(self.params, params, f"signal {self.name}")

    def required_series(self, params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The series a run must cover for these params: the inputs' series, except that a parameter
        whose default names an input series and whose value names an optional one (``asset``,
        ``source``) swaps the one for the other."""
        p = self.resolve(params)
        ids = list(self.series_ids)
        for par in self.params:
            chosen = p[par.name]
            if isinstance(par.default, str) and par.default in ids and chosen != par.default \
                    and chosen in self.optional_series_ids:
                ids[ids.index(par.default)] = chosen
        return tuple(dict.fromkeys(ids))

    def warmup(self, params: Mapping[str, Any] | None = None) -> int:
        p = self.resolve(params)
        rule = self.warmup_rule
        if callable(rule):
            return int(rule(**p))
        if isinstance(rule, str):
            return int(p[rule])
        return int(rule)


def spec_from_module(module: Any, origin: str) -> SignalSpec | None:
    """Validate a module against the contract and wrap it; None for a rule module (one with a
    ``target`` and no ``compute``), which a folder of ``plugin_dirs`` may hold next to signals."""
    name = getattr(module, "NAME", None) or Path(origin).stem
    where = f"signal module {origin}"
    compute = getattr(module, "compute", None)
    if not callable(compute) and callable(getattr(module, "target", None)):
        return None
    if not callable(compute):
        raise PluginError(f"{where}: defines no compute(data, **params) function")
    inputs = getattr(module, "INPUTS", None)
    if (isinstance(inputs, (str, bytes)) or not isinstance(inputs, (list, tuple)) or not inputs
            or not all(isinstance(i, str) and i for i in inputs)):
        raise PluginError(f"{where}: INPUTS = {inputs!r}; it must be a non-empty list of column names "
                          "like ['SPY.close', 'S5FI']")
    optional = getattr(module, "OPTIONAL_INPUTS", ())
    if isinstance(optional, (str, bytes)) or not isinstance(optional, (list, tuple)) or \
            not all(isinstance(i, str) and i for i in optional):
        raise PluginError(f"{where}: OPTIONAL_INPUTS = {optional!r}; it must be a list of column names")
    params = getattr(module, "PARAMS", ())
    if isinstance(params, Param) or not isinstance(params, (list, tuple)) or \
            not all(isinstance(p, Param) for p in params):
        raise PluginError(f"{where}: PARAMS must be a list of riskoff.Param")
    params = tuple(params)
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PluginError(f"{where}: parameter(s) {dupes} declared twice in PARAMS")
    for p in params:
        try:
            p.validate(p.default, f"signal {name}")
        except Exception as exc:
            raise PluginError(f"{where}: the default of parameter '{p.name}' is invalid: {exc}") from None
    sig = inspect.signature(compute)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for p in params:
        if p.name not in sig.parameters and not takes_kwargs:
            raise PluginError(f"{where}: compute() has no argument for declared parameter '{p.name}'")
    calendar = getattr(module, "CALENDAR", "us")
    if not is_signal_calendar(calendar):
        raise PluginError(f"{where}: CALENDAR = {calendar!r}; expected 'us', 'utc' or a bar clock such as '1h'")
    revised = getattr(module, "REVISED", False)
    if not isinstance(revised, bool):
        raise PluginError(f"{where}: REVISED = {revised!r}; expected True or False")
    rule = getattr(module, "warmup", getattr(module, "WARMUP", 0))
    if isinstance(rule, str) and rule not in names:
        raise PluginError(f"{where}: WARMUP = {rule!r} names no declared parameter{did_you_mean(rule, names)}")
    if not (callable(rule) or isinstance(rule, str)
            or (isinstance(rule, numbers.Integral) and not isinstance(rule, bool) and rule >= 0)):
        raise PluginError(f"{where}: WARMUP = {rule!r}; expected a bar count, a parameter name or a "
                          "function of the parameters")
    spec = SignalSpec(name=name, inputs=tuple(inputs), params=params, compute=compute,
                      optional_inputs=tuple(optional), calendar=calendar, warmup_rule=rule,
                      doc=inspect.getdoc(module) or "", origin=origin, revised=revised)
    try:
        spec.warmup()
    except Exception as exc:
        raise PluginError(f"{where}: WARMUP cannot be evaluated with the default parameters: "
                          f"{type(exc).__name__}: {exc}") from None
    return spec


def source_columns(data: pd.DataFrame, signal: str, source: str, fields: Sequence[str]) -> list[pd.Series]:
    """The ``source.field`` columns a signal with a ``source`` parameter reads, or a ConfigError
    naming the missing column (the source's file is not in the data dir, or not over this span)."""
    out = []
    for f in fields:
        col = f"{source}.{f}"
        if col not in data:
            raise ConfigError(f"signal {signal}: source = {source!r} needs column '{col}', which is not in the "
                              "data (is the series file in the data dir?)")
        out.append(data[col])
    return out


def is_signal_calendar(calendar: Any) -> bool:
    """True for "us", "utc" and intraday bar clocks ("1h", "5m", ...)."""
    from riskoff.data.calendars import bar_clock
    if calendar in ("us", "utc"):
        return True
    try:
        return isinstance(calendar, str) and bar_clock(calendar) is not None
    except RiskoffError:
        return False


class SignalRegistry(Registry):
    """Signals found in the plug-in folders and entry points (``.signals``), plus ``.errors``."""

    KIND = "signal"

    @property
    def signals(self) -> dict[str, SignalSpec]:
        return self.items


def discover(dirs: Sequence[Path] | None = None) -> SignalRegistry:
    """All signals: built-ins, the project's ``signals/`` and ``plugin_dirs`` (see riskoff.util.paths),
    ``dirs``, and the ``riskoff.signals`` entry points."""
    return SignalRegistry(*discover_registry(plugin_folders("signals", dirs), ENTRY_POINT_GROUP, "signals",
                                             spec_from_module, "signal"))


# ---------------------------------------------------------------- docs for `riskoff signals list|show`

_CALENDAR_TEXT = {
    "us": "us (New York trading days; bar t decided at 17:00 New York)",
    "utc": "utc (every UTC day; bar t decided at 00:00 UTC on t+1)",
    "1h": "1h (24/7 UTC hourly bars, indexed by open time; bar T decided at its close, T + 1h)",
    "5m": "5m (24/7 UTC five-minute bars; bar T decided at its close, T + 5m)",
}


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _warmup_text(spec: SignalSpec) -> str:
    try:
        n = spec.warmup()
    except Exception as exc:  # a broken rule is reported, not raised, in docs
        return f"unknown ({type(exc).__name__}: {exc})"
    rule = spec.warmup_rule
    how = (" (= parameter " + rule + ")" if isinstance(rule, str)
           else " (depends on the parameters)" if callable(rule) else "")
    return f"{n} bars with the default parameters{how}"


def _allowed(p: Param) -> str:
    if p.choices is not None:
        return "one of " + ", ".join(_fmt_value(c) for c in p.choices)
    if isinstance(p.default, bool):
        return "true, false"
    if isinstance(p.default, (int, float)) or p.low is not None or p.high is not None:
        return p.range_text()
    return "any"


def _params_table(params: Sequence[Param], indent: str = "  ") -> list[str]:
    if not params:
        return [f"{indent}(none)"]
    rows = [("name", "default", "allowed", "description")]
    rows += [(p.name, _fmt_value(p.default), _allowed(p), p.description) for p in params]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return [f"{indent}{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}".rstrip() for r in rows]


def format_list(registry: SignalRegistry) -> str:
    """Text for ``riskoff signals list``: each signal's summary, inputs and parameters; then failures."""
    lines: list[str] = []
    names = sorted(registry.signals)
    lines.append(f"{len(names)} signal(s)" + (f", {len(registry.errors)} failed to load" if registry.errors else ""))
    for name in names:
        spec = registry.signals[name]
        lines.append("")
        lines.append(f"{name}  [{spec.calendar}{', revised' if spec.revised else ''}]  {spec.summary}")
        inputs = ", ".join(spec.inputs)
        if spec.optional_inputs:
            inputs += "; optional: " + ", ".join(spec.optional_inputs)
        lines.append(f"  inputs: {inputs}")
        if spec.params:
            lines.append("  params: " + ", ".join(
                f"{p.name}={_fmt_value(p.default)} ({_allowed(p)})" for p in spec.params))
        else:
            lines.append("  params: none")
    if registry.errors:
        lines.append("")
        lines.append("failed to load:")
        for name in sorted(registry.errors):
            first = str(registry.errors[name]).splitlines()[0]
            lines.append(f"  {name}: {first}")
    return "\n".join(lines)


def format_show(spec: SignalSpec) -> str:
    """Text for ``riskoff signals show NAME``: docstring, inputs, parameter table, calendar, warm-up, origin."""
    lines = [spec.name, "=" * len(spec.name), ""]
    lines.append(spec.doc.strip() or "(no docstring)")
    lines.append("")
    lines.append(f"Inputs:     {', '.join(spec.inputs)}")
    lines.append(f"Optional:   {', '.join(spec.optional_inputs) if spec.optional_inputs else '(none)'}")
    lines.append(f"Calendar:   {_CALENDAR_TEXT.get(spec.calendar, spec.calendar)}")
    lines.append(f"Warm-up:    {_warmup_text(spec)}")
    lines.append(f"revised = {'true' if spec.revised else 'false'}" + (
        "  (latest-vintage inputs: history revised after the first print, cleaner than it read in real time)"
        if spec.revised else "  (inputs are not revised after publication)"))
    lines.append("States:     0 risk-on, 1 caution, 2 risk-off, NaN warming up / input missing")
    lines.append(f"Origin:     {spec.origin}")
    lines.append("")
    lines.append("Parameters:")
    lines.extend(_params_table(spec.params))
    return "\n".join(lines)
