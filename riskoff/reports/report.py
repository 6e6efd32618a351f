"""The run report: one self-contained, offline HTML page built from a finished run folder.

The report only reads the files the runner leaves in a run folder (``summary.json``,
``windows.csv``, ``equity.csv``, ``exposure.csv``, ``prices.csv``, ``readings.csv``,
``states.csv``, ``events.csv``), so it can be rebuilt at any time without re-running a backtest.
Charts are interactive plotly charts drawn in the browser from compact JSON data; plotly.js (the copy
the plotly package installs) is embedded once, so the page works offline. Every name that comes from a
user goes through :func:`html.escape` (tables) or escaped JSON (charts) before it reaches the page.

The page opens with protection next to its cost: a protection-vs-cost frontier per asset and the
ranking (see :mod:`riskoff.reports.protection` for the ordering rule).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.reports.browser import dump_dom, find_chromium, screenshot
from riskoff.reports.charts import (
    CHARTS_CHECK_JS,
    RENDER_JS,
    chart_block,
    compact,
    day_deltas,
    label_levels,
    log_ticks,
    plotly_js,
)
from riskoff.reports.fmt import date
from riskoff.reports.protection import protection_table
from riskoff.reports.runfiles import (
    BASELINE,
    Window,
    asset_windows,
    esc,
    ordered,
    periods_per_year,
    read_dated_csv,
    read_events,
    read_summary,
    read_windows_table,
    split_column,
    stats_frame,
    window_meta,
)
from riskoff.reports.sections import (
    CSS,
    SORT_JS,
    events_table,
    header,
    heatmaps,
    ranking,
    risk_free_note,
    window_table,
)
from riskoff.reports.significance import merge_significance, significance_note

ZOOM_BEFORE = pd.Timedelta(days=30)
ZOOM_AFTER = pd.Timedelta(days=60)
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#393b79", "#ad494a"]

__all__ = ["write_report", "screenshot", "dump_dom", "find_chromium", "CHARTS_CHECK_JS", "observed_switch_levels"]


def _windows_json(windows: list[Window], lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict]:
    epoch = pd.Timestamp("1970-01-01")
    inside = [w for w in windows if w.end >= lo and w.start <= hi]
    levels = label_levels([(w.start, w.id) for w in inside], lo, hi, levels=4)
    return [{"id": w.id, "s": (w.start - epoch).days, "e": (w.end - epoch).days, "level": lv}
            for w, lv in zip(inside, levels)]


def _frontier_chart(asset: str, table: pd.DataFrame) -> str:
    rows = table[(table["asset"] == asset) & (table["strategy"] != BASELINE)]
    points = [{"name": r["strategy"], "x": round(float(r["cagr_given_up"]) * 100, 3),
               "y": round(float(r["mean_dd_avoided"]) * 100, 3), "rank": int(r["rank"]),
               "frontier": bool(r["on_frontier"]), "sig": r["significance"],
               "p": None if pd.isna(r["p_value"]) else float(r["p_value"]),
               "sharpe": "n/a" if pd.isna(r["sharpe_change"]) else f"{r['sharpe_change']:+.2f}"}
              for _, r in rows.iterrows() if pd.notna(r["cagr_given_up"]) and pd.notna(r["mean_dd_avoided"])]
    if not points:
        return ""
    return chart_block("frontier", {"asset": asset, "points": points}, 340, f"{asset} protection vs cost")


def _equity_chart(asset: str, equity: pd.DataFrame, table: pd.DataFrame, windows: list[Window]) -> str:
    base = f"{BASELINE}/{asset}"
    if base not in equity:
        return ""
    order = [s for s in table.loc[(table["asset"] == asset) & (table["strategy"] != BASELINE), "strategy"]
             if f"{s}/{asset}" in equity]
    if not order:
        return ""
    frame = equity[[base] + [f"{s}/{asset}" for s in order]].dropna(how="all")
    rows = table.set_index(["strategy", "asset"])
    labels = {s: (f"#{int(rows.loc[(s, asset), 'rank'])} {s}: avoids {rows.loc[(s, asset), 'mean_dd_avoided'] * 100:+.1f} pp, "
                  f"gives up {rows.loc[(s, asset), 'cagr_given_up'] * 100:+.2f} pp/yr")
              if pd.notna(rows.loc[(s, asset), "mean_dd_avoided"]) and pd.notna(rows.loc[(s, asset), "cagr_given_up"])
              else s for s in order}
    positive = bool((frame > 0).all().all())
    span = float(frame.max().max() / max(frame.min().min(), 1e-12)) if positive else 1.0
    data = {"asset": asset, "t": day_deltas(frame.index), "bh": compact(frame[base]),
            "series": {s: compact(frame[f"{s}/{asset}"]) for s in order}, "order": order, "first": order[0],
            "labels": labels, "colors": {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(order)},
            "log": positive and span > 4,
            # major ticks only (1-2-5 per decade or powers of ten), labelled in full
            "ticks": log_ticks(float(frame.min().min()), float(frame.max().max()))
            if positive and span > 4 else None,
            "windows": _windows_json(windows, frame.index[0], frame.index[-1])}
    return chart_block("equity", data, 470, f"{asset} equity and drawdown, one strategy against buy and hold")


def _exposure_chart(asset: str, exposure: pd.DataFrame, strategies: list[str], windows: list[Window]) -> str:
    cols = [s for s in strategies if s != BASELINE and f"{s}/{asset}" in exposure]
    if not cols:
        return ""
    frame = exposure[[f"{s}/{asset}" for s in cols]].dropna(how="all")
    data = {"asset": asset, "t": day_deltas(frame.index), "rows": cols,
            "z": [compact(frame[f"{s}/{asset}"], 3) for s in cols], "left": _left_margin(cols),
            "windows": _windows_json(windows, frame.index[0], frame.index[-1])}
    return (f"<h3>{esc(asset)}</h3>"
            + chart_block("exposure", data, 40 + 20 * len(cols), f"{asset} exposure per strategy"))


def _left_margin(names: list[str]) -> int:
    return int(min(300, 50 + 6.6 * max((len(n) for n in names), default=8)))


def observed_switch_levels(reading: pd.Series, state: pd.Series) -> list[dict]:
    """The reading levels at which a signal switched into caution (1) and risk-off (2), where consistent.

    Signals declare their thresholds in their own units and some combine several inputs, so the level
    is read off the run itself: the readings on the bars where the state first rose to ``s``. A level
    is drawn only when those entries agree (their interquartile range is under 5% of the reading's
    range over the run); otherwise the signal has no single switch level on this reading.

    Returns:
        ``[{"s": state, "v": level}]`` (median entry reading), possibly empty.
    """
    both = pd.concat({"r": reading, "s": state}, axis=1).dropna()
    if both.empty:
        return []
    span = float(both["r"].max() - both["r"].min())
    out = []
    for s in (1, 2):
        entries = both["r"][(both["s"] >= s) & (both["s"].shift() < s)]
        if len(entries) >= 2 and span > 0:
            q25, q50, q75 = entries.quantile([0.25, 0.5, 0.75])
            if q75 - q25 < 0.05 * span:
                out.append({"s": s, "v": float(f"{q50:.4g}")})
    return out


def _state_runs(states: pd.Series) -> list[list[int]]:
    """[start day, stop day, state] runs of equal consecutive caution/risk-off states, for shading."""
    s = states.dropna()
    if s.empty:
        return []
    vals = s.to_numpy()
    days = ((s.index - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy()
    cuts = np.flatnonzero(np.diff(vals) != 0) + 1
    starts, stops = np.r_[0, cuts], np.r_[cuts, len(vals)]
    # A run lasts until the next bar (or one day past the last bar).
    return [[int(days[a]), int(days[b]) if b < len(days) else int(days[-1]) + 1, int(vals[a])]
            for a, b in zip(starts, stops) if vals[a] in (1, 2)]


def _window_chart(w: Window, asset: str, prices, readings, states, exposure, strategies: list[str],
                  levels: dict[str, list[dict]]) -> str:
    lo, hi = w.start - ZOOM_BEFORE, w.end + ZOOM_AFTER
    price = prices[asset].loc[lo:hi] if prices is not None and asset in prices else pd.Series(dtype=float)
    signal_cols = [c for c in (readings.columns if readings is not None else []) if split_column(c)[1] == asset]
    exp_cols = [s for s in strategies if s != BASELINE and exposure is not None and f"{s}/{asset}" in exposure]
    # Keyed by role: a signal alone as a rule has the same "name/asset" label as its reading.
    parts = {("price", ""): price} | {("reading", c): readings[c].loc[lo:hi] for c in signal_cols}
    parts |= {("exposure", s): exposure[f"{s}/{asset}"].loc[lo:hi] for s in exp_cols}
    frame = pd.concat(parts, axis=1).dropna(how="all")
    if frame.empty:
        return ""
    panels = []
    for c in signal_cols:
        st = states[c].loc[lo:hi] if states is not None and c in states else pd.Series(dtype=float)
        r = frame[("reading", c)]
        lo_r, hi_r = r.min(), r.max()
        pad = 0.25 * (hi_r - lo_r) if hi_r > lo_r else 1.0
        # Only levels near the visible readings: a far-off line would flatten the panel.
        near = [t for t in levels.get(c, []) if lo_r - pad <= t["v"] <= hi_r + pad]
        panels.append({"name": split_column(c)[0], "r": compact(r), "states": _state_runs(st), "thresholds": near})
    data = {"t": day_deltas(frame.index), "price": compact(frame[("price", "")]), "panels": panels,
            "left": _left_margin([p["name"] for p in panels] + exp_cols + ["close"]),
            "start": f"{w.start:%Y-%m-%d}", "end": f"{w.end:%Y-%m-%d}",
            "trough": f"{w.trough:%Y-%m-%d}" if w.trough is not None else None,
            "exp": {"rows": exp_cols, "z": [compact(frame[("exposure", s)], 3) for s in exp_cols]} if exp_cols else None}
    height = int(30 + 150 + 80 * len(panels) + max(60, 16 * len(exp_cols)))
    return chart_block("window", data, height, f"{w.name} {asset}: price, signal readings, exposure")


def _annualisation_note(stats: pd.DataFrame, assets: list[str], equity: pd.DataFrame | None,
                        summary: dict) -> str:
    parts = []
    for a in assets:
        cols = [c for c in equity.columns if split_column(c)[1] == a] if equity is not None else []
        series = equity[cols[0]] if cols else None
        ppy = periods_per_year(a, stats, series)
        why = "calendar days, the asset trades every day" if ppy == 365 else "US trading days"
        parts.append(f"<b>{esc(a)}</b>: {ppy} periods/year ({why})")
    if not parts:
        return ""
    return ("Annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar) use each asset's own calendar: "
            + "; ".join(parts) + f". Sharpe and Sortino: {esc(risk_free_note(summary))}.")


def write_report(run_dir: str | os.PathLike) -> Path:
    """Build ``RUN/report.html``: one self-contained, offline page comparing the run's strategies.

    Sections: header and how to read it; protection vs cost (a frontier chart per asset and the
    ranking with CAGR given up, Sharpe change and significance marks); the strategy x window outcome
    table; equity and drawdown (one strategy against buy & hold, chosen in a selector); exposure rows;
    a zoomed panel per window; appendix. Sections whose input file is missing are left out.

    Args:
        run_dir: a finished run folder (see the module docstring for its files).

    Returns:
        The path of the written ``report.html``.
    """
    t0 = time.perf_counter()
    run_dir = Path(run_dir).resolve()
    summary = read_summary(run_dir)
    stats = stats_frame(summary)
    wtable = read_windows_table(run_dir)
    equity = read_dated_csv(run_dir / "equity.csv")
    exposure = read_dated_csv(run_dir / "exposure.csv")
    prices = read_dated_csv(run_dir / "prices.csv")
    readings = read_dated_csv(run_dir / "readings.csv")
    states = read_dated_csv(run_dir / "states.csv")
    events = read_events(run_dir)
    meta = window_meta(summary)
    events_by_asset = ({a: g.sort_values("date", kind="stable") for a, g in events.groupby("asset", sort=False)}
                       if events is not None else {})

    col_pairs = [split_column(c) for c in (equity.columns if equity is not None else [])]
    assets = ordered(list(stats.get("asset", [])), [a for _, a in col_pairs] + list(wtable["asset"].unique()))
    strategies = ordered(([BASELINE] if BASELINE in set(stats.get("strategy", [])) or
                          any(s == BASELINE for s, _ in col_pairs) else []) + list(stats.get("strategy", [])),
                         [s for s, _ in col_pairs] + list(wtable["strategy"].unique()))
    table = protection_table(merge_significance(stats, summary), wtable, assets)
    levels = ({c: observed_switch_levels(readings[c], states[c]) for c in readings.columns if c in states}
              if readings is not None and states is not None else {})

    sections: list[tuple[str, str, str]] = []  # (anchor, title, html)
    frontiers = "".join(f"<div>{_frontier_chart(a, table)}</div>" for a in assets) if not table.empty else ""
    sections.append(("protection", "Protection vs cost",
                     (f"<div class='frontiers'>{frontiers}</div>" if frontiers else "") + ranking(table)
                     + significance_note(summary)))
    sections.append(("heatmap", "Per window: protected, held through or nothing to avoid",
                     heatmaps(wtable, assets, strategies, meta)))
    if equity is not None and not table.empty:
        sections.append(("equity", "Equity and drawdown", "".join(
            _equity_chart(a, equity, table, asset_windows(a, wtable, meta)) for a in assets)))
    if exposure is not None:
        sections.append(("exposure", "Exposure timeline (dark = invested, light = cash)", "".join(
            _exposure_chart(a, exposure, strategies, asset_windows(a, wtable, meta)) for a in assets)))

    from riskoff.reports.books import book_section_html
    books = book_section_html(run_dir)
    if books:
        sections.append(("books", "Books: de-risking or diversification", books))

    # One block per window, in chronological order, with one zoomed panel per asset the window hit.
    win_html = []
    all_windows: dict[str, list[tuple[str, Window]]] = {}
    for a in assets:
        for w in asset_windows(a, wtable, meta):
            all_windows.setdefault(w.id, []).append((a, w))
    for wid, items in sorted(all_windows.items(), key=lambda kv: kv[1][0][1].start):
        w0 = items[0][1]
        m = w0.meta
        info = (f"<p><b>{date(w0.start)}</b> to <b>{date(w0.end)}</b>"
                + (f", trough {date(m.get('trough') or w0.trough)}" if (m.get("trough") or w0.trough) else "")
                + (f", sample: {esc(m.get('sample'))}" if m.get("sample") else "") + ". "
                + esc(m.get("description", "")) + "</p>"
                + (f"<p class='small muted'>Source: {esc(m.get('source'))}</p>" if m.get("source") else ""))
        blocks = []
        hit = [a for a, _ in items if a in set(m.get("assets") or [])] or [items[0][0]]
        for asset, w in items:
            rows = wtable[(wtable["window"] == wid) & (wtable["asset"] == asset)]
            chart = (_window_chart(w, asset, prices, readings, states, exposure, strategies, levels)
                     if asset in hit else "<p class='muted small'>Not among the assets this window hit most; "
                                          "metrics only.</p>")
            blocks.append(f"<h3>{esc(w.name)} &mdash; {esc(asset)}</h3>"
                          + (f"<p class='small muted'>Trough for {esc(asset)}: {date(w.trough)}</p>"
                             if w.trough is not None else "")
                          + (window_table(rows) if not rows.empty else "")
                          + (chart or "<p class='muted'>No price, reading or exposure data in range.</p>")
                          + events_table(events_by_asset.get(asset), w.start - ZOOM_BEFORE, w.end + ZOOM_AFTER))
        win_html.append(f"<section class='window' id='w-{esc(re.sub(r'[^A-Za-z0-9_-]', '_', wid))}'>"
                        f"<h2>Window: {esc(w0.name)} <span class='muted small'>({esc(wid)})</span></h2>"
                        f"{info}{''.join(blocks)}</section>")

    fps = summary["data"].get("fingerprints") or {}
    appendix = ("<details><summary>Data fingerprints (" + str(len(fps)) + " series)</summary><table>"
                "<tr><th>Series</th><th>sha256</th></tr>"
                + "".join(f"<tr><td>{esc(k)}</td><td><code>{esc(v)}</code></td></tr>" for k, v in fps.items())
                + "</table></details><details><summary>Run configuration</summary><pre>"
                + esc(json.dumps(summary["config"], indent=2, sort_keys=True, default=str)) + "</pre></details>")

    nav = "<nav class='small'>" + "".join(f"<a href='#{a}'>{esc(t.split(':')[0])}</a>" for a, t, _ in sections) + \
          ("<a href='#windows'>Sell-off windows</a>" if win_html else "") + "<a href='#appendix'>Appendix</a></nav>"
    name = summary["run"].get("name") or run_dir.name
    body = (header(summary, run_dir, _annualisation_note(stats, assets, equity, summary)) + nav
            + "".join(f"<h2 id='{a}'>{esc(t)}</h2>{h}" for a, t, h in sections)
            + (f"<div id='windows'>{''.join(win_html)}</div>" if win_html else "")
            + f"<h2 id='appendix'>Appendix</h2>{appendix}"
            + f"<p class='small muted'>Built in {time.perf_counter() - t0:.1f} s by riskoff.reports; charts by "
              "plotly.js (MIT), embedded.</p>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>riskoff report: {esc(name)}</title><style>{CSS}</style>"
            f"<script>{plotly_js()}</script></head>"
            f"<body><main>{body}</main><script>{SORT_JS}{RENDER_JS}{CHARTS_CHECK_JS}</script></body></html>")
    out = run_dir / "report.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
