"""Strategies: the plug-in contract, discovery, config objects, composition and stateful overlays.

A strategy *rule* turns signal states (and/or the asset's close) into a target exposure per asset
per bar. A rule is one short module in ``strategies/`` (or exposed by an installed package under
the entry-point group ``riskoff.strategies``)::

    \"\"\"Any signal risk-off -> off_exposure, else on_exposure.\"\"\"
    from riskoff import Param
    from riskoff.strategy import StrategyContext, off_votes

    PARAMS = [Param("off_exposure", 0.0, low=0.0, high=10.0, description="exposure when de-risked")]
    NEEDS_SIGNALS = True                   # default True; baselines set False

    def target(ctx: StrategyContext, off_exposure=0.0):
        votes = off_votes(ctx.states)      # NaN on bars where no signal has an opinion
        return (votes >= 1).map({True: off_exposure, False: 1.0}).where(votes.notna())

Module attributes: optional ``NAME`` (default: file name), ``PARAMS`` (list of
:class:`riskoff.Param`), ``NEEDS_SIGNALS`` (bool, default True) and optional
``check(labels, **params)`` (raise ``ValueError`` when the parameters do not fit the configured
signal labels, e.g. ``k`` larger than the number of signals; it runs before any data is loaded).
``target(ctx, **params) -> pd.Series`` must be pure and causal: the value at bar t may use rows
up to t only (tests/strategies checks this for every discovered rule). It returns one value per
bar of ``ctx.close.index``: the target exposure, 0 .. max_leverage (values above are clipped by
the overlays; negative values are an error), NaN while warming up (= hold cash).

:class:`StrategyContext` (frozen) carries ``asset``, ``close`` (the asset close on the decision
calendar, point-in-time), ``states`` and ``readings`` (one column per signal label; states are
RISK_ON 0 / CAUTION 1 / RISK_OFF 2 / NaN = warming up or no opinion), ``calendar`` ("us" or "utc")
and ``periods_per_year`` (365 for "utc", 252 for "us").

Helpers for rule modules: :func:`off_votes`, :func:`has_opinion`, :func:`state_scores` and the
numba latch :func:`reentry_latch`. Put numba kernels with ``cache=True`` in an importable module,
not in the plug-in file itself: plug-ins are imported under a synthetic module name that numba's
on-disk cache cannot re-import.

Conventions shared by the shipped rules: a NaN state is never counted as a risk-off vote, and a
bar on which no signal has an opinion gives NaN (cash).

Stateful overlays (:class:`riskoff.overlays.Overlays`: idle exposure, hysteresis, minimum time
out, cooldown, trailing stop, max leverage) run after the rule, bar by bar; their semantics and the
shared per-bar step live in :mod:`riskoff.overlays`. The exposure at bar t is decided at t's
decision time; the engine fills it at t+1 (nothing here shifts it).

Configs (frozen dataclasses, or ``[[strategies]]`` tables in a backtest TOML)::

    [[strategies]]
    name = "vix_or_breadth"
    rule = "any_off"
    signals = ["vix_mean_reversion", { name = "breadth_collapse", params = { collapse_level = 15 } }]
    params = { off_exposure = 0.0 }
    overlays = { min_bars_out = 5, cooldown_bars = 3 }
    assets = ["SPY", "QQQ"]

A signal entry is a name or a table ``{ name, params, label }``; ``label`` (default: the name)
names its column, so the same signal can appear twice with different params.

:func:`build_exposure` runs one config on one asset: the asset's native catalog calendar is the
decision calendar, signals are computed with :func:`riskoff.signal.run_signal` on that calendar
(cached in ``signal_cache`` under ``(signal, resolved params, calendar, None, end)``), the rule and overlays run over all history up to ``end`` (so the
state at ``start`` is warmed up, and a window's run is the slice of the full run), and the result
is sliced to ``start .. end``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from riskoff.annualisation import CALENDARS, periods_per_year
from riskoff.config_helpers import freeze, unknown_keys
from riskoff.data.context import DataContext
from riskoff.errors import ConfigError, DataError, PluginError, RiskoffError
from riskoff.overlays import Overlays, apply_overlays, gate, hysteresis, trailing_stop
from riskoff.params import Param, resolve_params
from riskoff.paths import SIGNALS_DIR, STRATEGIES_DIR
from riskoff.plugins import Registry, discover_registry
from riskoff.signal import CAUTION, RISK_OFF, RISK_ON, STATE_NAMES

ENTRY_POINT_GROUP = "riskoff.strategies"

__all__ = ["StrategyContext", "StrategySpec", "StrategyRegistry", "discover_strategies", "spec_from_module",
           "run_rule", "SignalRef", "Overlays", "StrategyConfig", "StrategyRun", "strategy_from_toml",
           "validate_config", "build_exposure", "apply_overlays", "hysteresis", "gate", "trailing_stop",
           "exposure_events", "reentry_latch", "off_votes", "has_opinion", "state_scores"]


# --------------------------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrategyContext:
    """What a rule sees: one asset on one decision calendar, point-in-time."""

    asset: str
    close: pd.Series
    states: pd.DataFrame
    readings: pd.DataFrame
    calendar: str
    periods_per_year: int

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.states.columns)

    def truncate(self, end) -> "StrategyContext":
        """The context as it was known at bar ``end`` (all rows after it dropped)."""
        end = pd.Timestamp(end)
        return replace(self, close=self.close.loc[:end], states=self.states.loc[:end],
                       readings=self.readings.loc[:end])


@dataclass(frozen=True)
class StrategySpec:
    """A discovered strategy rule: its declaration and its pure ``target``."""

    name: str
    params: tuple[Param, ...]
    target: Callable[..., pd.Series] = field(compare=False)
    needs_signals: bool = True
    check: Callable[..., None] | None = field(default=None, compare=False)
    doc: str = ""
    origin: str = ""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def resolve(self, params: Mapping[str, Any] | None = None, owner: str | None = None) -> dict[str, Any]:
        return resolve_params(self.params, params, owner or f"strategy rule {self.name}")


def spec_from_module(module: Any, origin: str) -> StrategySpec:
    """Validate a module against the contract and wrap it."""
    name = getattr(module, "NAME", None) or Path(origin).stem
    where = f"strategy module {origin}"
    target = getattr(module, "target", None)
    if not callable(target):
        raise PluginError(f"{where}: defines no target(ctx, **params) function")
    params = tuple(getattr(module, "PARAMS", ()))
    if not all(isinstance(p, Param) for p in params):
        raise PluginError(f"{where}: PARAMS must be a list of riskoff.Param")
    sig = inspect.signature(target)
    positional = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional and not any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):
        raise PluginError(f"{where}: target() must take the StrategyContext as its first argument")
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for p in params:
        if p.name not in sig.parameters and not takes_kwargs:
            raise PluginError(f"{where}: target() has no argument for declared parameter '{p.name}'")
    needs = getattr(module, "NEEDS_SIGNALS", True)
    if not isinstance(needs, bool):
        raise PluginError(f"{where}: NEEDS_SIGNALS must be True or False, not {needs!r}")
    check = getattr(module, "check", None)
    if check is not None and not callable(check):
        raise PluginError(f"{where}: check must be a function check(labels, **params)")
    return StrategySpec(name=name, params=params, target=target, needs_signals=needs, check=check,
                        doc=inspect.getdoc(module) or "", origin=origin)


class StrategyRegistry(Registry):
    """Rules found in the plug-in folders and entry points (``.strategies``), plus ``.errors``."""

    KIND = "strategy rule"

    @property
    def strategies(self) -> dict[str, StrategySpec]:
        return self.items


def discover_strategies(dirs: Sequence[Path] | None = None) -> StrategyRegistry:
    """All rules in ``strategies/`` (plus ``dirs``) and the ``riskoff.strategies`` entry points."""
    return StrategyRegistry(*discover_registry([STRATEGIES_DIR, *(dirs or [])], ENTRY_POINT_GROUP, "strategies",
                                               spec_from_module, "strategy rule"))


def _folder_stamp(folder: Path) -> tuple:
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in Path(folder).glob("*.py")))
    except OSError:
        return ()


@lru_cache(maxsize=4)
def _cached_strategies(_stamp: tuple) -> StrategyRegistry:
    return discover_strategies()


@lru_cache(maxsize=4)
def _cached_signals(_stamp: tuple):
    from riskoff.signal import discover
    return discover()


def default_strategies() -> StrategyRegistry:
    """``discover_strategies()``, re-run only when a file in ``strategies/`` changes."""
    return _cached_strategies(_folder_stamp(STRATEGIES_DIR))


def default_signals():
    """``riskoff.signal.discover()``, re-run only when a file in ``signals/`` changes."""
    return _cached_signals(_folder_stamp(SIGNALS_DIR))


def run_rule(spec: StrategySpec, ctx: StrategyContext, params: Mapping[str, Any] | None = None, *,
             owner: str | None = None) -> pd.Series:
    """Resolve params, run the rule's ``check`` and ``target``, and check the output shape."""
    owner = owner or f"strategy rule {spec.name}"
    p = spec.resolve(params, owner)
    check_rule_params(spec, ctx.labels, p, owner)
    out = spec.target(ctx, **p)
    return pd.Series(target_values(spec, out, ctx.close.index, owner), index=out.index, name="target")


def target_values(spec: StrategySpec, out: Any, index: pd.Index, owner: str) -> np.ndarray:
    """A rule's ``target`` output checked (a Series on ``index``, no negative or infinite exposure)
    and returned as a float64 array; every problem is a PluginError naming ``owner`` and the rule file."""
    if not isinstance(out, pd.Series):
        raise PluginError(f"{owner} ({spec.origin}): target must return a pandas Series, "
                          f"not {type(out).__name__}")
    if not out.index.equals(index):
        raise PluginError(f"{owner} ({spec.origin}): target's index differs from ctx.close.index")
    v = np.ascontiguousarray(out.to_numpy(dtype=np.float64))
    bad = (v < 0) | np.isinf(v)
    if bad.any():
        i = int(np.argmax(bad))
        raise PluginError(f"{owner} ({spec.origin}): exposure {v[i]!r} on {out.index[i]:%Y-%m-%d} "
                          "is not in 0 .. max_leverage (or NaN)")
    return v


def check_rule_params(spec: StrategySpec, labels: Sequence[str], params: Mapping[str, Any], owner: str) -> None:
    """Run the rule's own ``check(labels, **params)``; its ValueError/TypeError/KeyError becomes a
    ConfigError naming ``owner`` (the sweep calls it once per parameter group, not per combination)."""
    if spec.check is None:
        return
    try:
        spec.check(tuple(labels), **params)
    except RiskoffError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{owner}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Helpers for rule modules
# --------------------------------------------------------------------------------------------
def has_opinion(states: pd.DataFrame) -> pd.Series:
    """True on bars where at least one signal has a state (not NaN)."""
    return states.notna().any(axis=1)


def off_votes(states: pd.DataFrame, caution_weight: float = 0.0) -> pd.Series:
    """Risk-off votes per bar: 1 per RISK_OFF signal plus ``caution_weight`` per CAUTION signal.

    NaN states do not vote; bars where no signal has an opinion are NaN.
    """
    v = (states == RISK_OFF).sum(axis=1).astype("float64")
    if caution_weight:
        v = v + caution_weight * (states == CAUTION).sum(axis=1)
    return v.where(has_opinion(states))


def state_scores(states: pd.DataFrame) -> pd.DataFrame:
    """States mapped to risk scores: RISK_ON 0, CAUTION 0.5, RISK_OFF 1, NaN stays NaN."""
    return states.replace({RISK_ON: 0.0, CAUTION: 0.5, RISK_OFF: 1.0}).astype("float64")


# --------------------------------------------------------------------------------------------
# Config objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignalRef:
    """One signal a strategy reads: its plug-in name, params and column label (default: name)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"signal name must be a non-empty string, not {self.name!r}")
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"signal {self.name}: params must be a table, not {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if not isinstance(self.label, str):
            raise ConfigError(f"signal {self.name}: label must be a string, not {self.label!r}")

    def __hash__(self) -> int:
        return hash((self.name, freeze(self.params), self.label))


@dataclass(frozen=True)
class StrategyConfig:
    """One strategy: a rule over some signals, its params, overlays and the assets it trades."""

    name: str
    rule: str
    signals: tuple[SignalRef, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    overlays: Overlays = field(default_factory=Overlays)
    assets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"strategy name must be a non-empty string, not {self.name!r}")
        if not isinstance(self.rule, str) or not self.rule:
            raise ConfigError(f"strategy {self.name}: rule must be a non-empty string, not {self.rule!r}")
        sigs = self.signals
        if isinstance(sigs, (str, SignalRef)):
            sigs = (sigs,)
        refs = tuple(s if isinstance(s, SignalRef) else SignalRef(s) if isinstance(s, str)
                     else SignalRef(**s) if isinstance(s, Mapping) else _bad_signal(self.name, s) for s in sigs)
        labels = [r.label for r in refs]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ConfigError(f"strategy {self.name}: signal label(s) {dup} appear twice; give each "
                              "copy a distinct label = \"...\"")
        object.__setattr__(self, "signals", refs)
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"strategy {self.name}: params must be a table, not {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))
        if isinstance(self.overlays, Mapping):
            object.__setattr__(self, "overlays", Overlays(**self.overlays))
        if not isinstance(self.overlays, Overlays):
            raise ConfigError(f"strategy {self.name}: overlays must be a table, not {self.overlays!r}")
        assets = (self.assets,) if isinstance(self.assets, str) else tuple(self.assets)
        if not all(isinstance(a, str) and a for a in assets):
            raise ConfigError(f"strategy {self.name}: assets must be a list of series IDs, not {self.assets!r}")
        object.__setattr__(self, "assets", assets)

    def __hash__(self) -> int:
        return hash((self.name, self.rule, self.signals, freeze(self.params), self.overlays, self.assets))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.signals)


def _bad_signal(name: str, s: Any):
    raise ConfigError(f"strategy {name}: a signal must be a name or a table {{ name, params, label }}, not {s!r}")


_STRATEGY_KEYS = ("name", "rule", "signals", "params", "overlays", "assets")
_SIGNAL_KEYS = ("name", "params", "label")
_OVERLAY_KEYS = tuple(f.name for f in fields(Overlays))


def strategy_from_toml(table: Mapping, where: str, *, validate: bool = True,
                       strategies: StrategyRegistry | None = None, signals=None) -> StrategyConfig:
    """Parse one ``[[strategies]]`` table; errors name ``where`` and the key.

    With ``validate`` (default) the rule and signal names and all params are checked against
    the discovered plug-ins (``strategies``/``signals`` registries, default: the project's).
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table, not {table!r}")
    unknown_keys(table, _STRATEGY_KEYS, where)
    for key in ("name", "rule"):
        if key not in table:
            raise ConfigError(f"{where}: missing required key '{key}'")
        if not isinstance(table[key], str) or not table[key]:
            raise ConfigError(f"{where}.{key} = {table[key]!r}: expected a non-empty string")
    where = f"{where} ({table['name']})"
    raw_signals = table.get("signals", [])
    if isinstance(raw_signals, (str, Mapping)):
        raw_signals = [raw_signals]
    if not isinstance(raw_signals, (list, tuple)):
        raise ConfigError(f"{where}.signals = {raw_signals!r}: expected a list of signal names or tables")
    refs = []
    for i, s in enumerate(raw_signals):
        w = f"{where}.signals[{i}]"
        if isinstance(s, str):
            refs.append(SignalRef(s))
        elif isinstance(s, Mapping):
            unknown_keys(s, _SIGNAL_KEYS, w)
            if "name" not in s:
                raise ConfigError(f"{w}: missing required key 'name'")
            try:
                refs.append(SignalRef(s["name"], s.get("params", {}), s.get("label", "")))
            except ConfigError as exc:
                raise ConfigError(f"{w}: {exc}") from None
        else:
            raise ConfigError(f"{w} = {s!r}: expected a signal name or a table {{ name, params, label }}")
    params = table.get("params", {})
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}.params = {params!r}: expected a table")
    ov = table.get("overlays", {})
    if not isinstance(ov, Mapping):
        raise ConfigError(f"{where}.overlays = {ov!r}: expected a table")
    unknown_keys(ov, _OVERLAY_KEYS, f"{where}.overlays")
    assets = table.get("assets", [])
    if isinstance(assets, str):
        assets = [assets]
    if not isinstance(assets, (list, tuple)) or not all(isinstance(a, str) for a in assets):
        raise ConfigError(f"{where}.assets = {assets!r}: expected a list of series IDs")
    try:
        cfg = StrategyConfig(name=table["name"], rule=table["rule"], signals=tuple(refs), params=params,
                             overlays=Overlays(**ov), assets=tuple(assets))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if validate:
        try:
            validate_config(cfg, strategies=strategies, signals=signals)
        except RiskoffError as exc:
            raise type(exc)(f"{where}: {exc}") from None
    return cfg


def validate_config(cfg: StrategyConfig, *, strategies: StrategyRegistry | None = None, signals=None
                    ) -> tuple[StrategySpec, dict[str, Any], list[tuple[SignalRef, Any, dict[str, Any]]]]:
    """Check names and params without loading data; return (rule spec, params, [(ref, spec, params)])."""
    strategies = strategies if strategies is not None else default_strategies()
    signals = signals if signals is not None else default_signals()
    owner = f"strategy {cfg.name} (rule {cfg.rule})"
    spec = strategies.get(cfg.rule)
    params = spec.resolve(cfg.params, owner)
    if spec.needs_signals and not cfg.signals:
        raise ConfigError(f"{owner}: the rule reads signal states; list at least one signal in signals = [...]")
    resolved = []
    for ref in cfg.signals:
        sspec = signals.get(ref.name)
        sparams = resolve_params(sspec.params, ref.params, f"strategy {cfg.name}: signal {ref.label}")
        resolved.append((ref, sspec, sparams))
    check_rule_params(spec, cfg.labels, params, owner)
    return spec, params, resolved


# --------------------------------------------------------------------------------------------
# numba helpers for rule modules
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _reentry_latch_kernel(states, exit_mask, entry_mask, entry_max_state, off_exposure, on_exposure):
    n, m = states.shape
    out = np.full(n, np.nan)
    last = np.full(m, -1.0)
    started = False
    invested = True
    for t in range(n):
        exit_edge = False
        opinion = False
        for j in range(m):
            s = states[t, j]
            if s == s:
                opinion = True
                if exit_mask[j] and s == 2.0 and last[j] != 2.0:
                    exit_edge = True
                last[j] = s
        if not started:
            if not opinion:
                continue
            started = True
        if invested:
            if exit_edge:
                invested = False
        elif not exit_edge:
            ok = True
            for j in range(m):
                if entry_mask[j]:
                    s = states[t, j]
                    if not (s == s and s <= entry_max_state):
                        ok = False
                        break
            if ok:
                invested = True
        out[t] = on_exposure if invested else off_exposure
    return out


def reentry_latch(states: np.ndarray, exit_mask: np.ndarray, entry_mask: np.ndarray, entry_max_state: float,
                  off_exposure: float, on_exposure: float) -> np.ndarray:
    """Edge-triggered exit / conditional re-entry latch over a (bars x signals) state array.

    Exit when a signal in ``exit_mask`` turns RISK_OFF (its last known state was not RISK_OFF);
    re-enter when every signal in ``entry_mask`` has a state <= ``entry_max_state`` and no exit
    fires on the bar. NaN before the first bar with an opinion. Used by strategies/reenter_when.py
    (numba's on-disk cache needs an importable module, so kernels live here, not in plug-ins).
    """
    return _reentry_latch_kernel(np.ascontiguousarray(states, dtype="float64"), np.asarray(exit_mask, np.bool_),
                                 np.asarray(entry_mask, np.bool_), float(entry_max_state), float(off_exposure),
                                 float(on_exposure))


def idle_filled(target: np.ndarray, overlays: Overlays) -> np.ndarray:
    """NaN (the rule has no opinion) -> ``idle_exposure`` (what the overlay step's clip does first)."""
    if overlays.idle_exposure == 0.0:
        return target
    return np.where(np.isnan(target), overlays.idle_exposure, target)


# --------------------------------------------------------------------------------------------
# Composition: config -> signals -> rule -> overlays
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrategyRun:
    """One strategy on one asset: exposure decided at bar t (the engine fills it at t+1)."""

    exposure: pd.Series
    states: pd.DataFrame
    readings: pd.DataFrame
    calendar: str
    asset: str = ""
    target: pd.Series | None = None   # the rule's raw target before overlays
    close: pd.Series | None = None    # the asset close the rule saw

    def events(self) -> pd.DataFrame:
        return exposure_events(self.exposure, self.states)


def asset_calendar(asset: str, catalog: Mapping | None = None) -> str:
    """The asset's native catalog calendar ("us" or "utc")."""
    from riskoff.data.catalog import get_spec, load_catalog
    cal = get_spec(asset, catalog if catalog is not None else load_catalog()).calendar
    if cal not in CALENDARS:
        raise ConfigError(f"asset {asset}: calendar {cal!r} cannot be traded; expected 'us' or 'utc'")
    return cal


def _ts(x):
    return None if x is None else pd.Timestamp(x)


def build_exposure(cfg: StrategyConfig, asset: str, *, start=None, end=None, data: DataContext | None = None,
                   data_dir=None, signal_cache: dict | None = None, strategies: StrategyRegistry | None = None,
                   signals=None, catalog: Mapping | None = None) -> StrategyRun:
    """Run one strategy config on one asset between start and end (inclusive).

    ``data`` is the command's data context (data dir, catalog with the run's own ``[series.ID]``
    entries, signal cache); ``data_dir``, ``catalog`` and ``signal_cache`` are the older keywords
    and override it (default: the resolved data dir, data/catalog.toml and a fresh cache).

    The calendar is the asset's native catalog calendar. Signals are computed with
    ``run_signal(spec, params, start=None, end=end, calendar=<asset calendar>)`` over all history
    (so rules and overlays are warmed up before ``start``) and cached in ``signal_cache`` under
    ``(signal name, resolved params, calendar, None, end)``; the result is sliced to start..end.
    """
    from riskoff.data.align import load
    from riskoff.signal import run_signal

    spec, params, resolved = validate_config(cfg, strategies=strategies, signals=signals)
    owner = f"strategy {cfg.name} (rule {cfg.rule})"
    start, end = _ts(start), _ts(end)
    data = DataContext.of(data, data_dir=data_dir, catalog=catalog)
    calendar = asset_calendar(asset, data.catalog)
    col = f"{asset}.close"
    frame = load([asset], None, end, calendar=calendar, data_dir=data.data_dir, catalog=data.catalog,
                 stale="raise" if end is not None else "allow")
    if col not in frame.columns:
        raise ConfigError(f"{owner}: asset {asset} has no close column (columns: {list(frame.columns)})")
    close = frame[col].astype("float64")
    close.name = col
    idx = close.index
    state_cols, reading_cols = {}, {}
    cache = signal_cache if signal_cache is not None else data.cache
    for ref, sspec, sparams in resolved:
        key = (sspec.name, freeze(sparams), calendar, None, end)
        if key not in cache:
            cache[key] = run_signal(sspec, sparams, start=None, end=end, calendar=calendar, data=data)
        out = cache[key]
        state_cols[ref.label] = out["state"].reindex(idx)
        reading_cols[ref.label] = out["reading"].reindex(idx)
    states = pd.DataFrame(state_cols, index=idx, columns=list(cfg.labels), dtype="float64")
    readings = pd.DataFrame(reading_cols, index=idx, columns=list(cfg.labels), dtype="float64")
    ctx = StrategyContext(asset=asset, close=close, states=states, readings=readings, calendar=calendar,
                          periods_per_year=periods_per_year(calendar))
    raw = run_rule(spec, ctx, params, owner=owner)
    exposure = apply_overlays(raw, close, cfg.overlays)
    lo = start if start is not None else idx[0]
    hi = end if end is not None else idx[-1]
    exposure = exposure.loc[lo:hi]
    if exposure.empty:
        raise DataError(f"{owner}: {asset} has no bars between {lo:%Y-%m-%d} and {hi:%Y-%m-%d}", series=asset)
    return StrategyRun(exposure=exposure, states=states.loc[lo:hi], readings=readings.loc[lo:hi],
                       calendar=calendar, asset=asset, target=raw.loc[lo:hi], close=close.loc[lo:hi])


def exposure_events(exposure: pd.Series, states: pd.DataFrame) -> pd.DataFrame:
    """Every exposure change: date, old and new exposure, and every signal's state at that bar.

    The exposure before the first bar is 0 (cash), so an initial entry is an event.
    """
    x = exposure.astype("float64").fillna(0.0)
    prev = x.shift(1, fill_value=0.0)
    changed = ~np.isclose(x.to_numpy(), prev.to_numpy(), rtol=0.0, atol=1e-12)
    dates = x.index[changed]
    st = states.reindex(dates)
    labels = list(states.columns)

    def describe(row) -> str:
        return ", ".join(f"{lab}={STATE_NAMES.get(int(v), str(v)) if pd.notna(v) else 'no-opinion'}"
                         for lab, v in zip(labels, row))

    out = pd.DataFrame({"date": dates, "old": prev.to_numpy()[changed], "new": x.to_numpy()[changed],
                        "states": [describe(r) for r in st.itertuples(index=False)]})
    for lab in labels:
        if lab in out.columns:
            continue
        out[lab] = [STATE_NAMES.get(int(v), str(v)) if pd.notna(v) else "no-opinion" for v in st[lab]]
    return out
