"""The sweep plan (resolved span, segments, walk-forward folds) and the per-asset context every
process builds once (data, engine inputs, baseline, caches)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.data.context import DataContext
from riskoff.engine.metrics import FULL_METRICS, WINDOW_METRICS, block_edges
from riskoff.sweep.config import BASELINE_RULE, SweepConfig
from riskoff.sweep.grid import group_dims, group_product
from riskoff.sweep.kernels import compiled
from riskoff.util.config_helpers import freeze, jsonable
from riskoff.util.errors import ConfigError, RiskoffError


# =============================================================================================
# Plan: the resolved span, segments and walk-forward folds
# =============================================================================================
@dataclass(frozen=True)
class Fold:
    name: str
    train: tuple[pd.Timestamp, pd.Timestamp]
    test: tuple[pd.Timestamp, pd.Timestamp]
    train_windows: tuple[str, ...]
    test_windows: tuple[str, ...]


@dataclass(frozen=True)
class SweepPlan:
    """Everything a worker needs to run chunks (picklable): the config and the resolved span."""

    config: SweepConfig
    end: pd.Timestamp
    end_limited_by: str
    data: DataContext
    folds: tuple[Fold, ...]
    segments: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...]
    token: str

    @property
    def data_dir(self) -> str:
        return str(self.data.data_dir)

    @property
    def window_ids(self) -> tuple[str, ...]:
        return tuple(self.config.windows)


def run_config(cfg: SweepConfig, end: pd.Timestamp | None = None):
    """The sweep's run config with its base strategy as the only strategy (and ``end``, when given):
    what the plan step checks and what a single combination would run as ``riskoff run``."""
    return dataclasses.replace(cfg.run, name=cfg.name, strategies=(cfg.base,), engine="numba",
                               end=end if end is not None else cfg.end)


def _folds(cfg: SweepConfig, end: pd.Timestamp) -> tuple[Fold, ...]:
    wf = cfg.walk_forward
    if wf is None:
        return ()
    one = pd.Timedelta(days=1)

    def inside(a: pd.Timestamp, b: pd.Timestamp) -> tuple[str, ...]:
        return tuple(wid for wid, w in cfg.windows.items() if w.start >= a and w.end <= b)

    if wf.mode == "windows":
        train = (cfg.start, min(wf.fit_end - one, end))
        test = (max(wf.test_start, cfg.start), end)
        if test[0] > end:
            raise ConfigError(f"{cfg.source}: walk_forward.test_start {wf.test_start:%Y-%m-%d} is after the "
                              f"sweep's last bar {end:%Y-%m-%d}")
        return (Fold("wf", train, test, inside(*train), inside(*test)),)
    folds = []
    train_len = pd.Timedelta(days=round(wf.train_years * 365.25))
    test_len = pd.Timedelta(days=round(wf.test_years * 365.25))
    k = 0
    while True:
        train_end = cfg.start + train_len + k * test_len - one
        test_end = min(train_end + test_len, end)
        if train_end + one > end or (test_end - train_end).days < 30:
            break
        train_start = cfg.start if wf.mode == "anchored" else train_end + one - train_len
        folds.append(Fold(f"f{k + 1}", (train_start, train_end), (train_end + one, test_end),
                          inside(train_start, train_end), inside(train_end + one, test_end)))
        k += 1
    if not folds:
        raise ConfigError(f"{cfg.source}: walk_forward: {wf.train_years:g} training years plus a test period do "
                          f"not fit between {cfg.start:%Y-%m-%d} and {end:%Y-%m-%d}")
    return tuple(folds)


def plan_sweep(cfg: SweepConfig, *, data_dir: str | Path | None = None, data: DataContext | None = None
               ) -> SweepPlan:
    """Resolve the span ("auto" end) and check data coverage before any work (``riskoff.run.plan``, as a run)."""
    from riskoff.run.plan import plan_run

    data = data if data is not None else DataContext.create(data_dir, cfg.series)
    data_path = data.data_dir
    run_plan = plan_run(run_config(cfg), data)
    end, limited_by = run_plan.end, run_plan.end_limited_by
    folds = _folds(cfg, end)
    segments = [("full", cfg.start, end)]
    for f in folds:
        segments += [(f"{f.name}_train", *f.train), (f"{f.name}_test", *f.test)]
    token = hashlib.sha256(json.dumps([jsonable(cfg.raw), jsonable(cfg.run.raw), str(end), str(data_path), cfg.source,
                                       jsonable(dataclasses.asdict(cfg.walk_forward)) if cfg.walk_forward
                                       else None], sort_keys=True, default=str).encode()).hexdigest()[:16]
    return SweepPlan(config=cfg, end=end, end_limited_by=limited_by, data=data, folds=folds,
                     segments=tuple(segments), token=token)


# =============================================================================================
# Per-asset context (per process: the local run and every dask worker build their own)
# =============================================================================================
class _LRU:
    """A dict bounded by the total nbytes of its values (numpy arrays or tuples of them)."""

    def __init__(self, max_bytes: float) -> None:
        self.max_bytes = max_bytes
        self.data: OrderedDict = OrderedDict()
        self.bytes = 0

    @staticmethod
    def _size(v: Any) -> int:
        if isinstance(v, tuple):
            return sum(_LRU._size(x) for x in v)
        if isinstance(v, pd.DataFrame):
            return int(v.memory_usage(index=True).sum())
        return int(getattr(v, "nbytes", 64))

    def get(self, key):
        v = self.data.get(key)
        if v is not None:
            self.data.move_to_end(key)
        return v

    def put(self, key, value) -> None:
        if key in self.data:
            return
        self.data[key] = value
        self.bytes += self._size(value)
        while self.bytes > self.max_bytes and len(self.data) > 1:
            _, old = self.data.popitem(last=False)
            self.bytes -= self._size(old)


@dataclass
class _Tables:
    """Per-plan lookup tables: resolved params of every signal/rule/overlay sub-combination."""

    groups: list[tuple[str, str, list[int]]]
    group_sizes: tuple[int, ...]
    signal_params: dict[str, list[dict[str, Any]]]    # label -> resolved params per sub-index
    rule_params: list[dict[str, Any] | None]
    rule_errors: list[str | None]
    ov: np.ndarray            # (n_ov,) records of riskoff.strategies.overlays.overlay_settings_dt
    ov_errors: list[str | None]
    n_ov: int
    max_leverage: float


def _tables(cfg: SweepConfig) -> _Tables:
    from riskoff.strategies.contract import check_rule_params
    from riskoff.strategies.overlays import Overlays, overlay_settings_dt
    from riskoff.util.params import resolve_params

    sig_reg, strat_reg = _registries(cfg.plugin_dirs)
    groups = group_dims(cfg)
    sizes = tuple(math.prod(len(cfg.dims[i]) for i in pos) for _, _, pos in groups)
    signal_params: dict[str, list[dict[str, Any]]] = {}
    for (group, label, pos) in groups:
        if group != "signal":
            continue
        ref = next(r for r in cfg.base.signals if r.label == label)
        spec = sig_reg.get(ref.name)
        signal_params[label] = [resolve_params(spec.params, {**ref.params, **vals}, f"signal {ref.name}")
                                for vals in group_product(cfg, pos)]
    spec = strat_reg.get(cfg.base.rule)
    owner = f"strategy {cfg.base.name} (rule {cfg.base.rule})"
    rule_params, rule_errors = [], []
    for vals in group_product(cfg, groups[-2][2]):
        try:
            p = resolve_params(spec.params, {**cfg.base.params, **vals}, owner)
            check_rule_params(spec, cfg.base.labels, p, owner)
            rule_params.append(p)
            rule_errors.append(None)
        except RiskoffError as exc:
            rule_params.append(None)
            rule_errors.append(str(exc))
    ov_rows, ov_errors = [], []
    base_ov = dataclasses.asdict(cfg.base.overlays)
    for vals in group_product(cfg, groups[-1][2]):
        try:
            ov_rows.append(Overlays(**{**base_ov, **vals}).to_record())
            ov_errors.append(None)
        except RiskoffError as exc:
            ov_rows.append(Overlays().to_record())
            ov_errors.append(str(exc))
    ov = np.rec.array(np.concatenate(ov_rows) if ov_rows else np.empty(0, dtype=overlay_settings_dt))
    valid_ml = [float(r["max_leverage"][0]) for r, e in zip(ov_rows, ov_errors, strict=True) if e is None]
    return _Tables(groups=groups, group_sizes=sizes, signal_params=signal_params, rule_params=rule_params,
                   rule_errors=rule_errors, ov=ov, ov_errors=ov_errors, n_ov=len(ov_rows),
                   max_leverage=max([1.0, *valid_ml]))


_REGISTRIES: dict[tuple[str, ...], tuple[Any, Any]] = {}


def _registries(plugin_dirs: tuple[str, ...]):
    from riskoff.signals.contract import discover as discover_signals
    from riskoff.strategies.contract import (
        default_signals,
        default_strategies,
        discover_strategies,
    )

    if not plugin_dirs:
        return default_signals(), default_strategies()
    if plugin_dirs not in _REGISTRIES:
        dirs = [Path(p) for p in plugin_dirs]
        _REGISTRIES[plugin_dirs] = (discover_signals(dirs), discover_strategies(dirs))
    return _REGISTRIES[plugin_dirs]


@dataclass
class AssetContext:
    asset: str
    calendar: str
    ppy: int
    asset_class: str
    index_full: pd.DatetimeIndex
    close_full: pd.Series
    close_full_v: np.ndarray
    index: pd.DatetimeIndex
    pos: np.ndarray
    first: int
    close_v: np.ndarray
    price_v: np.ndarray
    open_s: pd.Series | None
    close_s: pd.Series
    cash_rate: pd.Series
    costs: Any
    growth: np.ndarray
    fee: float
    slip: float
    floor_frac: float
    segs: np.ndarray
    wins: np.ndarray
    bh_wdd: np.ndarray
    bh_stats: np.ndarray      # (segments, stats)
    bh_win: np.ndarray        # (windows, 4) with bh_return / bh_max_dd
    edges: np.ndarray         # (CSCV_BLOCKS + 1,) block boundaries over the bar returns (PBO)
    tables: _Tables
    sig_cache: _LRU
    raw_cache: _LRU
    raw_errors: dict[int, str] = field(default_factory=dict)
    cache_prevmax: dict[int, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=lambda: {"signals_s": 0.0, "rules_s": 0.0, "kernel_s": 0.0})


_CONTEXTS: OrderedDict = OrderedDict()
_CTX_LOCK = threading.Lock()


def asset_context(plan: SweepPlan, asset: str) -> AssetContext:
    key = (plan.token, asset)
    with _CTX_LOCK:
        ctx = _CONTEXTS.get(key)
        if ctx is None:
            ctx = _build_context(plan, asset)
            _CONTEXTS[key] = ctx
            while len(_CONTEXTS) > 8:
                _CONTEXTS.popitem(last=False)
        return ctx


_SHARED_SIGNALS: OrderedDict = OrderedDict()  # (plan token, calendar) -> _LRU of signal frames


def clear_caches() -> None:
    """Drop every per-process asset context (data, signal and raw-target caches)."""
    with _CTX_LOCK:
        _CONTEXTS.clear()
        _SHARED_SIGNALS.clear()


def _window_rows(plan: SweepPlan, asset: str, index: pd.DatetimeIndex) -> np.ndarray:
    dates = index.to_numpy()
    rows = []
    for w in plan.config.windows.values():
        covered = len(index) > 0 and index[0] <= w.start and index[-1] >= w.end
        r0 = int(np.searchsorted(dates, w.start.to_datetime64(), side="right")) - 1
        d0 = int(np.searchsorted(dates, w.start.to_datetime64(), side="left"))
        e = int(np.searchsorted(dates, w.end.to_datetime64(), side="right")) - 1
        tr = int(np.searchsorted(dates, w.trough_for(asset).to_datetime64(), side="right")) - 1
        rows.append((int(covered), r0, d0, e, tr))
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _segment_rows(plan: SweepPlan, index: pd.DatetimeIndex) -> np.ndarray:
    dates = index.to_numpy()
    rows = []
    for _, a, b in plan.segments:
        i = int(np.searchsorted(dates, a.to_datetime64(), side="left"))
        j = int(np.searchsorted(dates, b.to_datetime64(), side="right")) - 1
        rows.append((i, j) if j > i else (-1, -1))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _engine_inputs(close: pd.Series, *, open, cash_rate, costs, fill, max_leverage):
    from riskoff.engine.account import single_inputs
    return single_inputs(close, pd.Series(0.0, index=close.index), open=open, cash_rate=cash_rate, costs=costs,
                          fill=fill, rebalance=None, rebalance_band=0.05, rebalance_every=0,
                          max_leverage=max_leverage, init_cash=1.0)


def _build_context(plan: SweepPlan, asset: str) -> AssetContext:
    from riskoff.data.align import load
    from riskoff.engine.account import simulate
    from riskoff.engine.annualisation import periods_per_year
    from riskoff.engine.cash import money_market_rate
    from riskoff.strategies.config import StrategyConfig
    from riskoff.strategies.exposure import asset_calendar, build_exposure

    compiled()
    cfg = plan.config
    data = plan.data
    catalog = data.catalog
    spec = catalog[asset]
    calendar = asset_calendar(asset, catalog)
    full = load([asset], None, plan.end, calendar=calendar, data_dir=data.data_dir, catalog=catalog, stale="raise")
    col = f"{asset}.close"
    close_full = full[col].astype("float64")
    close_full.name = col
    frame = load([asset], cfg.start, plan.end, calendar=spec.calendar, data_dir=data.data_dir, catalog=catalog,
                 stale="raise")
    close = frame[col]
    opens = frame.get(f"{asset}.open") if cfg.fill == "next_open" else None
    index = close.index
    idx_full = close_full.index
    lo = idx_full.searchsorted(cfg.start, side="left")
    hi = idx_full.searchsorted(plan.end, side="right")
    in_span = idx_full[lo:hi]
    pos = in_span.get_indexer(index)
    pos = np.where(pos >= 0, pos + lo, -1).astype(np.int64)
    cash_rate = money_market_rate(index, spec.calendar, data=data, source=cfg.cash)
    costs = cfg.costs.get(spec.asset_class, cfg.costs.get("equity"))
    tables = _tables(cfg)
    inp = _engine_inputs(close, open=opens, cash_rate=cash_rate, costs=costs, fill=cfg.fill,
                         max_leverage=tables.max_leverage)
    ppy = periods_per_year(calendar)
    segs = _segment_rows(plan, index)
    wins = _window_rows(plan, asset, index)
    # buy & hold through the normal path (the runner's baseline)
    sig_reg, strat_reg = _registries(cfg.plugin_dirs)
    bh_run = build_exposure(StrategyConfig(BASELINE_RULE, BASELINE_RULE), asset, start=cfg.start, end=plan.end,
                            data=data, strategies=strat_reg, signals=sig_reg)
    bh = simulate(close, bh_run.exposure.reindex(index), open=opens, cash_rate=cash_rate, costs=costs,
                  fill=cfg.fill, engine="numba")
    bh_eq = np.ascontiguousarray(bh.equity.iloc[:, 0].to_numpy(dtype=float))
    bh_w = np.ascontiguousarray(bh.exposure.iloc[:, 0].to_numpy(dtype=float))
    bh_fl = np.zeros(len(index), dtype=np.int64)
    if len(bh.orders):
        bh_fl[index.get_indexer(pd.DatetimeIndex(bh.orders["date"]))] = 1
    nw = len(wins)
    bh_stats = np.empty((len(segs), len(FULL_METRICS)))
    bh_win = np.empty((nw, len(WINDOW_METRICS)))
    edges = block_edges(max(len(index) - 1, 0))
    compiled().metrics(bh_eq, np.nan_to_num(bh_w * bh_eq), bh_fl, np.ascontiguousarray(inp.growth), np.empty(len(index)),
                       float(ppy), segs, wins, np.zeros(nw), edges, bh_stats, bh_win, np.empty((2, len(edges) - 1)))
    budget = cfg.memory_mb * 2**20
    return AssetContext(
        asset=asset, calendar=calendar, ppy=ppy, asset_class=spec.asset_class, index_full=idx_full,
        close_full=close_full, close_full_v=np.ascontiguousarray(close_full.to_numpy(dtype=float)),
        index=index, pos=pos, first=int(pos[pos >= 0].min()) if (pos >= 0).any() else 0,
        close_v=np.ascontiguousarray(inp.close[:, 0]), price_v=np.ascontiguousarray(inp.price[:, 0]),
        open_s=opens, close_s=close, cash_rate=cash_rate, costs=costs, growth=np.ascontiguousarray(inp.growth),
        fee=float(inp.fee[0]), slip=float(inp.slip[0]), floor_frac=1.0 - tables.max_leverage, segs=segs,
        wins=wins, bh_wdd=np.ascontiguousarray(bh_win[:, 1]), bh_stats=bh_stats, bh_win=bh_win, edges=edges,
        tables=tables,
        sig_cache=_LRU(budget / 4), raw_cache=_LRU(budget / 4))


def _signal_frame(plan: SweepPlan, ctx: AssetContext, label: str, sub: int) -> tuple[np.ndarray, np.ndarray]:
    from riskoff.signals.evaluate import run_signal

    cfg = plan.config
    ref = next(r for r in cfg.base.signals if r.label == label)
    params = ctx.tables.signal_params[label][sub]
    key = (ref.name, freeze(params))
    hit = ctx.sig_cache.get(key)
    if hit is not None:
        return hit
    sig_reg, _ = _registries(cfg.plugin_dirs)
    t0 = time.perf_counter()
    # shared by the assets on the same calendar (the signal does not depend on the asset)
    shared = _SHARED_SIGNALS.get((plan.token, ctx.calendar))
    if shared is None:
        shared = _SHARED_SIGNALS[(plan.token, ctx.calendar)] = _LRU(cfg.memory_mb * 2**20 / 4)
        while len(_SHARED_SIGNALS) > 4:
            _SHARED_SIGNALS.popitem(last=False)
    out = shared.get(key)
    if out is None:
        out = run_signal(sig_reg.get(ref.name), params, start=None, end=plan.end, calendar=ctx.calendar,
                         data=plan.data)[["state", "reading"]]
        shared.put(key, out)
    val = (np.ascontiguousarray(out["state"].reindex(ctx.index_full).to_numpy(dtype=float)),
           np.ascontiguousarray(out["reading"].reindex(ctx.index_full).to_numpy(dtype=float)))
    ctx.timings["signals_s"] += time.perf_counter() - t0
    ctx.sig_cache.put(key, val)
    return val


def _run_rule_checked(spec, sctx, params: Mapping[str, Any], owner: str, time_limit: float) -> np.ndarray:
    """``riskoff.strategies.contract.run_rule`` on params already resolved and checked (see ``_tables``), with
    the same output checks done on numpy arrays (the pandas ones cost as much as a simple rule). The call
    goes through ``call_plugin`` as in a run: the run's ``plugin_time_limit``, and a failure, a
    ``sys.exit`` or a self-raised KeyboardInterrupt in the rule is a PluginError naming its file."""
    from riskoff.strategies.contract import target_values
    from riskoff.util.plugins import call_plugin, plugin_time_limit

    with plugin_time_limit(time_limit):
        out = call_plugin(owner, spec.origin, spec.target, sctx, **params)
    return target_values(spec, out, sctx.close.index, owner)


def raw_target(plan: SweepPlan, ctx: AssetContext, rid: int) -> np.ndarray | None:
    """The rule's raw target (full history) of raw key ``rid`` (signal sub-indices x rule sub-index)."""
    from riskoff.strategies.contract import StrategyContext
    from riskoff.strategies.exposure import idle_filled

    hit = ctx.raw_cache.get(rid)
    if hit is not None:
        return hit
    if rid in ctx.raw_errors:
        return None
    t = ctx.tables
    cfg = plan.config
    subs = np.unravel_index(rid, t.group_sizes[:-1]) if len(t.group_sizes) > 1 else ()
    rule_sub = int(subs[-1])
    if t.rule_params[rule_sub] is None:
        ctx.raw_errors[rid] = t.rule_errors[rule_sub] or "rejected"
        return None
    try:
        states, readings = {}, {}
        for (group, label, _), sub in zip(t.groups[:-1], subs, strict=True):  # signals + rule
            if group != "signal":
                continue
            states[label], readings[label] = _signal_frame(plan, ctx, label, int(sub))
        t0 = time.perf_counter()
        labels = list(cfg.base.labels)
        st = pd.DataFrame({lab: states[lab] for lab in labels}, index=ctx.index_full, columns=labels,
                          dtype="float64")
        rd = pd.DataFrame({lab: readings[lab] for lab in labels}, index=ctx.index_full, columns=labels,
                          dtype="float64")
        sctx = StrategyContext(asset=ctx.asset, close=ctx.close_full, states=st, readings=rd,
                               calendar=ctx.calendar, periods_per_year=ctx.ppy)
        _, strat_reg = _registries(cfg.plugin_dirs)
        val = idle_filled(_run_rule_checked(strat_reg.get(cfg.base.rule), sctx, t.rule_params[rule_sub],
                                            f"strategy {cfg.base.name} (rule {cfg.base.rule})",
                                            cfg.run.plugin_time_limit),
                          cfg.base.overlays)
        ctx.timings["rules_s"] += time.perf_counter() - t0
    except RiskoffError as exc:
        ctx.raw_errors[rid] = str(exc)
        return None
    ctx.raw_cache.put(rid, val)
    return val


