"""The main job: strategies x assets simulated, evaluated per window and written to a run folder.

Stages (one module each): data (riskoff.data) -> signals (riskoff.signal) -> strategies
(riskoff.strategy) -> engine (riskoff.engine) -> evaluation (riskoff.evaluation) -> reports
(riskoff.reports). This module only wires them together.

A run writes through the run-folder service (riskoff.run_folder: a marked temporary folder beside
its destination, renamed into place at the very end), so an interrupted or failed run leaves no
results folder behind. Every input
problem (config, data, plug-ins) is raised before anything is written.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.annualisation import annualisation_note
from riskoff.cash import CASH_SERIES, money_market_rate
from riskoff.config import RunConfig
from riskoff.data.align import load
from riskoff.data.context import DataContext
from riskoff.data.sources import fingerprint, series_path
from riskoff.engine import cash_growth, simulate
from riskoff.evaluation import full_period_stats, window_metrics, windows_table
from riskoff.plan import plan_run
from riskoff.run_folder import RunFolder, versions
from riskoff.signal import discover as discover_signals
from riskoff.strategy import StrategyRun, build_exposure, discover_strategies

BASELINE = "buy_and_hold"


@dataclass
class PairResult:
    """One strategy on one asset: the decided target, what the engine held, and the equity."""

    strategy: str
    asset: str
    asset_class: str
    calendar: str
    equity: pd.Series
    exposure: pd.Series
    target: pd.Series
    run: StrategyRun
    orders: pd.DataFrame
    cash_growth: pd.Series | None = None  # 1 + the cash return of each bar (Sharpe's benchmark)

    @property
    def key(self) -> str:
        return f"{self.strategy}/{self.asset}"


@dataclass
class RunResult:
    config: RunConfig
    data_dir: Path
    data_dir_from: str
    end: pd.Timestamp
    end_limited_by: str
    pairs: list[PairResult]
    prices: dict[str, pd.Series]
    fingerprints: dict[str, str]
    stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)


def simulate_config(cfg: RunConfig, *, data_dir: str | Path | None = None, data: DataContext | None = None,
                    progress: Callable[[str], None] | None = None, show_bar: bool = False) -> RunResult:
    """Build exposures, simulate and evaluate every strategy x asset of ``cfg`` (nothing is written).

    ``data``: the command's data context (default: resolved from ``data_dir`` and the config's series).
    """
    data = data if data is not None else DataContext.create(data_dir, cfg.series)
    signals, strategies = discover_signals(cfg.plugin_dirs), discover_strategies(cfg.plugin_dirs)
    plan = plan_run(cfg, data, signals)
    end, catalog = plan.end, data.catalog
    say = progress or (lambda _msg: None)
    say(f"data dir: {data.data_dir} (from {data.data_dir_from})")
    say(f"run span: {plan.span_text(cfg.start)}")
    pairs: list[PairResult] = []
    prices: dict[str, pd.Series] = {}
    jobs = [(a, s) for a in cfg.assets for s in cfg.strategies_for(a)]
    bar = _progress_bar(len(jobs), show_bar)
    for asset in cfg.assets:
        spec = catalog[asset]
        frame = load([asset], cfg.start, end, calendar=spec.calendar, data_dir=data.data_dir, catalog=catalog,
                     stale="raise")
        close = frame[f"{asset}.close"]
        opens = frame.get(f"{asset}.open")
        prices[asset] = close
        runs = []
        for strat in cfg.strategies_for(asset):
            runs.append(build_exposure(strat, asset, start=cfg.start, end=end, data=data,
                                       strategies=strategies, signals=signals))
            bar.update(1)
        exposure = pd.DataFrame({r_cfg.name: r.exposure.reindex(close.index)
                                 for r_cfg, r in zip(cfg.strategies_for(asset), runs)})
        cash = money_market_rate(close.index, spec.calendar, data=data, source=cfg.cash)
        growth = pd.Series(cash_growth(cash, close.index), index=close.index)
        sim = simulate(close, exposure, open=opens if cfg.fill == "next_open" else None, cash_rate=cash,
                       costs=cfg.costs.get(spec.asset_class, cfg.costs.get("equity")), fill=cfg.fill,
                       engine=cfg.engine)
        for (strat, run) in zip(cfg.strategies_for(asset), runs):
            orders = sim.orders[sim.orders["column"] == strat.name] if len(sim.orders) else sim.orders
            pairs.append(PairResult(strat.name, asset, spec.asset_class, spec.calendar, sim.equity[strat.name],
                                    sim.exposure[strat.name], exposure[strat.name], run, orders, growth))
    bar.close()
    used = sorted(set(plan.required) | set(plan.optional) | ({*CASH_SERIES} if cfg.cash == "money_market" else
                                                    ({cfg.cash} - {"none"})))
    prints = {sid: fingerprint(series_path(catalog[sid], data.data_dir)) for sid in used
              if series_path(catalog[sid], data.data_dir).exists()}
    result = RunResult(cfg, data.data_dir, data.data_dir_from, end, plan.end_limited_by, pairs, prices, prints)
    say(f"simulated {len(pairs)} strategy x asset pairs; evaluating ...")
    evaluate(result)
    return result


def _progress_bar(total: int, show: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="strategies x assets", unit="pair", disable=not show, file=sys.stderr)


def evaluate(result: RunResult) -> None:
    """Fill ``result.stats`` (one row per pair) and ``result.windows`` (pair x window)."""
    bh = {p.asset: p.equity for p in result.pairs if p.strategy == BASELINE}
    stats, rows = [], []
    for p in result.pairs:
        s = full_period_stats(p.equity, p.exposure, p.target, bh[p.asset], p.asset_class, p.calendar,
                              cash_growth=p.cash_growth)
        stats.append({"strategy": p.strategy, "asset": p.asset, **s})
        for w in result.config.windows.values():
            m = window_metrics(w, p.asset, p.equity, bh[p.asset], p.exposure, p.target)
            if m is not None:
                rows.append({"strategy": p.strategy, "asset": p.asset, "window": w.id,
                             "start": f"{w.start:%Y-%m-%d}", "trough": f"{w.trough_for(p.asset):%Y-%m-%d}",
                             "end": f"{w.end:%Y-%m-%d}", **m})
    result.stats = pd.DataFrame(stats)
    result.windows = windows_table(rows)


def _union_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    frame = pd.concat(series, axis=1) if series else pd.DataFrame()
    frame.index.name = "date"
    return frame.sort_index()


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", double_precision=15))


def write_run(result: RunResult, out: Path, *, tearsheets: bool | str = True, report: bool = True,
              progress: Callable[[str], None] | None = None) -> Path:
    """Write the run folder atomically (temp folder + rename) and return its path.

    ``tearsheets``: True = as the config says, False = none, or "all".
    """
    say = progress or (lambda _msg: None)
    cfg = result.config
    out = Path(out)
    with RunFolder(out, what="run") as tmp:
        say(f"writing {out} ...")
        keyed = {p.key: p for p in result.pairs}
        fmt = "%.12g"  # fixed precision: byte-identical files for identical inputs
        _union_frame({k: p.equity for k, p in keyed.items()}).to_csv(tmp / "equity.csv", float_format=fmt)
        _union_frame({k: p.exposure for k, p in keyed.items()}).to_csv(tmp / "exposure.csv", float_format=fmt)
        _union_frame(result.prices).to_csv(tmp / "prices.csv", float_format=fmt)
        readings, states = {}, {}
        for p in result.pairs:
            for label in p.run.readings.columns:
                key = f"{label}/{p.asset}"
                if key not in readings:
                    readings[key], states[key] = p.run.readings[label], p.run.states[label]
        _union_frame(readings).to_csv(tmp / "readings.csv", float_format=fmt)
        _union_frame(states).to_csv(tmp / "states.csv", float_format="%.0f")
        events = []
        for p in result.pairs:
            ev = p.run.events()
            events.append(pd.DataFrame({"date": ev["date"].dt.strftime("%Y-%m-%d"), "strategy": p.strategy,
                                        "asset": p.asset, "old_exposure": ev["old"], "new_exposure": ev["new"],
                                        "states": ev["states"]}))
        pd.concat(events, ignore_index=True).to_csv(tmp / "events.csv", index=False, float_format=fmt)
        result.windows.to_csv(tmp / "windows.csv", index=False, float_format=fmt)
        summary = {
            "run": {"name": cfg.name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "config_file": cfg.source, "config_hash": cfg.config_hash,
                    "start": f"{cfg.start:%Y-%m-%d}", "end": f"{result.end:%Y-%m-%d}",
                    "end_limited_by": result.end_limited_by, "fill": cfg.fill, "cash": cfg.cash,
                    "engine": cfg.engine,
                    "annualisation": annualisation_note((p.calendar, "1d") for p in result.pairs),
                    "costs": {k: {"fee_bps": v.fee_bps, "slippage_bps": v.slippage_bps} for k, v in cfg.costs.items()}},
            "config": json.loads(json.dumps(cfg.raw, default=str)),
            "data": {"data_dir": str(result.data_dir), "data_dir_from": result.data_dir_from,
                     "fingerprints": result.fingerprints},
            "versions": versions(),
            "stats": _records(result.stats),
            "windows": [w.as_dict() for w in cfg.windows.values()],
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
        _render(tmp, cfg, keyed, tearsheets, report, say)
    return out


def _render(run_dir: Path, cfg: RunConfig, keyed: dict, tearsheets: bool | str, report: bool, say) -> None:
    """Tearsheets (a process pool) and report.html (this process) rendered at the same time."""
    import threading

    from riskoff.reports import write_report, write_tearsheets

    choice = cfg.tearsheets if tearsheets is True else ("none" if tearsheets is False else tearsheets)
    failure: list[BaseException] = []
    worker = None
    if choice != "none":
        pairs = None if choice == "all" else [k for k in keyed if k.split("/")[0] in choice]
        say(f"rendering {'all' if pairs is None else len(pairs)} tearsheets on {cfg.workers} worker(s) ...")

        def job() -> None:
            try:
                write_tearsheets(run_dir, pairs=pairs, workers=cfg.workers)
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)
        worker = threading.Thread(target=job, name="tearsheets")
        worker.start()
    try:
        if report:
            say("writing report.html ...")
            write_report(run_dir)
    finally:
        if worker is not None:
            worker.join()
    if failure:
        raise failure[0]


def ranking_text(result: RunResult, top: int = 40) -> str:
    """A compact table for the terminal: full-period stats and mean drawdown avoided per pair."""
    st = result.stats.copy()
    if not len(result.windows):
        st["dd_avoided_mean"] = np.nan
    else:
        avoided = result.windows.groupby(["strategy", "asset"])["drawdown_avoided"].mean().rename("dd_avoided_mean")
        st = st.merge(avoided.reset_index(), on=["strategy", "asset"], how="left")
    st = st.sort_values(["asset", "calmar"], ascending=[True, False])
    cols = ["asset", "strategy", "cagr", "max_drawdown", "sharpe", "calmar", "time_in_market",
            "derisk_episodes", "false_alarms", "dd_avoided_mean"]
    with pd.option_context("display.width", 160, "display.max_rows", top, "display.float_format", "{:.3f}".format):
        return st[cols].head(top).to_string(index=False)
