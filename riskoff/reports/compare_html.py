"""``riskoff compare --html``: both runs' frontiers on one chart per asset, headline deltas, and the
tearsheet headline tables of the two runs side by side. One offline page (plotly.js embedded once)."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from riskoff.reports.charts import CHARTS_CHECK_JS, RENDER_JS, chart_block, plotly_js
from riskoff.reports.runfiles import BASELINE, esc
from riskoff.reports.sections import CSS
from riskoff.util.files import atomic_write_text

__all__ = ["write_compare_html", "tearsheet_headline", "TEARSHEET_HEADLINE"]

TEARSHEET_HEADLINE = ("Risk-Free Rate", "Time in Market", "Cumulative Return", "CAGR", "Sharpe", "Sortino",
                      "Max Drawdown", "Volatility (ann.)", "Calmar")


def tearsheet_headline(page: str) -> dict[str, tuple[str, str]]:
    """The headline rows of a tearsheet's metrics table: name -> (benchmark cell, strategy cell)."""
    out = {}
    for name in TEARSHEET_HEADLINE:
        m = re.search(rf"<tr><td>{re.escape(name)}</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
        if m:
            out[name] = (html.unescape(m.group(1)), html.unescape(m.group(2)))
    return out


def _points(table: pd.DataFrame, asset: str) -> list[dict]:
    rows = table[(table["asset"] == asset) & (table["strategy"] != BASELINE)]
    return [{"name": r["strategy"], "x": round(float(r["cagr_given_up"]) * 100, 3),
             "y": round(float(r["mean_dd_avoided"]) * 100, 3), "rank": int(r["rank"]),
             "frontier": bool(r["on_frontier"]), "sig": r["significance"],
             "p": None if pd.isna(r["p_value"]) else float(r["p_value"]),
             "sharpe": "n/a" if pd.isna(r["sharpe_change"]) else f"{r['sharpe_change']:+.2f}"}
            for _, r in rows.iterrows() if pd.notna(r["cagr_given_up"]) and pd.notna(r["mean_dd_avoided"])]


def _deltas_table(deltas: pd.DataFrame, show_all: bool) -> str:
    if deltas.empty:
        return "<p class='muted'>No strategy x asset pair is in both runs.</p>"
    rows = deltas if show_all else deltas[deltas["shown"]]
    if rows.empty:
        return "<p>No headline change of 0.05 pp or more.</p>"
    metrics = [("cagr", "CAGR"), ("max_drawdown", "Max DD"), ("mean_dd_avoided", "Mean DD avoided (pp)")]
    head = "<tr><th>Strategy</th><th>Asset</th>" + "".join(
        f"<th>{label} A</th><th>{label} B</th><th>&Delta; pp</th>" for _, label in metrics) + "<th>Sig. A &rarr; B</th></tr>"

    def pct(x):
        return "&ndash;" if pd.isna(x) else f"{x * 100:.1f}%"

    def signed(x):
        return "&ndash;" if pd.isna(x) else f"{x * 100:+.2f}"

    body = "".join(
        f"<tr><td>{esc(r['strategy'])}</td><td>{esc(r['asset'])}</td>" + "".join(
            f"<td class='n'>{(pct if m != 'mean_dd_avoided' else signed)(r[m + '_a'])}</td>"
            f"<td class='n'>{(pct if m != 'mean_dd_avoided' else signed)(r[m + '_b'])}</td>"
            f"<td class='n'>{signed(r[m + '_delta'])}</td>"
            for m, _ in metrics) + f"<td>{esc(r['sig_a'] or '-')} &rarr; {esc(r['sig_b'] or '-')}</td></tr>"
        for _, r in rows.iterrows())
    return f"<table>{head}{body}</table>"


def _tearsheets(run_a: Path, run_b: Path) -> str:
    names = sorted({p.name for p in (run_a / "tearsheets").glob("*.html")} |
                   {p.name for p in (run_b / "tearsheets").glob("*.html")})
    if not names:
        return "<p class='muted'>Neither run has tearsheets.</p>"
    parts = []
    for name in names:
        a = tearsheet_headline((run_a / "tearsheets" / name).read_text(encoding="utf-8")) \
            if (run_a / "tearsheets" / name).is_file() else {}
        b = tearsheet_headline((run_b / "tearsheets" / name).read_text(encoding="utf-8")) \
            if (run_b / "tearsheets" / name).is_file() else {}
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td class='n'>{esc(a.get(k, ('', '-'))[1])}</td>"
            f"<td class='n'>{esc(b.get(k, ('', '-'))[1])}</td><td class='n muted'>{esc(a.get(k, ('-', ''))[0])}</td>"
            f"<td class='n muted'>{esc(b.get(k, ('-', ''))[0])}</td></tr>" for k in TEARSHEET_HEADLINE
            if k in a or k in b)
        parts.append(f"<div><h3>{esc(name.removesuffix('.html').replace('__', ' on '))}</h3><table><tr><th>Metric</th>"
                     f"<th>A</th><th>B</th><th>A buy &amp; hold</th><th>B buy &amp; hold</th></tr>{rows}</table></div>")
    return "<div class='frontiers'>" + "".join(parts) + "</div>"


def write_compare_html(path: Path, run_a: Path, run_b: Path, summary_a: dict, summary_b: dict, lines: list[str],
                       table_a: pd.DataFrame, table_b: pd.DataFrame, deltas: pd.DataFrame, show_all: bool) -> Path:
    """Write the comparison page (see the module docstring) and return its path."""
    assets = list(dict.fromkeys(list(table_a.get("asset", [])) + list(table_b.get("asset", []))))
    charts = []
    for asset in assets:
        pa, pb = _points(table_a, asset), _points(table_b, asset)
        if pa or pb:
            charts.append("<div>" + chart_block("frontier", {"asset": asset, "points": pa, "points_b": pb}, 360,
                                                f"{asset}: protection vs cost, run A and run B") + "</div>")
    notes = "".join(f"<div class='note'>{esc(line)}</div>" for line in lines)
    body = ("<h1>riskoff run comparison</h1>" + notes
            + "<h2>Protection vs cost: A (filled) and B (hollow, red)</h2>"
            + f"<div class='frontiers'>{''.join(charts)}</div>"
            + "<h2>Headline deltas (B - A)</h2>" + _deltas_table(deltas, show_all)
            + "<h2>Tearsheet headlines side by side</h2>" + _tearsheets(run_a, run_b))
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>riskoff run comparison</title>"
            f"<style>{CSS}</style><script>{plotly_js()}</script></head><body><main>{body}</main>"
            f"<script>{RENDER_JS}{CHARTS_CHECK_JS}</script></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, page)
