"""Selection: ranking, the stability score and the walk-forward study."""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskoff.sweep.config import MINIMISED, OBJECTIVE_DD, SweepConfig, WalkForwardSpec
from riskoff.sweep.plan import SweepPlan
from riskoff.util.config_helpers import jsonable


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


def lattice(cfg: SweepConfig, combos: np.ndarray, values: np.ndarray) -> np.ndarray:
    grid = np.full(cfg.n_combos, np.nan)
    grid[combos] = values
    return grid.reshape(cfg.shape) if cfg.dims else grid


def _stability_column(cfg: SweepConfig, df: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    out = np.full(len(df), np.nan)
    for _asset, g in df.groupby("asset", sort=False):
        rows = g.index.to_numpy()
        combos = g["combo"].to_numpy()
        lat = stability_scores(lattice(cfg, combos, values[rows]), cfg.stability_penalty)
        out[rows] = lat.reshape(-1)[combos]
    return out


def rank_results(cfg: SweepConfig, df: pd.DataFrame) -> pd.DataFrame:
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
                lat = stability_scores(lattice(cfg, g["combo"].to_numpy(), is_obj[r]), cfg.stability_penalty)
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
                row[d.key] = jsonable(chosen[d.key])
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


