"""Sweep configs: the TOML file parsed and validated into a frozen :class:`SweepConfig`."""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.engine.metrics import FULL_METRICS, WINDOW_METRICS
from riskoff.util.config_helpers import (
    check_choice,
    freeze,
    parse_date,
    parse_number,
)
from riskoff.util.errors import ConfigError, RiskoffError, did_you_mean
from riskoff.util.files import path_name
from riskoff.util.limits import estimate_text

SWEEP_TABLES = ("run", "sweep", "strategy", "grid", "walk_forward")
NEW_LAYOUT = """[run]                     # the run schema of riskoff/run/config.py (or: run = "backtests/selloffs.toml")
name = "vix_thresholds"
assets = ["SPY", "QQQ", "BTC-USD"]
start = 2015-01-01
end = "auto"

[sweep]                   # sweep-only keys: metric, heatmap, window_metric, stability_penalty, memory_mb, kernel ...
metric = "calmar"

[strategy]                # the base strategy
[grid]                    # the swept keys
[walk_forward]            # optional"""
GRID_PREFIXES = ("signal", "rule", "overlays")
KERNELS = ("fused", "numba", "vectorbt")
BACKENDS = ("local", "dask")
MINIMISED = frozenset({"volatility", "trades"})
ARRAYS_PER_COLUMN = {"fused": 2, "numba": 8, "vectorbt": 8}
DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_COMBINATIONS = 5_000_000
MAX_RANGE_VALUES = 1_000_000
#: backtest-bars a second of the fused kernel (benchmarks/bench_sweep.py: 20,000 backtests of ~2,900
#: bars in 1.5 s), rounded down; for the time in a size error
SWEEP_BARS_PER_S = 30_000_000
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
    run: Any                       # riskoff.run.config.RunConfig: span, assets, fill, cash, costs, windows, series
    base: Any                      # riskoff.strategies.config.StrategyConfig
    dims: tuple[GridDim, ...]
    metric: str = "calmar"
    heatmap: tuple[str, ...] = ()
    window_metric: str = "drawdown_avoided"
    stability_penalty: float = 1.0
    memory_mb: float = DEFAULT_MEMORY_MB
    chunk_size: int = 0
    kernel: str = "fused"
    top: int = 20
    walk_forward: WalkForwardSpec | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    # The run settings, read from the [run] config (one parser: riskoff.run.config.parse_config).
    assets = property(lambda self: self.run.assets)
    start = property(lambda self: self.run.start)
    end = property(lambda self: self.run.end)
    fill = property(lambda self: self.run.fill)
    cash = property(lambda self: self.run.cash)
    costs = property(lambda self: self.run.costs)
    windows = property(lambda self: self.run.windows)
    series = property(lambda self: self.run.series)
    plugin_dirs = property(lambda self: tuple(str(p) for p in self.run.plugin_dirs))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(d) for d in self.dims)

    @property
    def n_combos(self) -> int:
        return math.prod(self.shape)  # Python integers: exact, never wraps like int64

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dims)

    def with_walk_forward(self, spec: WalkForwardSpec | None = None) -> "SweepConfig":
        return dataclasses.replace(self, walk_forward=spec or self.walk_forward or WalkForwardSpec())


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Parse and validate a sweep config file; every problem is a ConfigError naming file and key."""
    from riskoff.util.tomlfile import read_toml
    return parse_sweep_config(read_toml(path, "sweep config file"), str(path))


def _param_values(p: Any, raw: Any, where: str, owner: str) -> list[Any]:
    """A [grid] value for a declared Param, expanded and validated against its range."""
    integer = isinstance(p.default, int) and not isinstance(p.default, bool) and p.choices is None
    return [p.validate(freeze(v) if isinstance(p.default, tuple) else v, owner)
            for v in _expand(raw, where, integer)]


def _expand(raw: Any, where: str, integer: bool) -> list[Any]:
    """A [grid] value (typed by :class:`~riskoff.sweep.schema.GridRange` and the grid's schema): a
    list, a scalar or a range table {start, stop, step} (stop inclusive); whole numbers when the
    parameter is."""
    if isinstance(raw, Mapping):
        start = parse_number(raw["start"], f"{where}.start", integer=integer)
        stop = parse_number(raw["stop"], f"{where}.stop", integer=integer)
        step = parse_number(raw["step"], f"{where}.step", integer=integer)
        if stop < start:
            raise ConfigError(f"{where}: stop {stop!r} is below start {start!r}")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        if n > MAX_RANGE_VALUES:
            raise ConfigError(f"{where}: the range has {n:,} values; at most {MAX_RANGE_VALUES:,} per key")
        if integer:
            return [int(start + i * step) for i in range(n)]
        return [float(round(start + i * step, 12)) for i in range(n)]
    if isinstance(raw, list):
        return list(raw)
    return [raw]


def _parse_grid(table: Any, base, sig_registry, strat_registry, where: str) -> tuple[GridDim, ...]:
    from riskoff.strategies.overlays import Overlays
    from riskoff.strategies.overlays import overlay_fields as overlay_types

    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{where}: [grid] is missing or empty; add at least one key such as "
                          "\"rule.window\" = [100, 200] (see riskoff/sweep/__init__.py)")
    rule_spec = strat_registry.get(base.rule)
    rule_params = {p.name: p for p in rule_spec.params}
    labels = {ref.label: ref for ref in base.signals}
    # idle_exposure fills the rule's raw targets once per sweep (see raw_target), so it is not a grid axis
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
        counts = Counter(freeze(v) for v in values)  # one pass: a key may hold a million values
        dupes = sorted(repr(v) for v, c in counts.items() if c > 1)
        if dupes:
            raise ConfigError(f"{w}: value(s) {', '.join(dupes)} appear twice")
        dims[str(key)] = GridDim(key=str(key), group=prefix, label=label, param=param, values=tuple(values))
    # canonical order: signals in the base strategy's order, then the rule, then the overlays
    order = [(0, list(labels).index(d.label)) if d.group == "signal" else (1 if d.group == "rule" else 2, 0)
             for d in dims.values()]
    ranked = sorted(range(len(dims)), key=lambda i: (order[i], i))
    return tuple(list(dims.values())[i] for i in ranked)


def _parse_walk_forward(table: "WalkForwardTable | bool | None", where: str) -> WalkForwardSpec:  # noqa: F821
    """The spec from a validated ``[walk_forward]`` (``true`` or an empty table: the defaults)."""
    if not table or table is True:
        return WalkForwardSpec()
    kw: dict[str, Any] = {"mode": table.mode, "select": table.select}
    for k in ("fit_end", "test_start"):
        if getattr(table, k) is not None:
            kw[k] = parse_date(getattr(table, k), f"{where}: walk_forward.{k}")
    for k in ("train_years", "test_years", "cost_weight"):
        if getattr(table, k) is not None:
            kw[k] = getattr(table, k)
    obj = table.objective if table.objective is not None else OBJECTIVE_DD
    allowed = (OBJECTIVE_DD, *FULL_METRICS)
    if obj not in allowed:
        raise ConfigError(f"{where}: walk_forward.objective = {obj!r}{did_you_mean(str(obj), allowed)}; "
                          f"expected one of {', '.join(allowed)}")
    kw["objective"] = obj
    spec = WalkForwardSpec(**kw)
    if spec.mode == "windows" and spec.test_start < spec.fit_end:
        raise ConfigError(f"{where}: walk_forward.test_start {spec.test_start:%Y-%m-%d} is before fit_end "
                          f"{spec.fit_end:%Y-%m-%d}; the held-out data must come after the fitted data")
    return spec


def rankable_metrics(windows: Mapping[str, Any]) -> tuple[str, ...]:
    return (*FULL_METRICS, "dd_avoided_mean",
            *(f"w.{wid}.{m}" for wid in windows for m in WINDOW_METRICS))


def _parse_run(doc: Mapping[str, Any], source: str):
    """The sweep's run settings: its ``[run]`` table (with the run config's top-level tables such as
    ``[costs.*]``, ``[windows.*]`` and ``[series.*]``) or ``run = "file.toml"`` naming a run config
    (relative to the sweep file), parsed by riskoff.run.config.parse_config. The old layout (run keys
    in ``[sweep]``) is refused with the new form."""
    from riskoff.data.catalog import check_series_ids
    from riskoff.run.config import parse_config
    from riskoff.run.schema import RunDocument, RunTable
    from riskoff.sweep.schema import SweepDocument
    from riskoff.util.schema import check, table_keys
    from riskoff.util.tomlfile import read_toml

    sw = doc.get("sweep", {})
    old = [k for k in (sw if isinstance(sw, Mapping) else {}) if k in table_keys(RunTable)]
    if old or "run" not in doc:
        what = f"[sweep] holds run keys ({', '.join(old)})" if old else "there is no [run] table"
        raise ConfigError(f"{source}: {what}; a sweep config now names its run in a [run] table with the run "
                          f"schema, or run = \"file.toml\", and keeps only sweep keys in [sweep]:\n{NEW_LAYOUT}")
    check_series_ids(doc.get("series", {}), source)
    typed = check(SweepDocument, doc, source)  # types, ranges and allowed keys of every table
    run_tables = tuple(k for k in table_keys(RunDocument) if k not in ("baselines", "signals_alone", "strategies"))
    if isinstance(doc["run"], str):
        path = Path(doc["run"])
        if not path.is_absolute():
            path = Path(source).parent / path
        extra = [k for k in run_tables[1:] if k in doc]
        if extra:
            raise ConfigError(f"{source}: run = {doc['run']!r} names a run config; put [{extra[0]}] there, "
                              "not in the sweep file")
        return typed, parse_config(read_toml(path, "run config file (sweep run =)"), str(path),
                                   baseline_required=False, base=path.expanduser().resolve().parent)
    return typed, parse_config({k: doc[k] for k in run_tables if k in doc}, source, baseline_required=False,
                               base=Path(source).expanduser().resolve().parent if Path(source).is_file() else None)


def parse_sweep_config(doc: Mapping[str, Any], source: str) -> SweepConfig:
    """Validate a parsed sweep TOML document (see the module docstring)."""
    from riskoff.signals.contract import discover as discover_signals
    from riskoff.strategies.config import strategy_from_toml
    from riskoff.strategies.contract import discover_strategies

    typed, run = _parse_run(doc, source)
    sw = typed.sweep
    if "strategy" not in doc:
        raise ConfigError(f"{source}: missing [strategy] (the base strategy: name, rule, signals, params, overlays)")
    sig_registry = discover_signals(run.plugin_dirs)
    strat_registry = discover_strategies(run.plugin_dirs)
    base = strategy_from_toml(doc["strategy"], f"{source}: [strategy]", strategies=strat_registry,
                              signals=sig_registry)
    inline = doc["run"] if isinstance(doc["run"], Mapping) else {}
    name = path_name(inline.get("name", base.name),
                     f"{source}: run.name" if "name" in inline else f"{source}: [strategy].name (the sweep's name)")
    kernel = check_choice(sw.kernel, KERNELS, f"{source}: sweep.kernel")
    windows = run.windows

    dims = _parse_grid(doc.get("grid"), base, sig_registry, strat_registry, source)
    n = math.prod(len(d) for d in dims)  # Python integers: exact, never wraps like int64
    max_c = sw.max_combinations if sw.max_combinations is not None else DEFAULT_MAX_COMBINATIONS
    if n > max_c:
        backtests = n * len(run.assets)
        columns = len(FULL_METRICS) + 2 + len(windows) * len(WINDOW_METRICS) + len(dims)
        estimate = estimate_text(backtests * columns * 8, backtests * run.bars / SWEEP_BARS_PER_S)
        raise ConfigError(f"{source}: the grid has {n:,} combinations, above sweep.max_combinations = {max_c:,} "
                          f"({' x '.join(f'{len(d):,}' for d in dims)} values); its {backtests:,} backtests of up "
                          f"to {run.bars:,} bars would need {estimate}; narrow the grid or raise the limit")
    metrics = rankable_metrics(windows)
    metric = sw.metric
    if metric not in metrics:
        raise ConfigError(f"{source}: sweep.metric = {metric!r}{did_you_mean(str(metric), metrics)}; expected "
                          f"one of {', '.join(FULL_METRICS)}, dd_avoided_mean or w.<window>.<metric>")
    wm = sw.window_metric
    if wm not in WINDOW_METRICS:
        raise ConfigError(f"{source}: sweep.window_metric = {wm!r}{did_you_mean(str(wm), WINDOW_METRICS)}; "
                          f"expected one of {', '.join(WINDOW_METRICS)}")
    keys = [d.key for d in dims]
    heat = sw.heatmap if sw.heatmap is not None else keys[:2]
    for h in heat:
        if h not in keys:
            raise ConfigError(f"{source}: sweep.heatmap names '{h}', which is not a [grid] key"
                              f"{did_you_mean(str(h), keys)}; grid keys: {', '.join(keys)}")
    if len(heat) == 2 and heat[0] == heat[1]:
        raise ConfigError(f"{source}: sweep.heatmap names '{heat[0]}' twice")
    wf = _parse_walk_forward(typed.walk_forward, source) if "walk_forward" in doc else None
    _check_groups(dims, base, sig_registry, strat_registry, source)
    return SweepConfig(
        name=name, source=source, run=run, base=base, dims=dims, metric=metric, heatmap=tuple(heat),
        window_metric=wm,
        stability_penalty=sw.stability_penalty,
        memory_mb=sw.memory_mb if sw.memory_mb is not None else DEFAULT_MEMORY_MB, chunk_size=sw.chunk_size,
        kernel=kernel,
        top=sw.top,
        walk_forward=wf, raw=doc)


def _check_groups(dims, base, sig_registry, strat_registry, source) -> None:
    """Pre-check the rule and overlay groups (no data needed): values no combination can use fail."""
    from riskoff.strategies.contract import check_rule_params
    from riskoff.strategies.overlays import Overlays
    from riskoff.util.params import resolve_params

    def check_group(group: str, fn: Callable[[dict[str, Any]], None]) -> None:
        gd = [d for d in dims if d.group == group]
        if not gd:
            return
        sizes = [len(d) for d in gd]
        total = math.prod(sizes)
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
        check_rule_params(spec, base.labels, p, owner)

    def overlays_ok(vals):
        Overlays(**{**dataclasses.asdict(base.overlays), **vals})

    check_group("rule", rule_ok)
    check_group("overlays", overlays_ok)
