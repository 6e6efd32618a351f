"""Parameter sweeps: one base strategy over a grid of signal, rule and overlay parameters.

    riskoff sweep backtests/sweep_vix.toml [--walk-forward] [--backend dask [--scheduler ADDR]]

Config (TOML; see ``backtests/sweep_vix.toml``)::

    [sweep]
    name = "vix_thresholds"
    assets = ["SPY", "QQQ", "BTC-USD"]
    start = 2015-01-01
    end = "auto"                 # or a date; "auto" = last date every required series covers
    metric = "calmar"            # what results are ranked by (any column below, e.g. "dd_avoided_mean")
    fill = "next_close"          # as in a run config
    cash = "money_market"
    heatmap = ["signal.vix_mean_reversion.entry_z", "signal.vix_mean_reversion.exit_z"]
    window_metric = "drawdown_avoided"   # what the per-window heatmaps show
    stability_penalty = 1.0      # lambda of the stability score (below)
    memory_mb = 512              # memory budget of one chunk; chunk_size = 0 -> derived from it
    kernel = "fused"             # "fused" (default), "numba" (riskoff.engine.simulate) or "vectorbt"

    [strategy]                   # the base strategy: the same table as one [[strategies]] entry
    name = "vix"
    rule = "any_off"
    signals = ["vix_mean_reversion"]
    overlays = { min_bars_out = 2 }

    [grid]                       # every key is swept; the Cartesian product is the set of combinations
    "signal.vix_mean_reversion.entry_z" = { start = 1.5, stop = 3.0, step = 0.25 }   # stop inclusive
    "signal.vix_mean_reversion.exit_z" = [0.0, 0.5, 1.0]
    "rule.caution_is_off" = [false, true]
    "overlays.min_bars_out" = [0, 5, 10]

    [walk_forward]               # optional (or --walk-forward for the defaults); see below
    [costs.crypto]               # as in a run config
    [windows.my_window]          # extra sell-off windows, as in a run config

Grid keys: ``signal.<label>.<param>`` (a signal of the base strategy, by its label),
``rule.<param>`` (a parameter of the base rule) and ``overlays.<field>`` (hysteresis,
min_bars_out, cooldown_bars, trailing_stop, stop_reentry_bars, max_leverage). Names and every
value are checked against the declared :class:`riskoff.Param` (type and range) before any data is
loaded; a misspelt name is a ConfigError with a did-you-mean. Values are a list, a single value or
a range table ``{ start, stop, step }`` (stop inclusive; whole numbers for integer parameters).
Constraints between parameters (a rule's ``check``, ``exit_z < entry_z`` in a signal, hysteresis
below max_leverage) are checked per combination: a value that no combination can use is a
ConfigError; other rejected combinations are left out and listed in ``skipped.csv``.

Combinations are numbered in a fixed order: the dims of each signal (in the base strategy's
signal order), then the rule's, then the overlays' (each group in config order), the last one
varying fastest. Each distinct signal parameter set is computed once per decision calendar (the
assets on US days share it; cached), each distinct (signal sets, rule params) raw target once per
asset; overlays, simulation and metrics are numba.

Kernels. ``fused`` (default) runs, per combination and in parallel over combinations, the
overlays, the single-asset account simulation and the metrics in one pass with per-column
scratch buffers: no (bars x combinations) matrix is ever built. It re-implements
``riskoff.engine._simulate_kernel`` for one asset per account, and tests/sweep checks it against
``riskoff.engine.simulate`` (numba and vectorbt engines) and against ``build_exposure`` +
``simulate`` + ``riskoff.evaluation`` one combination at a time, to 1e-9. ``numba`` and
``vectorbt`` build the exposure matrix of a chunk, simulate the chunk in one
``riskoff.engine.simulate`` call and run the numba metrics pass over its equity matrix (slower;
the cross-checks).

Memory. Combinations run in chunks of ``chunk_size`` columns, by default
``memory_mb * 2**20 // (bars x 8 bytes x arrays)``, with ``bars`` the longest full history of an
asset and ``arrays`` = 2 for the fused kernel (raw targets + outputs) or 8 for the engine
kernels (exposure, target copy, equity, weight, fills, returns, frames). The signal and raw-target
caches are LRU caches bounded by a quarter of the budget each. Results grow with the number of
combinations only (one row of floats per combination x asset).

Metrics (the definitions of ``riskoff.evaluation``; annualised with 365 bars a year for crypto on
the UTC calendar, 252 for US assets; zero risk-free rate because cash already earns the
money-market rate inside the equity curve):
    total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar, time_in_market as in
    ``evaluation.full_period_stats`` (quantstats formulas); ``trades`` = number of fills.
    ``w.<window>.strategy_return``, ``.strategy_max_dd``, ``.drawdown_avoided`` (strategy_max_dd
    - buy & hold max_dd, positive = protection), ``.exposure_at_trough`` as in
    ``evaluation.window_metrics``, for every window of the catalog the asset's run covers
    (NaN otherwise); ``dd_avoided_mean`` = their mean; ``windows_covered`` = how many.
    Buy & hold is the ``buy_and_hold`` rule through the normal path, same costs and cash.

Outputs (one folder, written atomically: temp folder + rename, nothing left on failure):
    results.parquet / results.csv  one row per combination x asset ("wide" layout): ``combo``,
        ``asset``, one column per grid key, the full-period metrics, the window metrics as
        ``w.<window>.<metric>`` columns, period metrics of the walk-forward folds as
        ``p.<segment>.<metric>``, ``stability`` and ``rank`` (1 = best ``metric`` per asset).
    baseline.csv    buy & hold per asset: the same metrics.
    skipped.csv     rejected combinations with the reason (only when there are some).
    walkforward.csv the walk-forward folds (when enabled).
    sweep.html      self-contained report: top combinations, heatmaps of ``metric`` and of the
        stability score over the two ``heatmap`` parameters (full period) and of
        ``window_metric`` per window, the walk-forward table. Heatmaps are slices through the
        best combination (the other grid parameters fixed at its values).
    summary.json    config, span, timings, chunking, counts, the best combination per asset.

Stability score (per asset, of the ranking metric m; a minimised metric is negated first): for
each combination, its neighbourhood is every combination whose index differs by at most one step
in every grid dimension (itself included: 3^d cells inside the grid). ``stability = mean(m over
the neighbourhood) - stability_penalty x sd(m over the neighbourhood)`` (population sd, skipped
neighbours ignored). A broad plateau keeps its level; an isolated peak is pulled down by its
lower neighbours and by their dispersion.

Walk-forward ``[walk_forward]``: parameters are chosen on in-sample data only and evaluated on the
held-out data; the in-sample objective minus the out-of-sample one is the degradation.
    mode = "windows" (default): one fold. In-sample: the sell-off windows that end before
        ``fit_end`` (default 2024-01-01) and the period start .. fit_end; out-of-sample: the
        windows that start on or after ``test_start`` (default 2025-01-01) and test_start .. end.
    mode = "anchored" | "rolling": folds of ``train_years`` (default 4) then ``test_years``
        (default 1), stepping by test_years; anchored folds always train from ``start``.
    objective = "dd_avoided_cost" (default): mean drawdown_avoided over the segment's windows
        (0 when it has none) minus ``cost_weight`` (default 1) x max(0, buy & hold CAGR - strategy
        CAGR) over the segment. Drawdown avoided alone is maximised by sitting in cash; the
        penalty charges the return given up for it. Any metric name (sharpe, calmar ...) can
        be used instead (a segment metric; volatility and trades are minimised).
    select = "objective" (default: the best in-sample objective) or "stability" (the best
        stability score of the in-sample objective over the grid: prefers plateaus).
Ties go to the lowest combination number. ``walkforward.csv`` has one row per fold x asset.

Backends: ``local`` runs the chunks in this process; ``dask`` sends them to a dask.distributed
cluster (``--scheduler ADDRESS``, or a LocalCluster started for the run) with ``Client.map``;
the plan is scattered once, every worker loads the data from the same data dir (it must be
reachable from the workers) and keeps per-process caches; results are merged in combination
order, identical to the local backend.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import html
import itertools
import json
import math
import os
import platform
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff import run_folder
from riskoff.errors import ConfigError, RiskoffError, did_you_mean
from riskoff.metrics import FULL_METRICS, WINDOW_METRICS

__all__ = ["SweepConfig", "GridDim", "WalkForwardSpec", "SweepPlan", "SweepResult", "load_sweep_config",
           "parse_sweep_config", "plan_sweep", "run_sweep", "write_sweep", "combo_params", "combo_strategy",
           "stability_scores", "walk_forward", "sweep_equity", "cmd_sweep", "add_sweep_parser",
           "FULL_METRICS", "WINDOW_METRICS", "chunk_size_for"]

TOP_KEYS = ("sweep", "strategy", "grid", "walk_forward", "costs", "windows")
SWEEP_KEYS = ("name", "assets", "start", "end", "metric", "fill", "cash", "heatmap", "window_metric",
              "stability_penalty", "memory_mb", "chunk_size", "kernel", "plugin_dirs", "top", "max_combinations")
WF_KEYS = ("mode", "fit_end", "test_start", "train_years", "test_years", "objective", "cost_weight", "select")
GRID_PREFIXES = ("signal", "rule", "overlays")
KERNELS = ("fused", "numba", "vectorbt")
BACKENDS = ("local", "dask")
MINIMISED = frozenset({"volatility", "trades"})
ARRAYS_PER_COLUMN = {"fused": 2, "numba": 8, "vectorbt": 8}
DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_COMBINATIONS = 5_000_000
MAX_RANGE_VALUES = 1_000_000
OBJECTIVE_DD = "dd_avoided_cost"
BASELINE_RULE = "buy_and_hold"


# =============================================================================================
# Config
# =============================================================================================
@dataclass(frozen=True)
class GridDim:
    """One swept parameter: ``key`` as written in [grid], its group and the values in order."""

    key: str
    group: str          # "signal", "rule" or "overlays"
    label: str          # signal label (group "signal"), else ""
    param: str
    values: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class WalkForwardSpec:
    mode: str = "windows"
    fit_end: pd.Timestamp = pd.Timestamp("2024-01-01")
    test_start: pd.Timestamp = pd.Timestamp("2025-01-01")
    train_years: float = 4.0
    test_years: float = 1.0
    objective: str = OBJECTIVE_DD
    cost_weight: float = 1.0
    select: str = "objective"


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep config (see the module docstring); ``dims`` are in combination order."""

    name: str
    source: str
    base: Any                      # riskoff.strategy.StrategyConfig
    dims: tuple[GridDim, ...]
    assets: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp | None
    metric: str = "calmar"
    fill: str = "next_close"
    cash: str = "money_market"
    costs: Mapping[str, Any] = field(default_factory=dict)
    windows: Mapping[str, Any] = field(default_factory=dict)
    heatmap: tuple[str, ...] = ()
    window_metric: str = "drawdown_avoided"
    stability_penalty: float = 1.0
    memory_mb: float = DEFAULT_MEMORY_MB
    chunk_size: int = 0
    kernel: str = "fused"
    plugin_dirs: tuple[str, ...] = ()
    top: int = 20
    walk_forward: WalkForwardSpec | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(d) for d in self.dims)

    @property
    def n_combos(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.dims else 1

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dims)

    def with_walk_forward(self, spec: WalkForwardSpec | None = None) -> "SweepConfig":
        return dataclasses.replace(self, walk_forward=spec or self.walk_forward or WalkForwardSpec())


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime, pd.Timestamp)):
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _unknown(table: Mapping, allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{key}'{did_you_mean(str(key), allowed)}; "
                              f"expected one of: {', '.join(allowed)}")


def _date(value: Any, where: str) -> pd.Timestamp:
    if isinstance(value, (dt.date, dt.datetime)):
        return pd.Timestamp(value).normalize()
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(value)[:10]))
    except ValueError:
        raise ConfigError(f"{where} = {value!r}: expected a date YYYY-MM-DD") from None


def _number(value: Any, where: str, *, low: float | None = None, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r}: expected a number")
    if integer and not float(value).is_integer():
        raise ConfigError(f"{where} = {value!r}: expected a whole number")
    if low is not None and value < low:
        raise ConfigError(f"{where} = {value!r}: expected a number >= {low:g}")
    return int(value) if integer else float(value)


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Parse and validate a sweep config file; every problem is a ConfigError naming file and key."""
    from riskoff.tomlfile import read_toml
    return parse_sweep_config(read_toml(path, "sweep config file"), str(path))


def _param_values(p: Any, raw: Any, where: str, owner: str) -> list[Any]:
    """A [grid] value for a declared Param, expanded and validated against its range."""
    integer = isinstance(p.default, int) and not isinstance(p.default, bool) and p.choices is None
    return [p.validate(_freeze_value(v) if isinstance(p.default, tuple) else v, owner)
            for v in _expand(raw, where, integer)]


def _expand(raw: Any, where: str, integer: bool) -> list[Any]:
    """A [grid] value: a list, a scalar or a range table {start, stop, step} (stop inclusive)."""
    if isinstance(raw, Mapping):
        _unknown(raw, ("start", "stop", "step"), where)
        for k in ("start", "stop", "step"):
            if k not in raw:
                raise ConfigError(f"{where}: a range needs start, stop and step; '{k}' is missing")
        start = _number(raw["start"], f"{where}.start", integer=integer)
        stop = _number(raw["stop"], f"{where}.stop", integer=integer)
        step = _number(raw["step"], f"{where}.step", integer=integer)
        if not step > 0:
            raise ConfigError(f"{where}.step = {step!r}: expected a number > 0")
        if stop < start:
            raise ConfigError(f"{where}: stop {stop!r} is below start {start!r}")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        if n > MAX_RANGE_VALUES:
            raise ConfigError(f"{where}: the range has {n:,} values; at most {MAX_RANGE_VALUES:,} per key")
        if integer:
            return [int(start + i * step) for i in range(n)]
        return [float(round(start + i * step, 12)) for i in range(n)]
    if isinstance(raw, list):
        if not raw:
            raise ConfigError(f"{where} = []: expected at least one value")
        return list(raw)
    return [raw]


def _freeze_value(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze_value(x) for x in v)
    if isinstance(v, Mapping):
        return tuple(sorted((str(k), _freeze_value(x)) for k, x in v.items()))
    return v


def _parse_grid(table: Any, base, sig_registry, strat_registry, where: str) -> tuple[GridDim, ...]:
    from riskoff.overlays import Overlays, overlay_fields as overlay_types

    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{where}: [grid] is missing or empty; add at least one key such as "
                          "\"rule.window\" = [100, 200] (see riskoff/sweep.py)")
    rule_spec = strat_registry.get(base.rule)
    rule_params = {p.name: p for p in rule_spec.params}
    labels = {ref.label: ref for ref in base.signals}
    # idle_exposure fills the rule's raw targets once per sweep (see _raw_target), so it is not a grid axis
    overlay_fields = tuple(f.name for f in dataclasses.fields(Overlays) if f.name != "idle_exposure")
    dims: dict[str, GridDim] = {}
    for key, raw in table.items():
        w = f'{where}: [grid] "{key}"'
        prefix, _, rest = str(key).partition(".")
        if prefix not in GRID_PREFIXES or not rest:
            raise ConfigError(f"{w}: expected signal.<label>.<param>, rule.<param> or overlays.<field>"
                              f"{did_you_mean(prefix, GRID_PREFIXES)}")
        label = ""
        if prefix == "signal":
            label, _, param = rest.rpartition(".")
            if not label:
                raise ConfigError(f"{w}: expected signal.<label>.<param> (the base strategy's signals: "
                                  f"{', '.join(labels) or 'none'})")
            if label not in labels:
                raise ConfigError(f"{w}: the base strategy has no signal labelled '{label}'"
                                  f"{did_you_mean(label, labels)}; its signals: {', '.join(labels) or 'none'}")
            sspec = sig_registry.get(labels[label].name)
            declared = {p.name: p for p in sspec.params}
            if param not in declared:
                raise ConfigError(f"{w}: signal {sspec.name} declares no parameter '{param}'"
                                  f"{did_you_mean(param, declared)}; declared: {', '.join(declared) or 'none'}")
            values = _param_values(declared[param], raw, w, f"{w}: signal {sspec.name}")
        elif prefix == "rule":
            param = rest
            if param not in rule_params:
                raise ConfigError(f"{w}: rule {base.rule} declares no parameter '{param}'"
                                  f"{did_you_mean(param, rule_params)}; declared: "
                                  f"{', '.join(rule_params) or 'none'}")
            values = _param_values(rule_params[param], raw, w, f"{w}: rule {base.rule}")
        else:
            param = rest
            if param not in overlay_fields:
                raise ConfigError(f"{w}: no overlay '{param}'{did_you_mean(param, overlay_fields)}; "
                                  f"overlays: {', '.join(overlay_fields)}")
            values = _expand(raw, w, overlay_types()[param] is int)
            for v in values:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"{w} value {v!r}: expected a number")
        frozen = [_freeze_value(v) for v in values]
        dupes = sorted({repr(v) for v in frozen if frozen.count(v) > 1})
        if dupes:
            raise ConfigError(f"{w}: value(s) {', '.join(dupes)} appear twice")
        dims[str(key)] = GridDim(key=str(key), group=prefix, label=label, param=param, values=tuple(values))
    # canonical order: signals in the base strategy's order, then the rule, then the overlays
    order = [(0, list(labels).index(d.label)) if d.group == "signal" else (1 if d.group == "rule" else 2, 0)
             for d in dims.values()]
    ranked = sorted(range(len(dims)), key=lambda i: (order[i], i))
    return tuple(list(dims.values())[i] for i in ranked)


def _parse_walk_forward(table: Any, where: str) -> WalkForwardSpec:
    if table is True or table is None:
        return WalkForwardSpec()
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [walk_forward] must be a table")
    _unknown(table, WF_KEYS, f"{where}: [walk_forward]")
    kw: dict[str, Any] = {}
    mode = table.get("mode", "windows")
    if mode not in ("windows", "anchored", "rolling"):
        raise ConfigError(f"{where}: walk_forward.mode = {mode!r}; expected 'windows', 'anchored' or 'rolling'")
    kw["mode"] = mode
    for k in ("fit_end", "test_start"):
        if k in table:
            kw[k] = _date(table[k], f"{where}: walk_forward.{k}")
    for k in ("train_years", "test_years"):
        if k in table:
            kw[k] = _number(table[k], f"{where}: walk_forward.{k}", low=0.1)
    if "cost_weight" in table:
        kw["cost_weight"] = _number(table["cost_weight"], f"{where}: walk_forward.cost_weight", low=0.0)
    obj = table.get("objective", OBJECTIVE_DD)
    allowed = (OBJECTIVE_DD, *FULL_METRICS)
    if obj not in allowed:
        raise ConfigError(f"{where}: walk_forward.objective = {obj!r}{did_you_mean(str(obj), allowed)}; "
                          f"expected one of {', '.join(allowed)}")
    kw["objective"] = obj
    sel = table.get("select", "objective")
    if sel not in ("objective", "stability"):
        raise ConfigError(f"{where}: walk_forward.select = {sel!r}; expected 'objective' or 'stability'")
    kw["select"] = sel
    spec = WalkForwardSpec(**kw)
    if spec.mode == "windows" and spec.test_start < spec.fit_end:
        raise ConfigError(f"{where}: walk_forward.test_start {spec.test_start:%Y-%m-%d} is before fit_end "
                          f"{spec.fit_end:%Y-%m-%d}; the held-out data must come after the fitted data")
    return spec


def rankable_metrics(windows: Mapping[str, Any]) -> tuple[str, ...]:
    return (*FULL_METRICS, "dd_avoided_mean",
            *(f"w.{wid}.{m}" for wid in windows for m in WINDOW_METRICS))


def parse_sweep_config(doc: Mapping[str, Any], source: str) -> SweepConfig:
    """Validate a parsed sweep TOML document (see the module docstring)."""
    from riskoff.config import CASH_SOURCES, FILLS, check_assets, check_choice, parse_costs
    from riskoff.data.catalog import load_catalog
    from riskoff.signal import discover as discover_signals
    from riskoff.strategy import discover_strategies, strategy_from_toml
    from riskoff.windows import load_windows

    _unknown(doc, TOP_KEYS, source)
    sw = doc.get("sweep", {})
    if not isinstance(sw, Mapping):
        raise ConfigError(f"{source}: [sweep] must be a table")
    _unknown(sw, SWEEP_KEYS, f"{source}: [sweep]")
    if "strategy" not in doc:
        raise ConfigError(f"{source}: missing [strategy] (the base strategy: name, rule, signals, params, overlays)")
    plugin_dirs = tuple(str(p) for p in sw.get("plugin_dirs", ()))
    sig_registry = discover_signals([Path(p) for p in plugin_dirs])
    strat_registry = discover_strategies([Path(p) for p in plugin_dirs])
    base = strategy_from_toml(doc["strategy"], f"{source}: [strategy]", strategies=strat_registry,
                              signals=sig_registry)
    name = str(sw.get("name", base.name))
    start = _date(sw.get("start", "2015-01-01"), f"{source}: sweep.start")
    end_raw = sw.get("end", "auto")
    end = None if end_raw == "auto" else _date(end_raw, f"{source}: sweep.end")
    if end is not None and end <= start:
        raise ConfigError(f"{source}: sweep.end {end:%Y-%m-%d} is not after sweep.start {start:%Y-%m-%d}")
    assets = check_assets(sw.get("assets", list(base.assets)), load_catalog(), f"{source}: sweep.assets")
    fill = check_choice(sw.get("fill", "next_close"), FILLS, f"{source}: sweep.fill")
    cash = check_choice(sw.get("cash", "money_market"), CASH_SOURCES, f"{source}: sweep.cash")
    kernel = check_choice(sw.get("kernel", "fused"), KERNELS, f"{source}: sweep.kernel")
    costs = parse_costs(doc, source)
    windows = load_windows(extra={"windows": doc["windows"]} if "windows" in doc else None)

    dims = _parse_grid(doc.get("grid"), base, sig_registry, strat_registry, source)
    n = int(np.prod([len(d) for d in dims], dtype=np.int64))
    max_c = int(_number(sw.get("max_combinations", DEFAULT_MAX_COMBINATIONS), f"{source}: sweep.max_combinations",
                        low=1, integer=True))
    if n > max_c:
        raise ConfigError(f"{source}: the grid has {n:,} combinations, above sweep.max_combinations = {max_c:,}; "
                          "narrow the grid or raise the limit")
    metrics = rankable_metrics(windows)
    metric = sw.get("metric", "calmar")
    if metric not in metrics:
        raise ConfigError(f"{source}: sweep.metric = {metric!r}{did_you_mean(str(metric), metrics)}; expected "
                          f"one of {', '.join(FULL_METRICS)}, dd_avoided_mean or w.<window>.<metric>")
    wm = sw.get("window_metric", "drawdown_avoided")
    if wm not in WINDOW_METRICS:
        raise ConfigError(f"{source}: sweep.window_metric = {wm!r}{did_you_mean(str(wm), WINDOW_METRICS)}; "
                          f"expected one of {', '.join(WINDOW_METRICS)}")
    keys = [d.key for d in dims]
    heat = sw.get("heatmap", keys[:2])
    if isinstance(heat, str):
        heat = [heat]
    if not isinstance(heat, list) or not 1 <= len(heat) <= 2:
        raise ConfigError(f"{source}: sweep.heatmap = {heat!r}; expected one or two [grid] keys")
    for h in heat:
        if h not in keys:
            raise ConfigError(f"{source}: sweep.heatmap names '{h}', which is not a [grid] key"
                              f"{did_you_mean(str(h), keys)}; grid keys: {', '.join(keys)}")
    if len(heat) == 2 and heat[0] == heat[1]:
        raise ConfigError(f"{source}: sweep.heatmap names '{heat[0]}' twice")
    wf = _parse_walk_forward(doc["walk_forward"], source) if "walk_forward" in doc else None
    _check_groups(dims, base, sig_registry, strat_registry, source)
    return SweepConfig(
        name=name, source=source, base=base, dims=dims, assets=tuple(assets), start=start, end=end,
        metric=metric, fill=fill, cash=cash, costs=costs, windows=windows, heatmap=tuple(heat),
        window_metric=wm,
        stability_penalty=_number(sw.get("stability_penalty", 1.0), f"{source}: sweep.stability_penalty", low=0.0),
        memory_mb=_number(sw.get("memory_mb", DEFAULT_MEMORY_MB), f"{source}: sweep.memory_mb", low=1.0),
        chunk_size=int(_number(sw.get("chunk_size", 0), f"{source}: sweep.chunk_size", low=0, integer=True)),
        kernel=kernel, plugin_dirs=plugin_dirs,
        top=int(_number(sw.get("top", 20), f"{source}: sweep.top", low=1, integer=True)),
        walk_forward=wf, raw=doc)


# =============================================================================================
# Combinations
# =============================================================================================
def _group_dims(cfg: SweepConfig) -> list[tuple[str, str, list[int]]]:
    """[(group, label, [dim positions])] in combination order: each signal label, the rule, overlays."""
    out: list[tuple[str, str, list[int]]] = []
    for ref in cfg.base.signals:
        out.append(("signal", ref.label, [i for i, d in enumerate(cfg.dims) if d.group == "signal"
                                          and d.label == ref.label]))
    out.append(("rule", "", [i for i, d in enumerate(cfg.dims) if d.group == "rule"]))
    out.append(("overlays", "", [i for i, d in enumerate(cfg.dims) if d.group == "overlays"]))
    return out


def combo_indices(cfg: SweepConfig, combos: np.ndarray) -> np.ndarray:
    """(len(combos), n_dims) value positions of each combination."""
    combos = np.asarray(combos, dtype=np.int64)
    if not cfg.dims:
        return np.zeros((len(combos), 0), dtype=np.int64)
    return np.stack(np.unravel_index(combos, cfg.shape), axis=1).astype(np.int64)


def combo_params(cfg: SweepConfig, combo: int) -> dict[str, Any]:
    """{grid key: value} of one combination."""
    if not 0 <= combo < cfg.n_combos:
        raise IndexError(f"combination {combo} out of range 0 .. {cfg.n_combos - 1}")
    idx = combo_indices(cfg, np.array([combo]))[0]
    return {d.key: d.values[i] for d, i in zip(cfg.dims, idx, strict=True)}


def _apply(cfg: SweepConfig, values: Mapping[str, Any], name: str):
    """The base strategy with grid values applied (no validation)."""
    from riskoff.strategy import Overlays, SignalRef, StrategyConfig

    base = cfg.base
    sig = {ref.label: dict(ref.params) for ref in base.signals}
    rule = dict(base.params)
    ov = dataclasses.asdict(base.overlays)
    for d in cfg.dims:
        if d.key not in values:
            continue
        v = values[d.key]
        if d.group == "signal":
            sig[d.label][d.param] = v
        elif d.group == "rule":
            rule[d.param] = v
        else:
            ov[d.param] = v
    refs = tuple(SignalRef(ref.name, sig[ref.label], ref.label) for ref in base.signals)
    return StrategyConfig(name=name, rule=base.rule, signals=refs, params=rule, overlays=Overlays(**ov),
                          assets=base.assets)


def combo_strategy(cfg: SweepConfig, combo: int, name: str | None = None):
    """The base StrategyConfig with combination ``combo`` applied (for the one-by-one path)."""
    return _apply(cfg, combo_params(cfg, combo), name or f"{cfg.base.name}#{combo}")


def _group_product(cfg: SweepConfig, positions: list[int]) -> list[dict[str, Any]]:
    """Every combination of the values of the dims at ``positions`` (last fastest) as {param: value}."""
    dims = [cfg.dims[i] for i in positions]
    return [{d.param: v for d, v in zip(dims, vals, strict=True)}
            for vals in itertools.product(*(d.values for d in dims))]


def _check_groups(dims, base, sig_registry, strat_registry, source) -> None:
    """Pre-check the rule and overlay groups (no data needed): values no combination can use fail."""
    from riskoff.params import resolve_params
    from riskoff.strategy import Overlays, _run_check

    def check_group(group: str, fn: Callable[[dict[str, Any]], None]) -> None:
        gd = [d for d in dims if d.group == group]
        if not gd:
            return
        sizes = [len(d) for d in gd]
        total = int(np.prod(sizes, dtype=np.int64))
        if total > 200_000:
            return  # too many to enumerate here; each combination is checked when it runs
        ok = np.zeros(sizes, dtype=bool)
        first_err: dict[tuple[int, int], str] = {}
        for pos in itertools.product(*(range(s) for s in sizes)):
            vals = {d.param: d.values[i] for d, i in zip(gd, pos, strict=True)}
            try:
                fn(vals)
                ok[pos] = True
            except RiskoffError as exc:
                for k, i in enumerate(pos):
                    first_err.setdefault((k, i), str(exc))
        for k, d in enumerate(gd):
            usable = np.moveaxis(ok, k, 0).reshape(len(d), -1).any(axis=1)
            for i in np.flatnonzero(~usable):
                raise ConfigError(f'{source}: [grid] "{d.key}" = {d.values[i]!r} fits no combination: '
                                  f"{first_err.get((k, int(i)), 'rejected')}")

    spec = strat_registry.get(base.rule)
    owner = f"strategy {base.name} (rule {base.rule})"

    def rule_ok(vals):
        p = resolve_params(spec.params, {**base.params, **vals}, owner)
        _run_check(spec, base.labels, p, owner)

    def overlays_ok(vals):
        Overlays(**{**dataclasses.asdict(base.overlays), **vals})

    check_group("rule", rule_ok)
    check_group("overlays", overlays_ok)


# =============================================================================================
# Numba kernels (compiled on first use so that importing this module, e.g. for the CLI parser,
# does not import numba; cached on disk like the engine's)
# =============================================================================================
prange = range  # replaced by numba.prange before the kernels compile


def _k_overlay(raw, minpos, close, prevmax, first, settings, out):  # pragma: no cover
    """One combination's overlays: ``riskoff.overlays.overlay_stream_nb`` (the shared per-bar step)."""
    overlay_stream_nb(settings, raw, minpos, close, prevmax, first, out)


def _k_sim(x, pos, close, price, growth, fee, slip, floor_frac, init_cash, eq, pv, fl):  # pragma: no cover
    """One account holding one asset, stepped by ``riskoff.engine.account_bar_nb`` (no rebalancing rules).

    Writes the equity, the position value (units x last close; weight = pv / equity) and the fill
    flags of every bar. ``x[pos[t]]`` is the exposure decided at bar t (cash where pos < 0).
    """
    state = initial_account_state(init_cash)
    for t in range(close.shape[0]):
        k = pos[t]
        tgt = x[k] if k >= 0 else 0.0
        state, eq[t], pv[t], filled = account_bar_nb(state, t, price[t], close[t], growth[t], tgt, fee, slip,
                                                     floor_frac, np.inf, False)
        fl[t] = 1 if filled != 0.0 else 0


def _k_metrics(eq, pv, fl, growth, rbuf, ppy, segs, wins, bh_wdd, st, wo):  # pragma: no cover
    """Segment statistics and window metrics of one combination: ``riskoff.metrics``' numba steps."""
    for s in range(segs.shape[0]):
        segment_stats_nb(eq, pv, fl, growth, rbuf, ppy, segs[s, 0], segs[s, 1], st[s])
    for k in range(wins.shape[0]):
        if wins[k, 0] == 0:
            for m in range(wo.shape[1]):
                wo[k, m] = np.nan
            continue
        window_stats_nb(eq, pv, wins[k, 1], wins[k, 2], wins[k, 3], wins[k, 4], bh_wdd[k], wo[k])


def _k_fused_one(j, raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos, close, price, growth, fee, slip, floor_frac, init_cash, ppy, segs, wins, bh_wdd,
                 st_out, w_out, store, eq_store, w_store, xb, eq, pv, rb, fl):  # pragma: no cover
    """One combination of ``_k_fused`` with the caller's scratch buffers."""
    _k_overlay(raw[ridx[j]], minpos[ridx[j]], close_full, prevmax[pmidx[j]], first, settings[j], xb)
    _k_sim(xb, pos, close, price, growth, fee, slip, floor_frac, init_cash, eq, pv, fl)
    _k_metrics(eq, pv, fl, growth, rb, ppy, segs, wins, bh_wdd, st_out[j], w_out[j])
    s = store[j]
    if s >= 0:
        for t in range(close.shape[0]):
            eq_store[s, t] = eq[t]
            w_store[s, t] = weight_nb(pv[t], eq[t])


def _k_fused(raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos,
             close, price, growth, fee, slip, floor_frac, init_cash, ppy, segs, wins, bh_wdd, st_out, w_out,
             store, eq_store, w_store):  # pragma: no cover
    """Overlays + simulation + metrics per combination, parallel over combinations."""
    n = ridx.shape[0]
    nf = raw.shape[1]
    nb = close.shape[0]
    nblk = min(n, 64)
    for blk in prange(nblk):  # scratch buffers allocated once per block of combinations
        xb = np.empty(nf)
        eq = np.empty(nb)
        pv = np.empty(nb)
        rb = np.empty(nb)
        fl = np.empty(nb, np.int64)
        for j in range(blk * n // nblk, (blk + 1) * n // nblk):
            _k_fused_one(j, raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos, close, price, growth, fee, slip, floor_frac, init_cash, ppy, segs, wins,
                         bh_wdd, st_out, w_out, store, eq_store, w_store, xb, eq, pv, rb, fl)


def _k_overlay_batch(raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, out):  # pragma: no cover
    for j in prange(ridx.shape[0]):
        _k_overlay(raw[ridx[j]], minpos[ridx[j]], close_full, prevmax[pmidx[j]], first, settings[j], out[j])


def _k_metrics_batch(eq, pv, fl, growth, ppy, segs, wins, bh_wdd, st_out, w_out):  # pragma: no cover
    for j in prange(eq.shape[0]):
        rb = np.empty(eq.shape[1])
        _k_metrics(eq[j], pv[j], fl[j], growth, rb, ppy, segs, wins, bh_wdd, st_out[j], w_out[j])


_KERNELS = {"_k_overlay": {}, "_k_sim": {},
            "_k_metrics": {},
            "_k_fused_one": {}, "_k_fused": {"parallel": True}, "_k_overlay_batch": {"parallel": True},
            "_k_metrics_batch": {"parallel": True}}
_jit_lock = threading.Lock()
_jitted = False


def _jit() -> None:
    """Compile (or load from numba's on-disk cache) the kernels above, once per process."""
    global _jitted, prange
    if _jitted:
        return
    with _jit_lock:
        if _jitted:
            return
        import numba

        import riskoff.engine
        import riskoff.metrics
        import riskoff.overlays
        from riskoff.engine import account_bar_nb, initial_account_state, weight_nb
        from riskoff.numba_cache import drop_stale
        from riskoff.metrics import segment_stats_nb, window_stats_nb
        from riskoff.overlays import overlay_stream_nb

        # the kernels below inline steps from these modules; numba's cache would not notice a change
        drop_stale(sys.modules[__name__], [riskoff.engine, riskoff.metrics, riskoff.overlays])
        prange = numba.prange
        g = globals()
        # the shared per-bar steps, resolved by the kernels below as globals when they compile
        g.update(overlay_stream_nb=overlay_stream_nb, account_bar_nb=account_bar_nb,
                 initial_account_state=initial_account_state, weight_nb=weight_nb,
                 segment_stats_nb=segment_stats_nb, window_stats_nb=window_stats_nb)
        for name, opts in _KERNELS.items():  # callees first: the callers resolve them as globals
            g[name] = numba.njit(cache=True, nogil=True, **opts)(g[name])
        _jitted = True


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
    data_dir: str
    folds: tuple[Fold, ...]
    segments: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...]
    token: str

    @property
    def window_ids(self) -> tuple[str, ...]:
        return tuple(self.config.windows)


def _run_config(cfg: SweepConfig, end: pd.Timestamp | None = None):
    from riskoff.config import RunConfig
    return RunConfig(name=cfg.name, source=cfg.source, start=cfg.start, end=end if end is not None else cfg.end,
                     assets=cfg.assets, strategies=(cfg.base,), windows=cfg.windows, costs=cfg.costs,
                     fill=cfg.fill, cash=cfg.cash, engine="numba", plugin_dirs=tuple(Path(p) for p in cfg.plugin_dirs))


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


def plan_sweep(cfg: SweepConfig, *, data_dir: str | Path | None = None) -> SweepPlan:
    """Resolve the span ("auto" end) and check data coverage before any work (like ``riskoff run``)."""
    from riskoff.data.align import load
    from riskoff.data.catalog import load_catalog
    from riskoff.paths import resolve_data_dir
    from riskoff.runner import _used_series, resolve_end

    data_path, _ = resolve_data_dir(data_dir)
    catalog = load_catalog()
    rc = _run_config(cfg)
    required, _opt = _used_series(rc, catalog)
    end, limited_by = resolve_end(rc, required, catalog, data_path)
    if end <= cfg.start:
        raise ConfigError(f"{cfg.source}: the data ends {end:%Y-%m-%d} (limited by {limited_by}), before "
                          f"sweep.start {cfg.start:%Y-%m-%d}")
    for cal in sorted({catalog[a].calendar for a in cfg.assets}):
        load(required, cfg.start, end, calendar=cal, data_dir=data_path, catalog=catalog, stale="raise")
    folds = _folds(cfg, end)
    segments = [("full", cfg.start, end)]
    for f in folds:
        segments += [(f"{f.name}_train", *f.train), (f"{f.name}_test", *f.test)]
    token = hashlib.sha256(json.dumps([_jsonable(cfg.raw), str(end), str(data_path), cfg.source,
                                       _jsonable(dataclasses.asdict(cfg.walk_forward)) if cfg.walk_forward
                                       else None], sort_keys=True, default=str).encode()).hexdigest()[:16]
    return SweepPlan(config=cfg, end=end, end_limited_by=limited_by, data_dir=str(data_path), folds=folds,
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
    ov: np.ndarray            # (n_ov,) records of riskoff.overlays.overlay_settings_dt
    ov_errors: list[str | None]
    n_ov: int
    max_leverage: float


def _tables(cfg: SweepConfig) -> _Tables:
    from riskoff.params import resolve_params
    from riskoff.overlays import Overlays, overlay_settings_dt
    from riskoff.strategy import _run_check

    sig_reg, strat_reg = _registries(cfg.plugin_dirs)
    groups = _group_dims(cfg)
    sizes = tuple(int(np.prod([len(cfg.dims[i]) for i in pos], dtype=np.int64)) for _, _, pos in groups)
    signal_params: dict[str, list[dict[str, Any]]] = {}
    for (group, label, pos) in groups:
        if group != "signal":
            continue
        ref = next(r for r in cfg.base.signals if r.label == label)
        spec = sig_reg.get(ref.name)
        signal_params[label] = [resolve_params(spec.params, {**ref.params, **vals}, f"signal {ref.name}")
                                for vals in _group_product(cfg, pos)]
    spec = strat_reg.get(cfg.base.rule)
    owner = f"strategy {cfg.base.name} (rule {cfg.base.rule})"
    rule_params, rule_errors = [], []
    for vals in _group_product(cfg, groups[-2][2]):
        try:
            p = resolve_params(spec.params, {**cfg.base.params, **vals}, owner)
            _run_check(spec, cfg.base.labels, p, owner)
            rule_params.append(p)
            rule_errors.append(None)
        except RiskoffError as exc:
            rule_params.append(None)
            rule_errors.append(str(exc))
    ov_rows, ov_errors = [], []
    base_ov = dataclasses.asdict(cfg.base.overlays)
    for vals in _group_product(cfg, groups[-1][2]):
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
    from riskoff.signal import discover as discover_signals
    from riskoff.strategy import default_signals, default_strategies, discover_strategies

    if not plugin_dirs:
        return default_signals(), default_strategies()
    if plugin_dirs not in _REGISTRIES:
        dirs = [Path(p) for p in plugin_dirs]
        _REGISTRIES[plugin_dirs] = (discover_signals(dirs), discover_strategies(dirs))
    return _REGISTRIES[plugin_dirs]


@dataclass
class _AssetContext:
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
    tables: _Tables
    sig_cache: _LRU
    raw_cache: _LRU
    raw_errors: dict[int, str] = field(default_factory=dict)
    cache_prevmax: dict[int, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=lambda: {"signals_s": 0.0, "rules_s": 0.0, "kernel_s": 0.0})


_CONTEXTS: OrderedDict = OrderedDict()
_CTX_LOCK = threading.Lock()


def _context(plan: SweepPlan, asset: str) -> _AssetContext:
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
    from riskoff.engine import _single_inputs
    return _single_inputs(close, pd.Series(0.0, index=close.index), open=open, cash_rate=cash_rate, costs=costs,
                          fill=fill, rebalance=None, rebalance_band=0.05, rebalance_every=0,
                          max_leverage=max_leverage, init_cash=1.0)


def _build_context(plan: SweepPlan, asset: str) -> _AssetContext:
    from riskoff.cash import money_market_rate
    from riskoff.data.align import load
    from riskoff.data.catalog import load_catalog
    from riskoff.engine import simulate
    from riskoff.annualisation import periods_per_year
    from riskoff.strategy import StrategyConfig, asset_calendar, build_exposure

    _jit()
    cfg = plan.config
    catalog = load_catalog()
    spec = catalog[asset]
    calendar = asset_calendar(asset)
    full = load([asset], None, plan.end, calendar=calendar, data_dir=plan.data_dir, stale="raise")
    col = f"{asset}.close"
    close_full = full[col].astype("float64")
    close_full.name = col
    frame = load([asset], cfg.start, plan.end, calendar=spec.calendar, data_dir=plan.data_dir, catalog=catalog,
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
    cash_rate = money_market_rate(index, spec.calendar, data_dir=plan.data_dir, source=cfg.cash)
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
                            data_dir=plan.data_dir, strategies=strat_reg, signals=sig_reg)
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
    _k_metrics(bh_eq, np.nan_to_num(bh_w * bh_eq), bh_fl, np.ascontiguousarray(inp.growth), np.empty(len(index)),
               float(ppy), segs, wins,
               np.zeros(nw), bh_stats, bh_win)
    budget = cfg.memory_mb * 2**20
    return _AssetContext(
        asset=asset, calendar=calendar, ppy=ppy, asset_class=spec.asset_class, index_full=idx_full,
        close_full=close_full, close_full_v=np.ascontiguousarray(close_full.to_numpy(dtype=float)),
        index=index, pos=pos, first=int(pos[pos >= 0].min()) if (pos >= 0).any() else 0,
        close_v=np.ascontiguousarray(inp.close[:, 0]), price_v=np.ascontiguousarray(inp.price[:, 0]),
        open_s=opens, close_s=close, cash_rate=cash_rate, costs=costs, growth=np.ascontiguousarray(inp.growth),
        fee=float(inp.fee[0]), slip=float(inp.slip[0]), floor_frac=1.0 - tables.max_leverage, segs=segs,
        wins=wins, bh_wdd=np.ascontiguousarray(bh_win[:, 1]), bh_stats=bh_stats, bh_win=bh_win, tables=tables,
        sig_cache=_LRU(budget / 4), raw_cache=_LRU(budget / 4))


def _signal_frame(plan: SweepPlan, ctx: _AssetContext, label: str, sub: int) -> tuple[np.ndarray, np.ndarray]:
    from riskoff.signal import run_signal
    from riskoff.strategy import _freeze

    cfg = plan.config
    ref = next(r for r in cfg.base.signals if r.label == label)
    params = ctx.tables.signal_params[label][sub]
    key = (ref.name, _freeze(params))
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
                         data_dir=plan.data_dir)[["state", "reading"]]
        shared.put(key, out)
    val = (np.ascontiguousarray(out["state"].reindex(ctx.index_full).to_numpy(dtype=float)),
           np.ascontiguousarray(out["reading"].reindex(ctx.index_full).to_numpy(dtype=float)))
    ctx.timings["signals_s"] += time.perf_counter() - t0
    ctx.sig_cache.put(key, val)
    return val


def _run_rule_checked(spec, sctx, params: Mapping[str, Any], owner: str) -> np.ndarray:
    """``riskoff.strategy.run_rule`` on params already resolved and checked (see ``_tables``), with
    the same output checks done on numpy arrays (the pandas ones cost as much as a simple rule)."""
    from riskoff.errors import PluginError

    out = spec.target(sctx, **params)
    if not isinstance(out, pd.Series):
        raise PluginError(f"{owner} ({spec.origin}): target must return a pandas Series, "
                          f"not {type(out).__name__}")
    if not out.index.equals(sctx.close.index):
        raise PluginError(f"{owner} ({spec.origin}): target's index differs from ctx.close.index")
    v = np.ascontiguousarray(out.to_numpy(dtype=np.float64))
    bad = (v < 0) | np.isinf(v)
    if bad.any():
        i = int(np.argmax(bad))
        raise PluginError(f"{owner} ({spec.origin}): exposure {v[i]!r} on {out.index[i]:%Y-%m-%d} "
                          "is not in 0 .. max_leverage (or NaN)")
    return v


def _raw_target(plan: SweepPlan, ctx: _AssetContext, rid: int) -> np.ndarray | None:
    """The rule's raw target (full history) of raw key ``rid`` (signal sub-indices x rule sub-index)."""
    from riskoff.strategy import StrategyContext, idle_filled

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
                                            f"strategy {cfg.base.name} (rule {cfg.base.rule})"),
                          cfg.base.overlays)
        ctx.timings["rules_s"] += time.perf_counter() - t0
    except RiskoffError as exc:
        ctx.raw_errors[rid] = str(exc)
        return None
    ctx.raw_cache.put(rid, val)
    return val


# =============================================================================================
# Chunks
# =============================================================================================
@dataclass
class ChunkResult:
    asset: str
    combos: np.ndarray       # (n,) int64
    stats: np.ndarray        # (n, segments, len(FULL_METRICS))
    windows: np.ndarray      # (n, windows, len(WINDOW_METRICS))
    valid: np.ndarray        # (n,) bool
    reasons: dict[int, str]  # combo -> why it was skipped
    timings: dict[str, float]
    equity: np.ndarray | None = None    # (n, bars) when asked for
    weight: np.ndarray | None = None
    worker: str = field(default_factory=lambda: f"{platform.node()}:{os.getpid()}")


def chunk_size_for(bars: int, kernel: str, memory_mb: float) -> int:
    """Columns per chunk from the memory budget: budget / (bars x 8 bytes x arrays per column)."""
    return max(1, int(memory_mb * 2**20 // (max(bars, 1) * 8 * ARRAYS_PER_COLUMN[kernel])))


@dataclass
class _Prepared:
    """A chunk after its Python part (raw targets, overlay parameters), ready for the kernel."""

    ctx: _AssetContext
    asset: str
    combos: np.ndarray
    valid: np.ndarray
    reasons: dict[int, str]
    timings: dict[str, float]
    kernel: str
    sel: np.ndarray
    raw: np.ndarray | None = None
    minpos: np.ndarray | None = None
    ridx: np.ndarray | None = None
    args: tuple = ()
    prevmax: np.ndarray | None = None
    pmidx: np.ndarray | None = None


def _prepare_chunk(plan: SweepPlan, asset: str, combos, kernel: str | None) -> _Prepared:
    """The Python part of a chunk: signals and rules (cached), overlay parameters (holds the GIL)."""
    if isinstance(combos, slice):
        combos = range(combos.start or 0, combos.stop, combos.step or 1)
    combos = np.asarray(combos, dtype=np.int64)
    ctx = _context(plan, asset)
    t = ctx.tables
    before = {k: ctx.timings[k] for k in ("signals_s", "rules_s")}
    rids = combos // t.n_ov
    ovs = combos % t.n_ov
    reasons: dict[int, str] = {}
    ov_bad = np.array([e is not None for e in t.ov_errors], dtype=bool)[ovs]
    uniq, inv = np.unique(rids, return_inverse=True)
    inv = inv.reshape(-1)
    row_of = np.full(len(uniq), -1, dtype=np.int64)
    mats: list[np.ndarray] = []
    for u, rid in enumerate(uniq):
        if np.all(ov_bad[inv == u]):
            continue  # every combination of this raw target is rejected by its overlays
        arr = _raw_target(plan, ctx, int(rid))
        if arr is not None:
            row_of[u] = len(mats)
            mats.append(arr)
    ridx = row_of[inv]
    valid = (ridx >= 0) & ~ov_bad
    for k in np.flatnonzero(~valid):
        c = int(combos[k])
        reasons[c] = t.ov_errors[ovs[k]] if ov_bad[k] else ctx.raw_errors.get(int(rids[k]), "rejected")
    timings = {k: ctx.timings[k] - v for k, v in before.items()}
    prep = _Prepared(ctx=ctx, asset=asset, combos=combos, valid=valid, reasons=reasons, timings=timings,
                     kernel=kernel or plan.config.kernel, sel=np.flatnonzero(valid))
    if len(prep.sel):
        raw = np.stack(mats)
        with np.errstate(invalid="ignore"):
            prep.minpos = np.min(np.where(raw > 0.0, raw, np.inf), axis=1)
        settings = np.rec.array(np.ascontiguousarray(t.ov[ovs[prep.sel]]))
        prep.args = (settings,)
        prep.prevmax, prep.pmidx = _prevmax(ctx, settings["stop_reentry_bars"], settings["trailing_stop"])
        prep.raw, prep.ridx = raw, ridx[prep.sel]
    return prep


def _execute_chunk(prep: _Prepared, keep_equity: bool = False) -> ChunkResult:
    """The numba part of a chunk: overlays, simulation and metrics (releases the GIL)."""
    ctx, sel, n = prep.ctx, prep.sel, len(prep.combos)
    nseg, nwin = len(ctx.segs), len(ctx.wins)
    stats = np.full((n, nseg, len(FULL_METRICS)), np.nan)
    wout = np.full((n, nwin, len(WINDOW_METRICS)), np.nan)
    eq_keep = np.full((n, len(ctx.index)), np.nan) if keep_equity else None
    w_keep = np.full((n, len(ctx.index)), np.nan) if keep_equity else None
    t0 = time.perf_counter()
    if len(sel):
        st = np.empty((len(sel), nseg, len(FULL_METRICS)))
        wo = np.empty((len(sel), nwin, len(WINDOW_METRICS)))
        if prep.kernel == "fused":
            store = np.arange(len(sel), dtype=np.int64) if keep_equity else np.full(len(sel), -1, np.int64)
            eqs = np.empty((len(sel) if keep_equity else 0, len(ctx.index)))
            wss = np.empty_like(eqs)
            _k_fused(prep.raw, prep.minpos, prep.ridx, ctx.close_full_v, prep.prevmax, prep.pmidx, ctx.first,
                     *prep.args, ctx.pos, ctx.close_v, ctx.price_v, ctx.growth, ctx.fee, ctx.slip, ctx.floor_frac,
                     1.0, float(ctx.ppy), ctx.segs, ctx.wins, ctx.bh_wdd, st, wo, store, eqs, wss)
        else:
            eqs, wss, fls = _engine_chunk(ctx, prep.raw, prep.minpos, prep.ridx, prep.prevmax, prep.pmidx,
                                          prep.args, prep.kernel)
            _k_metrics_batch(eqs, np.nan_to_num(wss * eqs), fls, ctx.growth, float(ctx.ppy), ctx.segs, ctx.wins, ctx.bh_wdd,
                             st, wo)
        if keep_equity:
            eq_keep[sel], w_keep[sel] = eqs, wss
        stats[sel], wout[sel] = st, wo
    timings = {**prep.timings, "kernel_s": time.perf_counter() - t0}
    return ChunkResult(asset=prep.asset, combos=prep.combos, stats=stats, windows=wout, valid=prep.valid,
                       reasons=prep.reasons, timings=timings, equity=eq_keep, weight=w_keep)


def run_chunk(plan: SweepPlan, asset: str, combos: np.ndarray | range | slice, *, kernel: str | None = None,
              keep_equity: bool = False) -> ChunkResult:
    """Simulate and measure a set of combinations on one asset (the unit of work of every backend)."""
    return _execute_chunk(_prepare_chunk(plan, asset, combos, kernel), keep_equity)


def _prevmax(ctx: _AssetContext, reentry: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct stop_reentry_bars N of the chunk (trailing stops only): the highest close of the
    N - 1 bars before each bar (-inf when none); and the row of each combination."""
    from riskoff.overlays import prev_max

    keys = np.where(stop > 0.0, reentry, 0)
    uniq, inv = np.unique(keys, return_inverse=True)
    rows = []
    for n in uniq:
        if n <= 1:
            rows.append(np.full(len(ctx.close_full_v), -np.inf))
            continue
        m = ctx.cache_prevmax.get(int(n))
        if m is None:
            m = prev_max(ctx.close_full_v, int(n))
            ctx.cache_prevmax[int(n)] = m
        rows.append(m)
    return np.stack(rows), inv.astype(np.int64).reshape(-1)


def _engine_chunk(ctx: _AssetContext, raw: np.ndarray, minpos: np.ndarray, ridx: np.ndarray, prevmax: np.ndarray,
                  pmidx: np.ndarray, args: tuple, kernel: str):
    """Exposure matrix of the chunk -> one riskoff.engine.simulate call (numba or vectorbt)."""
    from riskoff.engine import simulate

    n = len(ridx)
    full = np.zeros((n, raw.shape[1]))
    _k_overlay_batch(raw, minpos, ridx, ctx.close_full_v, prevmax, pmidx, ctx.first, *args, full)
    pos = ctx.pos
    expo = np.where(pos[None, :] >= 0, full[:, np.maximum(pos, 0)], np.nan)
    del full
    frame = pd.DataFrame(expo.T, index=ctx.index, columns=pd.RangeIndex(n))
    sim = simulate(ctx.close_s, frame, open=ctx.open_s, cash_rate=ctx.cash_rate, costs=ctx.costs,
                   fill="next_open" if ctx.open_s is not None else "next_close",
                   max_leverage=max(1.0, float(np.max(args[0]["max_leverage"]))), engine="numba" if kernel == "numba" else "vectorbt")
    eq = np.ascontiguousarray(sim.equity.to_numpy(dtype=float).T)
    w = np.ascontiguousarray(sim.exposure.to_numpy(dtype=float).T)
    fl = np.zeros_like(eq, dtype=np.int64)
    if len(sim.orders):
        ti = ctx.index.get_indexer(pd.DatetimeIndex(sim.orders["date"]))
        ci = sim.orders["column"].to_numpy(dtype=np.int64)
        fl[ci, ti] = 1
    return eq, w, fl


def _chunk_task(plan: SweepPlan, asset: str, lo: int, hi: int) -> ChunkResult:
    """dask entry point: one chunk on a worker (numba threads limited to the worker's threads)."""
    try:
        from distributed import get_worker
        nthreads = get_worker().state.nthreads
        import numba
        numba.set_num_threads(max(1, min(nthreads, numba.config.NUMBA_NUM_THREADS)))
    except (ImportError, ValueError, AttributeError):
        pass
    return run_chunk(plan, asset, range(lo, hi))


# =============================================================================================
# Running a sweep
# =============================================================================================
@dataclass
class SweepResult:
    plan: SweepPlan
    results: pd.DataFrame
    baseline: pd.DataFrame
    skipped: pd.DataFrame
    walkforward: pd.DataFrame | None
    timings: dict[str, float]
    chunk_size: int
    backend: str
    workers: tuple[str, ...] = ()   # host:pid of the processes that ran chunks

    @property
    def config(self) -> SweepConfig:
        return self.plan.config


def _bars(plan: SweepPlan, asset: str) -> int:
    from riskoff.data.align import load
    from riskoff.strategy import asset_calendar
    return len(load([asset], None, plan.end, calendar=asset_calendar(asset), data_dir=plan.data_dir, stale="allow"))


def _tasks(plan: SweepPlan, chunk: int) -> list[tuple[str, int, int]]:
    n = plan.config.n_combos
    return [(a, lo, min(lo + chunk, n)) for a in plan.config.assets for lo in range(0, n, chunk)]


def run_sweep(cfg: SweepConfig | SweepPlan, *, data_dir: str | Path | None = None, backend: str = "local",
              scheduler: str | Any | None = None, n_workers: int = 2, chunk_size: int | None = None,
              combos: Sequence[int] | None = None, progress: Callable[[str], None] | None = None,
              show_bar: bool = False) -> SweepResult:
    """Run every combination of the grid on every asset; nothing is written (see ``write_sweep``).

    Args:
        cfg: a SweepConfig (the span is resolved here) or a ready SweepPlan.
        backend: "local" (this process) or "dask" (``scheduler``: an address, a
            ``distributed.Client``, or None for a LocalCluster of ``n_workers`` processes).
        chunk_size: columns per chunk (default: the config's, else from its memory budget).
        combos: run only these combination numbers (default: all).
    """
    say = progress or (lambda _m: None)
    t_all = time.perf_counter()
    plan = cfg if isinstance(cfg, SweepPlan) else plan_sweep(cfg, data_dir=data_dir)
    cfg = plan.config
    if backend not in BACKENDS:
        raise ConfigError(f"backend = {backend!r}; expected one of {', '.join(BACKENDS)}")
    bars = max(_bars(plan, a) for a in cfg.assets)
    chunk = chunk_size or cfg.chunk_size or chunk_size_for(bars, cfg.kernel, cfg.memory_mb)
    say(f"sweep {cfg.name}: {cfg.n_combos:,} combinations x {len(cfg.assets)} asset(s), "
        f"{cfg.start:%Y-%m-%d} .. {plan.end:%Y-%m-%d}; chunks of {chunk:,} ({cfg.kernel} kernel, {backend})")
    if combos is None:
        tasks = _tasks(plan, chunk)
    else:
        sel = np.unique(np.asarray(combos, dtype=np.int64))
        if len(sel) and (sel[0] < 0 or sel[-1] >= cfg.n_combos):
            raise ConfigError(f"combination numbers must be in 0 .. {cfg.n_combos - 1}")
        tasks = [(a, sel[i:i + chunk]) for a in cfg.assets for i in range(0, len(sel), chunk)]
    parts: list[ChunkResult] = []
    if backend == "local":
        parts = _run_local(plan, tasks, show_bar)
    else:
        parts = _run_dask(plan, tasks, scheduler, n_workers, say)
    t_merge = time.perf_counter()
    result = _assemble(plan, parts, chunk, backend)
    result.timings["merge_s"] = time.perf_counter() - t_merge
    result.timings["total_s"] = time.perf_counter() - t_all
    return result


def _run_local(plan: SweepPlan, tasks: list, show_bar: bool) -> list[ChunkResult]:
    """Chunks in this process, pipelined: the next chunk's signals and rules (Python) are computed
    while the numba kernel (which releases the GIL) runs the current one."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    parts: list[ChunkResult] = []
    bar = tqdm(total=len(tasks), desc="chunks", unit="chunk", disable=not show_bar, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-kernel") as pool:
        running = None
        for task in tasks:
            combos = range(task[1], task[2]) if len(task) == 3 else task[1]
            prep = _prepare_chunk(plan, task[0], combos, None)
            if running is not None:
                parts.append(running.result())
                bar.update(1)
            running = pool.submit(_execute_chunk, prep)
        if running is not None:
            parts.append(running.result())
            bar.update(1)
    bar.close()
    return parts


def _run_dask(plan: SweepPlan, tasks: list, scheduler, n_workers: int, say) -> list[ChunkResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("--backend dask needs dask.distributed: pip install 'riskoff[dist]'") from None
    cluster = None
    own_client = True
    if scheduler is not None and not isinstance(scheduler, str):
        client, own_client = scheduler, False
    elif scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        [plan_f] = client.scatter([plan], broadcast=True)
        futs = []
        for t in tasks:
            if len(t) == 3:
                futs.append(client.submit(_chunk_task, plan_f, t[0], int(t[1]), int(t[2]), pure=False))
            else:
                futs.append(client.submit(run_chunk, plan_f, t[0], np.asarray(t[1]), pure=False))
        say(f"dask: {len(futs)} chunk(s) sent to {client.scheduler_info().get('address', scheduler)}")
        out = [r for _, r in as_completed(futs, with_results=True)]
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
    return out


def _param_column(d: GridDim, idx: np.ndarray) -> Any:
    vals = d.values
    if all(isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=bool)[idx]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=np.int64)[idx]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return np.array(vals, dtype=np.float64)[idx]
    text = np.array([v if isinstance(v, str) else json.dumps(_jsonable(v)) for v in vals], dtype=object)
    return text[idx]


def _assemble(plan: SweepPlan, parts: list[ChunkResult], chunk: int, backend: str) -> SweepResult:
    cfg = plan.config
    seg_names = [s[0] for s in plan.segments]
    wids = list(cfg.windows)
    frames, skipped = [], []
    timings = {"signals_s": 0.0, "rules_s": 0.0, "kernel_s": 0.0}
    for asset in cfg.assets:
        ps = sorted((p for p in parts if p.asset == asset), key=lambda p: int(p.combos[0]) if len(p.combos) else -1)
        if not ps:
            continue
        combos = np.concatenate([p.combos for p in ps])
        stats = np.concatenate([p.stats for p in ps])
        wins = np.concatenate([p.windows for p in ps])
        valid = np.concatenate([p.valid for p in ps])
        for p in ps:
            for k in timings:
                timings[k] += p.timings.get(k, 0.0)
            for c, why in p.reasons.items():
                params = {k: _jsonable(v) for k, v in combo_params(cfg, c).items()}
                skipped.append({"asset": asset, "combo": c, **params, "reason": why})
        order = np.argsort(combos, kind="stable")
        combos, stats, wins, valid = combos[order], stats[order], wins[order], valid[order]
        combos, stats, wins = combos[valid], stats[valid], wins[valid]
        idx = combo_indices(cfg, combos)
        cols: dict[str, Any] = {"combo": combos, "asset": np.full(len(combos), asset, dtype=object)}
        for k, d in enumerate(cfg.dims):
            cols[d.key] = _param_column(d, idx[:, k])
        for m, name in enumerate(FULL_METRICS):
            cols[name] = stats[:, 0, m]
        dd = wins[:, :, 2]
        covered = (~np.isnan(dd)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["dd_avoided_mean"] = np.where(covered > 0, np.nansum(dd, axis=1) / np.maximum(covered, 1), np.nan)
        cols["windows_covered"] = covered
        for k, wid in enumerate(wids):
            for m, name in enumerate(WINDOW_METRICS):
                cols[f"w.{wid}.{name}"] = wins[:, k, m]
        for s, seg in enumerate(seg_names[1:], start=1):
            for m, name in enumerate(FULL_METRICS):
                cols[f"p.{seg}.{name}"] = stats[:, s, m]
        frames.append(pd.DataFrame(cols))
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(results) == 0:
        first = skipped[0]["reason"] if skipped else "no combination ran"
        raise ConfigError(f"{cfg.source}: every combination was rejected; first reason: {first}")
    baseline = _baseline_table(plan)
    results = _rank(cfg, results)
    wf = walk_forward(results, plan, baseline) if plan.folds else None
    skipped_df = pd.DataFrame(skipped)
    return SweepResult(plan=plan, results=results, baseline=baseline, skipped=skipped_df, walkforward=wf,
                       timings=timings, chunk_size=chunk, backend=backend,
                       workers=tuple(sorted({p.worker for p in parts})))


def _baseline_table(plan: SweepPlan) -> pd.DataFrame:
    cfg = plan.config
    rows = []
    for asset in cfg.assets:
        ctx = _context(plan, asset)
        row: dict[str, Any] = {"asset": asset, "strategy": BASELINE_RULE}
        for m, name in enumerate(FULL_METRICS):
            row[name] = ctx.bh_stats[0, m]
        for k, wid in enumerate(cfg.windows):
            row[f"w.{wid}.bh_return"] = ctx.bh_win[k, 0]
            row[f"w.{wid}.bh_max_dd"] = ctx.bh_win[k, 1]
        for s, (seg, _, _) in enumerate(plan.segments[1:], start=1):
            for m, name in enumerate(FULL_METRICS):
                row[f"p.{seg}.{name}"] = ctx.bh_stats[s, m]
        rows.append(row)
    return pd.DataFrame(rows)


# =============================================================================================
# Ranking, stability, walk-forward
# =============================================================================================
def _score(metric: str, values: np.ndarray) -> np.ndarray:
    """Higher is better: minimised metrics are negated."""
    name = metric.rsplit(".", 1)[-1]
    return -values if name in MINIMISED else values


def stability_scores(values: np.ndarray, penalty: float = 1.0) -> np.ndarray:
    """Mean minus ``penalty`` x population sd of each cell's grid neighbourhood (Chebyshev radius 1).

    Args:
        values: metric on the grid lattice (any number of dims, higher is better), NaN = missing.
        penalty: weight of the neighbourhood's dispersion.

    Returns:
        Array of the same shape; NaN where the cell itself is NaN.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        return v.copy()
    ok = ~np.isnan(v)
    padded = np.pad(np.where(ok, v, 0.0), 1)
    okp = np.pad(ok.astype(float), 1)
    s = np.zeros_like(v)
    s2 = np.zeros_like(v)
    cnt = np.zeros_like(v)
    for off in itertools.product((0, 1, 2), repeat=v.ndim):
        sl = tuple(slice(o, o + n) for o, n in zip(off, v.shape, strict=True))
        x = padded[sl]
        c = okp[sl]
        s += x
        s2 += x * x
        cnt += c
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / cnt
        var = np.maximum(s2 / cnt - mean * mean, 0.0)
    out = mean - penalty * np.sqrt(var)
    out[~ok] = np.nan
    return out


def _lattice(cfg: SweepConfig, combos: np.ndarray, values: np.ndarray) -> np.ndarray:
    grid = np.full(cfg.n_combos, np.nan)
    grid[combos] = values
    return grid.reshape(cfg.shape) if cfg.dims else grid


def _stability_column(cfg: SweepConfig, df: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    out = np.full(len(df), np.nan)
    for _asset, g in df.groupby("asset", sort=False):
        rows = g.index.to_numpy()
        combos = g["combo"].to_numpy()
        lat = stability_scores(_lattice(cfg, combos, values[rows]), cfg.stability_penalty)
        out[rows] = lat.reshape(-1)[combos]
    return out


def _rank(cfg: SweepConfig, df: pd.DataFrame) -> pd.DataFrame:
    score = _score(cfg.metric, df[cfg.metric].to_numpy(dtype=float))
    df["stability"] = _stability_column(cfg, df, score)
    df["rank"] = (pd.Series(-score, index=df.index).groupby(df["asset"]).rank(method="first", na_option="bottom")
                  .astype(int))
    return df


def _objective(df: pd.DataFrame, baseline: pd.DataFrame, spec: WalkForwardSpec, seg: str,
               window_ids: Sequence[str]) -> np.ndarray:
    """The walk-forward objective of every row on one segment (higher is better)."""
    if spec.objective == OBJECTIVE_DD:
        cols = [f"w.{w}.drawdown_avoided" for w in window_ids]
        if cols:
            dd = df[cols].to_numpy(dtype=float)
            n = (~np.isnan(dd)).sum(axis=1)
            mean = np.where(n > 0, np.nansum(dd, axis=1) / np.maximum(n, 1), 0.0)
        else:
            mean = np.zeros(len(df))
        bh = df["asset"].map(baseline.set_index("asset")[f"p.{seg}.cagr"]).to_numpy(dtype=float)
        given_up = np.maximum(0.0, bh - df[f"p.{seg}.cagr"].to_numpy(dtype=float))
        return mean - spec.cost_weight * given_up
    return _score(spec.objective, df[f"p.{seg}.{spec.objective}"].to_numpy(dtype=float))


def walk_forward(results: pd.DataFrame, plan: SweepPlan, baseline: pd.DataFrame) -> pd.DataFrame:
    """Pick per fold and asset on the in-sample columns only; report the out-of-sample outcome.

    Also adds ``wf.<fold>.is_objective`` / ``oos_objective`` columns to ``results`` (in place).
    """
    cfg = plan.config
    spec = cfg.walk_forward or WalkForwardSpec()
    rows = []
    for f in plan.folds:
        is_obj = _objective(results, baseline, spec, f"{f.name}_train", f.train_windows)
        oos_obj = _objective(results, baseline, spec, f"{f.name}_test", f.test_windows)
        results[f"wf.{f.name}.is_objective"] = is_obj
        results[f"wf.{f.name}.oos_objective"] = oos_obj
        pick_score = is_obj
        if spec.select == "stability":
            pick_score = np.full(len(results), np.nan)
            for _asset, g in results.groupby("asset", sort=False):
                r = g.index.to_numpy()
                lat = stability_scores(_lattice(cfg, g["combo"].to_numpy(), is_obj[r]), cfg.stability_penalty)
                pick_score[r] = lat.reshape(-1)[g["combo"].to_numpy()]
        bl = baseline.set_index("asset")
        for asset, g in results.groupby("asset", sort=False):
            r = g.index.to_numpy()
            sc = pick_score[r]
            if np.all(np.isnan(sc)):
                continue
            best = r[int(np.nanargmax(sc))]  # first maximum = lowest combination number (rows are sorted)
            oos_all = oos_obj[r]
            chosen = results.loc[best]
            finite = oos_all[~np.isnan(oos_all)]
            oos_pct = float((finite <= oos_obj[best]).mean()) if len(finite) and not np.isnan(oos_obj[best]) \
                else np.nan
            if spec.objective == OBJECTIVE_DD:
                bh_is = bh_oos = 0.0
            else:
                obj = spec.objective
                bh_is = float(_score(obj, np.array([bl.loc[asset, f"p.{f.name}_train.{obj}"]]))[0])
                bh_oos = float(_score(obj, np.array([bl.loc[asset, f"p.{f.name}_test.{obj}"]]))[0])
            row = {"fold": f.name, "mode": spec.mode, "asset": asset, "objective": spec.objective,
                   "select": spec.select,
                   "train_start": f"{f.train[0]:%Y-%m-%d}", "train_end": f"{f.train[1]:%Y-%m-%d}",
                   "test_start": f"{f.test[0]:%Y-%m-%d}", "test_end": f"{f.test[1]:%Y-%m-%d}",
                   "train_windows": ";".join(f.train_windows), "test_windows": ";".join(f.test_windows),
                   "combo": int(chosen["combo"])}
            for d in cfg.dims:
                row[d.key] = _jsonable(chosen[d.key])
            row.update({
                "is_objective": float(is_obj[best]), "oos_objective": float(oos_obj[best]),
                "degradation": float(is_obj[best] - oos_obj[best]),
                "oos_percentile": oos_pct,
                "oos_best_objective": float(np.nanmax(oos_all)) if len(finite) else np.nan,
                "bh_is_objective": bh_is, "bh_oos_objective": bh_oos,
                "is_cagr": float(chosen[f"p.{f.name}_train.cagr"]),
                "oos_cagr": float(chosen[f"p.{f.name}_test.cagr"]),
                "oos_sharpe": float(chosen[f"p.{f.name}_test.sharpe"]),
                "oos_max_drawdown": float(chosen[f"p.{f.name}_test.max_drawdown"]),
                "bh_oos_cagr": float(bl.loc[asset, f"p.{f.name}_test.cagr"]),
            })
            rows.append(row)
    return pd.DataFrame(rows)


# =============================================================================================
# Equity of chosen combinations (tests, benchmarks, cross-checks)
# =============================================================================================
def sweep_equity(plan: SweepPlan, asset: str, combos: Sequence[int], *, kernel: str = "fused"
                 ) -> tuple[pd.DataFrame, pd.DataFrame, ChunkResult]:
    """Equity and actual exposure of some combinations as frames (columns = combination numbers)."""
    res = run_chunk(plan, asset, np.asarray(combos, dtype=np.int64), kernel=kernel, keep_equity=True)
    idx = _context(plan, asset).index
    eq = pd.DataFrame(res.equity.T, index=idx, columns=list(map(int, res.combos)))
    w = pd.DataFrame(res.weight.T, index=idx, columns=list(map(int, res.combos)))
    return eq, w, res


# =============================================================================================
# Output
# =============================================================================================
def default_out(cfg: SweepConfig) -> Path:
    """The default sweep folder: results/<timestamp>-sweep-<name>."""
    return run_folder.default_out(f"sweep-{cfg.name}")


def write_sweep(result: SweepResult, out: str | Path, *, html_report: bool = True) -> Path:
    """Write the sweep folder atomically (temp folder + rename) and return its path."""
    out = Path(out)
    with run_folder.RunFolder(out, what="sweep") as tmp:
        fmt = "%.12g"
        res = result.results
        res.to_parquet(tmp / "results.parquet", index=False)
        res.to_csv(tmp / "results.csv", index=False, float_format=fmt)
        result.baseline.to_csv(tmp / "baseline.csv", index=False, float_format=fmt)
        if len(result.skipped):
            result.skipped.to_csv(tmp / "skipped.csv", index=False)
        if result.walkforward is not None:
            result.walkforward.to_csv(tmp / "walkforward.csv", index=False, float_format=fmt)
        (tmp / "summary.json").write_text(json.dumps(_summary(result), indent=2, default=str) + "\n")
        if html_report:
            (tmp / "sweep.html").write_text(render_html(result), encoding="utf-8")
    return out


def _best_rows(result: SweepResult) -> list[dict[str, Any]]:
    out = []
    for asset, g in result.results.groupby("asset", sort=False):
        r = g.sort_values("rank").iloc[0]
        st = g.loc[g["stability"].idxmax()] if g["stability"].notna().any() else r
        out.append({"asset": asset, "best": {k: _jsonable(r[k]) for k in ["combo", *result.config.keys,
                                                                           result.config.metric, "stability"]},
                    "most_stable": {k: _jsonable(st[k]) for k in ["combo", *result.config.keys,
                                                                   result.config.metric, "stability"]}})
    return out


def _summary(result: SweepResult) -> dict[str, Any]:
    cfg, plan = result.config, result.plan
    return {
        "sweep": {"name": cfg.name, "config_file": cfg.source,
                  "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "start": f"{cfg.start:%Y-%m-%d}", "end": f"{plan.end:%Y-%m-%d}",
                  "end_limited_by": plan.end_limited_by, "assets": list(cfg.assets), "metric": cfg.metric,
                  "combinations": cfg.n_combos, "rows": len(result.results), "skipped": len(result.skipped),
                  "kernel": cfg.kernel, "backend": result.backend, "chunk_size": result.chunk_size,
                  "memory_mb": cfg.memory_mb, "fill": cfg.fill, "cash": cfg.cash,
                  "annualisation": "365 bars/year for crypto (UTC days), 252 for US-listed assets",
                  "stability": f"mean - {cfg.stability_penalty:g} x sd of {cfg.metric} over the 3^d grid "
                               "neighbourhood",
                  "layout": "one row per combination x asset; windows as w.<window>.<metric> columns; "
                            "walk-forward periods as p.<segment>.<metric>"},
        "grid": {d.key: [_jsonable(v) for v in d.values] for d in cfg.dims},
        "segments": [{"name": n, "start": f"{a:%Y-%m-%d}", "end": f"{b:%Y-%m-%d}"} for n, a, b in plan.segments],
        "best": _best_rows(result),
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
        "data_dir": plan.data_dir,
        "config": _jsonable(cfg.raw),
        "versions": run_folder.versions(),
    }


# ---------------------------------------------------------------------------------------------- HTML
def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:.4g}"
    return str(v)


def _color(v: float, lo: float, hi: float) -> str:
    if not np.isfinite(v) or not np.isfinite(lo) or not np.isfinite(hi):
        return "#eeeeee"
    x = 0.5 if hi <= lo else (v - lo) / (hi - lo)
    # red (low) -> yellow -> green (high)
    r = int(220 - 120 * max(0.0, x - 0.5) * 2) if x > 0.5 else 220
    g = int(80 + 140 * min(1.0, x * 2))
    return f"#{r:02x}{g:02x}70"


def _heat_slice(cfg: SweepConfig, g: pd.DataFrame, values: np.ndarray, anchor_combo: int
                ) -> tuple[np.ndarray, list, list]:
    lat = _lattice(cfg, g["combo"].to_numpy(), values)
    anchor = combo_indices(cfg, np.array([anchor_combo]))[0]
    keys = cfg.keys
    ix = keys.index(cfg.heatmap[0])
    iy = keys.index(cfg.heatmap[1]) if len(cfg.heatmap) > 1 else None
    sl: list[Any] = [int(a) for a in anchor]
    sl[ix] = slice(None)
    if iy is not None:
        sl[iy] = slice(None)
    m = lat[tuple(sl)]
    if iy is None:
        m = m[None, :]
        ys = ["-"]
    else:
        if iy < ix:
            m = m.T
        m = m.T  # rows = y values
        ys = list(cfg.dims[iy].values)
    return m, list(cfg.dims[ix].values), ys


def _heat_html(title: str, m: np.ndarray, xs: list, ys: list, xkey: str, ykey: str, mark: tuple[int, int] | None,
               minimise: bool = False) -> str:
    finite = m[np.isfinite(m)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (np.nan, np.nan)
    if np.isfinite(lo) and hi - lo <= 1e-9 * max(1.0, abs(hi)):
        lo = hi  # flat up to float noise: one neutral colour, not red/green noise
    parts = [f"<h4>{_esc(title)}</h4>"]
    if m.size <= 900:
        parts.append(f"<table class='heat'><tr><th>{_esc(ykey)} \\ {_esc(xkey)}</th>"
                     + "".join(f"<th>{_esc(_fmt(x))}</th>" for x in xs) + "</tr>")
        for i, y in enumerate(ys):
            cells = []
            for j in range(len(xs)):
                v = m[i, j]
                col = _color(-v if minimise else v, -hi if minimise else lo, -lo if minimise else hi)
                cls = " class='best'" if mark == (i, j) else ""
                cells.append(f"<td{cls} style='background:{col}'>{_esc(_fmt(v))}</td>")
            parts.append(f"<tr><th>{_esc(_fmt(y))}</th>{''.join(cells)}</tr>")
        parts.append("</table>")
        return "".join(parts)
    import base64
    import io

    from riskoff._mpl import configure
    configure()
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=90)
    im = ax.imshow(-m if minimise else m, aspect="auto", origin="lower", cmap="RdYlGn", interpolation="nearest")
    nx, ny = len(xs), len(ys)
    tx = np.unique(np.linspace(0, nx - 1, min(nx, 8)).astype(int))
    ty = np.unique(np.linspace(0, ny - 1, min(ny, 8)).astype(int))
    ax.set_xticks(tx, [_fmt(xs[i]) for i in tx])
    ax.set_yticks(ty, [_fmt(ys[i]) for i in ty])
    ax.set_xlabel(xkey)
    ax.set_ylabel(ykey)
    if mark is not None:
        ax.plot(mark[1], mark[0], marker="s", mfc="none", mec="black", ms=9)
    fig.colorbar(im, ax=ax, label=("-" if minimise else "") + title.split(":")[0])
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    parts.append(f"<img alt='{_esc(title)}' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>")
    return "".join(parts)


def _table_html(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table class='data'><tr>{head}</tr>{body}</table>"


def render_html(result: SweepResult) -> str:
    """The self-contained sweep report (no external resources; every name escaped)."""
    cfg, plan, res = result.config, result.plan, result.results
    metric = cfg.metric
    minimise = metric.rsplit(".", 1)[-1] in MINIMISED
    css = ("body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
           "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}"
           "th{background:#f3f3f3}table.heat td{min-width:3em}td.best{outline:3px solid #000}"
           "h2{border-bottom:1px solid #ccc}.note{color:#555;font-size:13px;max-width:60em}")
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
           f"<title>riskoff sweep {_esc(cfg.name)}</title><style>{css}</style></head><body>",
           f"<h1>Sweep {_esc(cfg.name)}</h1>",
           f"<p class='note'>Base strategy <b>{_esc(cfg.base.name)}</b> (rule {_esc(cfg.base.rule)}, signals "
           f"{_esc(', '.join(cfg.base.labels) or 'none')}), {cfg.n_combos:,} combinations x "
           f"{len(cfg.assets)} asset(s) ({_esc(', '.join(cfg.assets))}), {cfg.start:%Y-%m-%d} .. {plan.end:%Y-%m-%d}. "
           f"Ranked by <b>{_esc(metric)}</b>. Stability = mean - {cfg.stability_penalty:g} x sd of {_esc(metric)} over "
           "each combination's grid neighbourhood (every combination at most one step away in every "
           "parameter): it prefers broad plateaus to isolated peaks. Annualisation: 365 bars a year for "
           "crypto, 252 for US assets. Heatmaps are slices through the best combination (other parameters "
           "fixed at its values; its cell is outlined).</p>",
           "<h2>Grid</h2>", _table_html(pd.DataFrame({"key": [d.key for d in cfg.dims],
                                                      "values": [", ".join(_fmt(v) for v in d.values[:30])
                                                                 + (" ..." if len(d) > 30 else "")
                                                                 for d in cfg.dims],
                                                      "count": [len(d) for d in cfg.dims]}))]
    if len(result.skipped):
        out.append(f"<p class='note'>{len(result.skipped):,} combination x asset pairs were rejected "
                   f"(see skipped.csv); first reason: {_esc(result.skipped['reason'].iloc[0])}</p>")
    keys = list(cfg.keys)
    show = ["rank", "combo", *keys, metric, "stability", "cagr", "sharpe", "max_drawdown", "dd_avoided_mean",
            "time_in_market", "trades"]
    show = list(dict.fromkeys(show))
    for asset, g in res.groupby("asset", sort=False):
        out.append(f"<h2>{_esc(asset)}</h2>")
        bl = result.baseline.set_index("asset").loc[asset]
        out.append(f"<p class='note'>Buy &amp; hold: CAGR {_fmt(bl['cagr'])}, Sharpe {_fmt(bl['sharpe'])}, "
                   f"max drawdown {_fmt(bl['max_drawdown'])}, Calmar {_fmt(bl['calmar'])}.</p>")
        out.append(f"<h3>Top {cfg.top} by {_esc(metric)}</h3>")
        out.append(_table_html(g.sort_values("rank").head(cfg.top)[show]))
        out.append(f"<h3>Top {cfg.top} by stability</h3>")
        out.append(_table_html(g.sort_values("stability", ascending=False, na_position="last").head(cfg.top)[show]))
        best = g.sort_values("rank").iloc[0]
        anchor = int(best["combo"])
        aidx = combo_indices(cfg, np.array([anchor]))[0]
        ix = keys.index(cfg.heatmap[0])
        mark = (int(aidx[keys.index(cfg.heatmap[1])]) if len(cfg.heatmap) > 1 else 0, int(aidx[ix]))
        ykey = cfg.heatmap[1] if len(cfg.heatmap) > 1 else ""
        out.append("<h3>Heatmaps (full period)</h3>")
        for title, vals, mini in ((f"{metric}: {asset}", g[metric].to_numpy(dtype=float), minimise),
                                  (f"stability of {metric}: {asset}", g["stability"].to_numpy(dtype=float), False)):
            m, xs, ys = _heat_slice(cfg, g, vals, anchor)
            out.append(_heat_html(title, m, xs, ys, cfg.heatmap[0], ykey, mark, mini))
        out.append(f"<h3>Heatmaps per sell-off window: {_esc(cfg.window_metric)}</h3>")
        for wid, w in cfg.windows.items():
            col = f"w.{wid}.{cfg.window_metric}"
            vals = g[col].to_numpy(dtype=float)
            if np.all(np.isnan(vals)):
                continue
            m, xs, ys = _heat_slice(cfg, g, vals, anchor)
            bh = bl.get(f"w.{wid}.bh_max_dd", np.nan)
            out.append(_heat_html(f"{cfg.window_metric}: {asset}, {wid} ({w.name}; {w.start:%Y-%m-%d} .. "
                                  f"{w.end:%Y-%m-%d}; buy & hold max dd {_fmt(bh)})", m, xs, ys, cfg.heatmap[0],
                                  ykey, mark))
    if result.walkforward is not None and len(result.walkforward):
        wf = cfg.walk_forward or WalkForwardSpec()
        out.append("<h2>Walk-forward (out-of-sample)</h2>")
        obj = ("mean drawdown_avoided over the segment's windows minus "
               f"{wf.cost_weight:g} x the CAGR given up vs buy &amp; hold" if wf.objective == OBJECTIVE_DD
               else _esc(wf.objective))
        out.append(f"<p class='note'>Mode {_esc(wf.mode)}; objective: {obj}; selection by {_esc(wf.select)} on the "
                   "in-sample (train) data only, then evaluated on the held-out (test) data. Degradation = "
                   "in-sample minus out-of-sample objective; oos_percentile = share of all combinations "
                   "whose out-of-sample objective is at or below the chosen one's.</p>")
        out.append(_table_html(result.walkforward))
    t = result.timings
    out.append(f"<p class='note'>Timings: {_esc(', '.join(f'{k} {v:.3f}' for k, v in t.items()))}; chunks of "
               f"{result.chunk_size:,}; kernel {_esc(cfg.kernel)}; backend {_esc(result.backend)}.</p>")
    out.append("</body></html>")
    return "\n".join(out)


# =============================================================================================
# CLI hook (wired into riskoff/cli.py)
# =============================================================================================
def cmd_sweep(args: argparse.Namespace) -> int:
    """``riskoff sweep CONFIG``: run a sweep and write its folder; prints the top combinations."""
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    cfg = load_sweep_config(args.config)
    if args.walk_forward:
        cfg = cfg.with_walk_forward()
    if args.metric:
        if args.metric not in rankable_metrics(cfg.windows):
            raise ConfigError(f"--metric {args.metric!r}{did_you_mean(args.metric, rankable_metrics(cfg.windows))}")
        cfg = dataclasses.replace(cfg, metric=args.metric)
    if args.kernel:
        cfg = dataclasses.replace(cfg, kernel=args.kernel)
    if args.memory_mb:
        cfg = dataclasses.replace(cfg, memory_mb=float(args.memory_mb))
    out = Path(args.out) if args.out else default_out(cfg)
    run_folder.RunFolder(out, what="sweep").check_free()
    result = run_sweep(cfg, data_dir=args.data_dir, backend=args.backend, scheduler=args.scheduler,
                       n_workers=args.n_workers, chunk_size=args.chunk_size or None, progress=say,
                       show_bar=sys.stderr.isatty())
    write_sweep(result, out)
    cols = ["asset", "rank", "combo", *cfg.keys, cfg.metric, "stability", "cagr", "max_drawdown", "dd_avoided_mean"]
    top = result.results.sort_values(["asset", "rank"]).groupby("asset", sort=False).head(5)
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.4f}".format):
        print(top[list(dict.fromkeys(cols))].to_string(index=False))
        if result.walkforward is not None and len(result.walkforward):
            print("\nwalk-forward:")
            wcols = ["fold", "asset", "combo", *cfg.keys, "is_objective", "oos_objective", "degradation",
                     "oos_percentile"]
            print(result.walkforward[wcols].to_string(index=False))
    n_bt = len(result.results) + len(result.skipped)
    print(f"\n{n_bt:,} backtests ({cfg.n_combos:,} combinations x {len(cfg.assets)} assets), "
          f"{len(result.skipped):,} skipped; compute {result.timings.get('total_s', 0):.2f} s")
    print(f"results: {out}  ({time.perf_counter() - t0:.1f} s)")
    return 0


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``riskoff sweep`` to the CLI's subparsers (``cli.build_parser``)."""
    p = subparsers.add_parser("sweep", help="parameter sweep of one strategy (grid, heatmaps, walk-forward)")
    p.add_argument("config", help="sweep config TOML (see backtests/sweep_vix.toml)")
    p.add_argument("--data-dir", default=None, help="data dir (else RISKOFF_DATA_DIR, ../shared/data, data/cache)")
    p.add_argument("--out", default=None, help="output folder (default results/<timestamp>-sweep-<name>)")
    p.add_argument("--walk-forward", action="store_true",
                   help="also run the walk-forward study (the [walk_forward] table, or its defaults)")
    p.add_argument("--metric", default=None, help="rank by this metric instead of sweep.metric")
    p.add_argument("--backend", choices=BACKENDS, default="local", help="local (default) or dask")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (default: start a LocalCluster)")
    p.add_argument("--n-workers", type=int, default=2, help="workers of the LocalCluster (--backend dask)")
    p.add_argument("--chunk-size", type=int, default=0, help="combinations per chunk (default: from memory_mb)")
    p.add_argument("--memory-mb", type=float, default=0, help="memory budget of a chunk (default: sweep.memory_mb)")
    p.add_argument("--kernel", choices=KERNELS, default=None, help="fused (default), numba or vectorbt")
    p.set_defaults(func=cmd_sweep)
    return p
