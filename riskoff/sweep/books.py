"""Book sweeps: one book and one rule over a grid of book parameters (basket shares, rebalance band).

    riskoff sweep backtests/book_sweep.toml

A sweep config with a ``[portfolio]`` table is a book sweep (see ``backtests/book_sweep.toml``)::

    [run]                                   # the run schema (riskoff.run.config), as in any sweep
    [sweep]                                 # metric = "calmar", stability_penalty = 1.0, top = 20
    [strategy]                              # the rule the book is de-risked by (one [[strategies]] table)
    [portfolio]                             # the book (one [[portfolios]] table; strategies = the rule)
    [grid]
    "portfolio.risk_off_into.TLT" = { start = 0.0, stop = 0.5, step = 0.05 }
    "portfolio.risk_off_into.GLD" = [0.0, 0.25, 0.5]
    "portfolio.rebalance.band" = [0.0, 0.02, 0.05]      # 0 = no band (the table's calendar rule stays)

It goes through the same machinery as a run and a strategy sweep: the run's config parser, data,
signals and rule (the rule is simulated once per asset, as in ``riskoff run``), the book's own
targets formula and shared-cash account (``riskoff.engine.books``: one prepared input set, then one
compiled pass per combination), the single-asset metric definitions (``riskoff.significance.null
.path_metrics``: drawdown avoided against the static book with the same band, over the windows where
the static book fell at least 3%), the sweep's stability score (``riskoff.sweep.selection
.stability_scores`` on the grid lattice) and an atomic results folder (``riskoff.run.folder``).

What differs from a strategy sweep: a combination's basket shares may sum to less than 1 (the
remainder of the freed weight stays in cash); one whose shares sum above 1 is skipped and listed in
``skipped.csv``. Outputs: ``results.csv`` (one row per combination: the grid values, CAGR, max
drawdown, Calmar, Sharpe over the cash rate, mean drawdown avoided, CAGR given up, turnover,
stability, rank), ``skipped.csv``, ``summary.json`` and ``sweep.html`` (the top rows).
"""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.evaluation.books import Book
from riskoff.util.errors import ConfigError

METRICS = ("cagr", "max_drawdown", "calmar", "sharpe", "dd_avoided_mean", "cagr_given_up", "turnover")
MINIMISED = ("cagr_given_up", "turnover")
BASKET_KEY, BAND_KEY = "portfolio.risk_off_into.", "portfolio.rebalance.band"


def is_book_sweep(doc: Mapping[str, Any]) -> bool:
    """A sweep document with a ``[portfolio]`` table."""
    return "portfolio" in doc


@dataclass(frozen=True)
class BookSweepConfig:
    run: Any                                   # riskoff.run.config.RunConfig with the one book
    keys: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    metric: str = "calmar"
    stability_penalty: float = 1.0
    top: int = 20

    @property
    def n_combos(self) -> int:
        return int(np.prod([len(v) for v in self.values])) if self.values else 1


def _grid_values(raw: Any) -> tuple[float, ...]:
    """A validated [grid] value (riskoff.sweep.schema.BookGridValue) as its values."""
    if isinstance(raw, Mapping):
        lo, hi, step = (float(raw[k]) for k in ("start", "stop", "step"))
        n = int(np.floor((hi - lo) / step + 1e-9)) + 1 if hi >= lo else 0
        return tuple(round(lo + i * step, 12) for i in range(n))
    return tuple(float(v) for v in (raw if isinstance(raw, list) else [raw]))


def parse_book_sweep(doc: Mapping[str, Any], source: str) -> BookSweepConfig:
    """Validate a book sweep document; every problem is one ConfigError naming the file and key."""
    from riskoff.run.config import parse_config
    from riskoff.sweep.schema import BookSweepDocument
    from riskoff.util.schema import check

    sw = check(BookSweepDocument, doc, source).sweep  # types, ranges and allowed keys of every table
    metric = sw.metric
    if metric not in METRICS:
        raise ConfigError(f"{source}: sweep.metric = {metric!r}; expected one of {', '.join(METRICS)}")
    strategy = dict(doc["strategy"])
    book = dict(doc["portfolio"])
    book.setdefault("strategies", [strategy.get("name", "rule")])
    run_doc = {k: doc[k] for k in ("run", "costs", "windows", "series", "null", "bootstrap") if k in doc}
    run_doc.update({"baselines": {"rules": ["buy_and_hold"]}, "strategies": [strategy], "portfolios": [book]})
    run_doc.setdefault("null", {"enabled": False})
    run_doc.setdefault("bootstrap", {"enabled": False})
    cfg = parse_config(run_doc, source, base=Path(source).expanduser().resolve().parent
                       if Path(source).is_file() else None)
    (pf,) = cfg.portfolios
    keys, values = [], []
    for key, raw in doc["grid"].items():
        where = f"{source}: grid.{key}"
        if key.startswith(BASKET_KEY):
            asset = key[len(BASKET_KEY):]
            if asset not in cfg.assets:
                raise ConfigError(f"{where}: asset '{asset}' is not in run.assets {list(cfg.assets)}")
            vals = _grid_values(raw)
            if not vals:
                raise ConfigError(f"{where} = {dict(raw)!r}; expected start <= stop")
            if any(v > 1 for v in vals):
                raise ConfigError(f"{where}: basket shares are fractions in [0, 1]")
        elif key == BAND_KEY:
            vals = _grid_values(raw)
            if not vals:
                raise ConfigError(f"{where} = {dict(raw)!r}; expected start <= stop")
            if any(not 0 <= v < 1 for v in vals):
                raise ConfigError(f"{where}: band in weight points [0, 1) (0 = no band)")
        else:
            raise ConfigError(f"{where}: unknown grid key; a book sweep varies '{BASKET_KEY}<ASSET>' and "
                              f"'{BAND_KEY}'")
        keys.append(key)
        values.append(vals)
    return BookSweepConfig(cfg, tuple(keys), tuple(values), metric, sw.stability_penalty, sw.top)


def _basket(book: Any, keys: tuple[str, ...], combo: tuple[float, ...]) -> tuple[dict[str, float], float | None]:
    shares = dict(book.basket)
    band = book.band
    for k, v in zip(keys, combo):
        if k.startswith(BASKET_KEY):
            shares[k[len(BASKET_KEY):]] = v
        else:
            band = v if v > 0 else None
    return shares, band


def sweep_variants(static: Book, rule: Book, spans: np.ndarray,
                   variants: list[tuple[dict[str, float], float | None]]) -> pd.DataFrame:
    """Metrics of many variants of one book x rule: each ``(basket shares, band)`` through the book's
    prepared account (``static``/``rule``: riskoff.run.books.BookResult of the same book)."""
    from riskoff.engine.books import run_prepared
    from riskoff.engine.metrics import segment_stats
    from riskoff.significance.null import cagr_of, path_metrics
    from riskoff.strategies.books import exposure_matrix, target_weights

    book, prep = rule.book, rule.prep
    cols = list(book.assets)
    e = exposure_matrix(book, rule.sleeves)
    e_static = exposure_matrix(book, static.sleeves)
    w = np.array([book.weight.get(a, 0.0) for a in cols])
    ppy = rule.periods_per_year
    growth = rule.cash_growth.to_numpy(dtype=float)
    price = prep.inp.price
    static_cache: dict = {}
    rows = []
    for shares, band in variants:
        d = np.array([shares.get(a, 0.0) for a in cols])
        b = np.inf if band is None else float(band)
        if b not in static_cache:
            seq = run_prepared(prep, target_weights(e_static, w, d), b)[0][:, 0]
            wdd = path_metrics(seq, ppy, spans, np.zeros(len(spans)), 0.0)["window_dd_avoided"][:, 0]
            static_cache[b] = (wdd, float(cagr_of(np.array([seq[-1] / seq[0]]), len(seq), ppy)[0]))
        bh_wdd, bh_cagr = static_cache[b]
        eq, weight, fills, *_ = run_prepared(prep, target_weights(e, w, d), b)
        eq = eq[:, 0]
        m = path_metrics(eq, ppy, spans, bh_wdd, bh_cagr)
        s = segment_stats(eq, weight.sum(axis=1) * eq, np.zeros(len(eq), np.int64), growth, ppy)
        years = (len(eq) - 1) / ppy
        # notional at the fill price after slippage, as in the orders table
        px = np.nan_to_num(price) * (1.0 + np.sign(fills) * prep.inp.slip[None, :])
        traded = np.sum(np.abs(fills) * px, axis=1)
        rows.append({"cagr": s["cagr"], "max_drawdown": s["max_drawdown"], "calmar": s["calmar"],
                     "sharpe": s["sharpe"], "dd_avoided_mean": float(m["dd_avoided_mean"][0]),
                     "cagr_given_up": bh_cagr - float(m["cagr"][0]),
                     "turnover": float(np.sum(traded / eq) / years) if years > 0 else np.nan})
    return pd.DataFrame(rows)


@dataclass
class BookSweepResult:
    config: BookSweepConfig
    results: pd.DataFrame
    skipped: pd.DataFrame
    timings: dict


def run_book_sweep(cfg: BookSweepConfig, *, data_dir: str | Path | None = None,
                   progress: Callable[[str], None] | None = None) -> BookSweepResult:
    """Simulate the run (its one book, static and rule), then every combination of the grid."""
    from riskoff.run.runner import simulate_config
    from riskoff.significance.books import window_spans
    from riskoff.sweep.selection import stability_scores

    t0 = time.perf_counter()
    result = simulate_config(cfg.run, data_dir=data_dir, progress=progress)
    t1 = time.perf_counter()
    (static,) = [b for b in result.books if b.strategy == "static"]
    (rule,) = [b for b in result.books if b.strategy != "static"]
    mine = result.book_windows[result.book_windows["strategy"] == "static"]
    spans = window_spans(rule.equity.index, mine["start"], mine["end"])
    combos = list(itertools.product(*cfg.values)) if cfg.values else [()]
    variants, keep, skipped = [], [], []
    for i, combo in enumerate(combos):
        shares, band = _basket(rule.book, cfg.keys, combo)
        total = sum(shares.values())
        if total > 1 + 1e-9:
            skipped.append({"combo": i, **dict(zip(cfg.keys, combo)),
                            "reason": f"basket shares sum to {total:.6g} > 1"})
            continue
        variants.append((shares, band))
        keep.append(i)
    metrics = sweep_variants(static, rule, spans, variants)
    table = pd.DataFrame([dict(zip(cfg.keys, combos[i])) for i in keep], index=keep)
    table.insert(0, "combo", keep)
    table = pd.concat([table.reset_index(drop=True), metrics], axis=1)
    lattice = np.full(len(combos), np.nan)
    sign = -1.0 if cfg.metric in MINIMISED else 1.0
    lattice[keep] = sign * table[cfg.metric].to_numpy()
    shape = tuple(len(v) for v in cfg.values) or (1,)
    table["stability"] = sign * stability_scores(lattice.reshape(shape), cfg.stability_penalty).ravel()[keep]
    order = (sign * table[cfg.metric]).rank(ascending=False, method="first")
    table["rank"] = order.astype(int)
    return BookSweepResult(cfg, table.sort_values("rank").reset_index(drop=True), pd.DataFrame(skipped),
                           {"run_s": round(t1 - t0, 3), "variants_s": round(time.perf_counter() - t1, 3),
                            "variants": len(variants)})


def write_book_sweep(res: BookSweepResult, out: str | Path) -> Path:
    """The sweep folder, atomically: results.csv, skipped.csv, summary.json, sweep.html."""
    from riskoff.run.folder import RunFolder

    cfg = res.config
    with RunFolder(out, what="sweep") as tmp:
        res.results.to_csv(tmp / "results.csv", index=False, float_format="%.10g")
        if len(res.skipped):
            res.skipped.to_csv(tmp / "skipped.csv", index=False)
        (pf,) = cfg.run.portfolios
        summary = {"kind": "book", "name": cfg.run.name, "book": pf.as_dict(), "metric": cfg.metric,
                   "grid": {k: list(v) for k, v in zip(cfg.keys, cfg.values)}, "combinations": cfg.n_combos,
                   "skipped": len(res.skipped), "timings": res.timings,
                   "best": res.results.iloc[0].to_dict() if len(res.results) else None}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        top = res.results.head(cfg.top)
        (tmp / "sweep.html").write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>book sweep</title></head><body>"
            f"<h1>Book sweep: {pf.name} x {', '.join(pf.strategies)}</h1><p>Ranked by {cfg.metric} "
            f"({'lower' if cfg.metric in MINIMISED else 'higher'} is better); drawdown avoided against the "
            "static book with the same band; stability = neighbourhood mean minus penalty x sd.</p>"
            + top.to_html(index=False, float_format=lambda x: f"{x:.4f}") + "</body></html>", encoding="utf-8")
    return Path(out)
