"""The grid: combination numbering and the parameters / strategy config of one combination."""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from riskoff.sweep.config import SweepConfig


# =============================================================================================
# Combinations
# =============================================================================================
def group_dims(cfg: SweepConfig) -> list[tuple[str, str, list[int]]]:
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
    from riskoff.strategies.config import SignalRef, StrategyConfig
    from riskoff.strategies.overlays import Overlays

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


def group_product(cfg: SweepConfig, positions: list[int]) -> list[dict[str, Any]]:
    """Every combination of the values of the dims at ``positions`` (last fastest) as {param: value}."""
    dims = [cfg.dims[i] for i in positions]
    return [{d.param: v for d, v in zip(dims, vals, strict=True)}
            for vals in itertools.product(*(d.values for d in dims))]


