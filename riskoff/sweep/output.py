"""Output: the sweep folder (written through riskoff.run.folder) and its HTML report."""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.run import folder as run_folder
from riskoff.significance.sweep import sweep_overfitting
from riskoff.sweep.backends import SweepResult
from riskoff.sweep.config import MINIMISED, OBJECTIVE_DD, SweepConfig, WalkForwardSpec
from riskoff.sweep.grid import combo_indices
from riskoff.sweep.selection import lattice
from riskoff.util.config_helpers import jsonable

# =============================================================================================
# Output
# =============================================================================================
OVERFITTING_NOTE = (
    "n_trials = combinations scored; dsr = Deflated Sharpe Ratio of the selected (rank 1) combination "
    "(Bailey & Lopez de Prado 2014; > 0.95 = significant at 5% after the number of trials), sr0 = the "
    "annualised Sharpe the best of n_trials skill-less trials reaches by chance; spa_p_* = Hansen's SPA "
    "p-values (arch) of 'none of the top cells beats buy & hold', on the top 50 cells by the ranking metric "
    "(cells below the top 50 are left out: SPA is driven by the best cells, so the test is at most slightly "
    "liberal); pbo = Probability of Backtest Overfitting by combinatorially symmetric cross-validation "
    "(Bailey, Borwein, Lopez de Prado & Zhu; 16 blocks, every scored cell, Sharpe in excess of cash): the share "
    "of the 12,870 in/out-of-sample splits whose in-sample winner ranks below the out-of-sample median "
    "(near 0.5 or above = the selection is noise); pbo_slope = out-of-sample vs in-sample Sharpe of the winner; "
    "pbo_prob_oos_loss = share of splits where the winner lost out of sample.")


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
        ovf = sweep_overfitting(result)  # skill or luck: trials, DSR of the selected cell, SPA, PBO
        ovf.to_csv(tmp / "overfitting.csv", index=False, float_format=fmt)
        summary = _summary(result)
        summary["overfitting"] = {"method": OVERFITTING_NOTE, "assets": json.loads(ovf.to_json(orient="records"))}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        if html_report:
            (tmp / "sweep.html").write_text(_with_overfitting(render_html(result), ovf), encoding="utf-8")
    return out


def _best_rows(result: SweepResult) -> list[dict[str, Any]]:
    out = []
    for asset, g in result.results.groupby("asset", sort=False):
        r = g.sort_values("rank").iloc[0]
        st = g.loc[g["stability"].idxmax()] if g["stability"].notna().any() else r
        out.append({"asset": asset, "best": {k: jsonable(r[k]) for k in ["combo", *result.config.keys,
                                                                           result.config.metric, "stability"]},
                    "most_stable": {k: jsonable(st[k]) for k in ["combo", *result.config.keys,
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
        "grid": {d.key: [jsonable(v) for v in d.values] for d in cfg.dims},
        "segments": [{"name": n, "start": f"{a:%Y-%m-%d}", "end": f"{b:%Y-%m-%d}"} for n, a, b in plan.segments],
        "best": _best_rows(result),
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
        "data_dir": plan.data_dir,
        "config": jsonable(cfg.raw),
        "run_config": {"file": cfg.run.source, "config": jsonable(cfg.run.raw)},
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
    lat = lattice(cfg, g["combo"].to_numpy(), values)
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

    from riskoff.util.mpl import configure
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


def _with_overfitting(page: str, overfitting: pd.DataFrame) -> str:
    """The sweep page with the skill-or-luck section (``sweep_overfitting``) before its end."""
    if not len(overfitting):
        return page
    section = ("<h2>Skill or luck: overfitting statistics</h2>"
               f"<p class='note'>{_esc(OVERFITTING_NOTE)}</p>" + _table_html(overfitting) + "\n")
    head, tail = page.rsplit("</body>", 1)
    return head + section + "</body>" + tail


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


