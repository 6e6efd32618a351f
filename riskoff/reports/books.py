"""The books' part of the reports: findings sentences and the report.html section.

Read from the run folder only (``book_windows.csv``, ``book_stats.csv``, ``hedge.csv``,
``book_equity.csv``, ``book_weights.csv``, ``summary.json`` -> ``books``), like the other reports.
Per book and window the findings answer one question: did de-risking protect the book (the best
rule's drawdown avoided against the static book), did diversification (the gap between the
sleeves' weighted drawdowns and the static book's), both, or neither; and whether correlations
rose in the window. Protection is always shown next to its cost (CAGR given up, turnover,
trading and rebalancing cost) and its random-timing p-value when the run has one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.evaluation.windows import NOTHING_TO_AVOID
from riskoff.reports.fmt import pct_text, pp_text
from riskoff.reports.protection import PROTECTED_PP

STATIC = "static"
__all__ = ["has_books", "book_findings_lines", "book_section_html", "read_books"]


def has_books(run_dir: str | os.PathLike) -> bool:
    return (Path(run_dir) / "book_windows.csv").exists()


def read_books(run_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """(book_windows, book_stats, hedge, summary["books"])."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    return (pd.read_csv(run_dir / "book_windows.csv"), pd.read_csv(run_dir / "book_stats.csv"),
            pd.read_csv(run_dir / "hedge.csv"), summary.get("books") or {})


def _describe(p: dict) -> str:
    weights = ", ".join(f"{a} {w:.0%}" for a, w in p["weights"].items()) + (
        f", cash {p['cash']:.0%}" if p.get("cash") else "")
    reb = p["rebalance"]
    reb = f"rebalanced when a sleeve drifts {reb['band'] * 100:g} points" if isinstance(reb, dict) else (
        "never rebalanced" if reb == "never" else f"rebalanced {reb}")
    into = p["risk_off_into"]
    into = "cash" if into == "cash" else " + ".join(f"{a} {d:.0%}" for a, d in into.items())
    return f"{weights}; {reb}; freed weight to {into}"


def _p(row) -> str:
    p = row.get("dd_avoided_mean_p")
    if p is None or pd.isna(p):
        return "no p-value"
    mark = "**" if p < 0.01 else "*" if p < 0.05 else ""
    return f"p = {p:.3f}{mark}"


def _window_verdict(best: float, gap: float) -> str:
    derisk = best >= PROTECTED_PP
    diversify = gap >= PROTECTED_PP * 100
    if derisk and diversify:
        return ("both protected; de-risking did more" if best * 100 > gap else "both protected; diversification "
                "did more")
    if derisk:
        return "de-risking protected, diversification did not"
    if diversify:
        return "diversification protected, no rule's de-risking did"
    return "neither protected"


def book_findings_lines(run_dir: str | os.PathLike) -> list[str]:
    """The "Books" section of findings.md (empty when the run has no book)."""
    if not has_books(run_dir):
        return []
    windows, stats, hedge, meta = read_books(run_dir)
    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    names = {w["id"]: w.get("name", w["id"]) for w in summary.get("windows") or []}
    lines = ["", "## Books: de-risking or diversification", "",
             "Each book against its static book (same weights and rebalancing, no rule). Drawdown avoided = the "
             "book's max drawdown in the window minus the static book's (pp, positive = protection); the trough is "
             "the static book's lowest close in the window; exposure = sum of weight x the rule's exposure per "
             "sleeve. Diversification gap = the sleeves' weighted max drawdowns minus the static book's (pp, "
             "positive = the mix fell less than its parts). Correlation = average pairwise correlation of daily "
             "returns at NYSE closes, in the window and the year before (n/a under 15 common returns). "
             + (meta.get("annualisation", "") + "." if meta.get("annualisation") else "")]
    for p in meta.get("portfolios", []):
        name = p["name"]
        lines += ["", f"### Book `{name}` ({_describe(p)})", ""]
        mine = windows[windows["book"] == name]
        for wid in dict.fromkeys(mine["window"]):
            rows = mine[mine["window"] == wid]
            static = rows[rows["strategy"] == STATIC].iloc[0]
            h = hedge[(hedge["book"] == name) & (hedge["window"] == wid)]
            head = (f"- **{names.get(wid, wid)}** (`{wid}`, trough {static['trough']}, static book "
                    f"{pct_text(static['static_max_dd'])})")
            if static["static_max_dd"] > -NOTHING_TO_AVOID:
                lines.append(head + f": nothing to avoid (the static book fell less than {NOTHING_TO_AVOID:.0%}).")
                continue
            rules = rows[rows["strategy"] != STATIC].sort_values("drawdown_avoided", ascending=False)
            prot = rules[rules["drawdown_avoided"] >= PROTECTED_PP]
            parts = [f"`{r['strategy']}` {pct_text(r['book_max_dd'])} ({pp_text(r['drawdown_avoided'])}, exposure "
                     f"{r['exposure_at_trough']:.0%} at the trough"
                     + (f", cut {int(r['lead_time_days'])} d ahead" if pd.notna(r["lead_time_days"]) else "") + ")"
                     for _, r in prot.iterrows()]
            rest = [f"`{s}`" for s in rules["strategy"] if s not in set(prot["strategy"])]
            text = head + ": de-risking protected: " + ("; ".join(parts) if parts else "no rule")
            if rest:
                text += f"; no protection: {', '.join(rest)}"
            best = float(rules["drawdown_avoided"].max()) if len(rules) else float("nan")
            if len(h):
                h = h.iloc[0]
                gap = float(h["diversification_gap_pp"])
                corr = ("n/a" if pd.isna(h["corr_window"]) else f"{h['corr_window']:.2f}")
                before = ("n/a" if pd.isna(h["corr_year_before"]) else f"{h['corr_year_before']:.2f}")
                text += (f". Diversification: sleeves' weighted drawdown {pct_text(h['weighted_asset_dd'])}, gap "
                         f"{gap:+.1f} pp; correlation {corr} in the window vs {before} the year before")
                note = h.get("corr_note")
                if isinstance(note, str) and "asynchronous" in note:
                    text += " (crypto at its 00:00 UTC close: asynchronous)"
                elif isinstance(note, str) and "16:00 New York" in note:
                    text += " (crypto sampled at the NYSE close from its hourly series)"
                text += f". Verdict: {_window_verdict(best, gap)}."
            lines.append(text)
        sub = stats[(stats["book"] == name)]
        base = sub[sub["strategy"] == STATIC]
        if len(base):
            b = base.iloc[0]
            lines += ["", f"Over the whole run the static book has CAGR {pct_text(b['cagr'])}, max drawdown "
                      f"{pct_text(b['max_drawdown'])}, turnover {b['turnover']:.2f}/yr and a rebalancing cost of "
                      f"{b['rebalancing_cost'] * 1e4:.1f} bp/yr.", ""]
        lines += ["| rule | mean DD avoided | windows protected | CAGR given up | turnover/yr | trading cost | "
                  "rebalancing cost | random-timing p | CAGR vs static [interval] |", "|---|---|---|---|---|---|---|---|---|"]
        for _, r in sub[sub["strategy"] != STATIC].iterrows():
            w = mine[(mine["strategy"] == r["strategy"]) & (mine["static_max_dd"] <= -NOTHING_TO_AVOID)]
            mean = w["drawdown_avoided"].mean() if len(w) else np.nan
            n_prot = int((w["drawdown_avoided"] >= PROTECTED_PP).sum())
            ci = ("n/a" if "cagr_diff_lo" not in r or pd.isna(r.get("cagr_diff_lo")) else
                  f"{pp_text(r['cagr_diff'])} [{pp_text(r['cagr_diff_lo'], unit='')}, {pp_text(r['cagr_diff_hi'], unit='')}]")
            lines.append(f"| `{r['strategy']}` | {pp_text(mean)} | {n_prot}/{len(w)} | {pp_text(r['cagr_given_up'])}/yr | "
                         f"{r['turnover']:.1f} | {r['trading_cost'] * 1e4:.1f} bp/yr | "
                         f"{r['rebalancing_cost'] * 1e4:.1f} bp/yr | {_p(r)} | {ci} |")
    lines += ["", "Mean DD avoided and windows protected count the windows where the static book fell at least "
              f"{NOTHING_TO_AVOID:.0%}. Random-timing p: the book's mean drawdown avoided against the same rule with "
              "all sleeves shifted by one common random offset (** p < 0.01, * p < 0.05). Turnover: traded notional "
              "over the book's value per year; costs: fees and slippage per year (rebalancing cost: orders caused "
              "only by calendar or band rebalancing)."]
    return lines


def book_section_html(run_dir: str | os.PathLike) -> str:
    """The report's book section: per book a protection-vs-cost frontier, equity vs the static
    book, sleeve weights over time (stacked area) and the hedge check table. Empty without books."""
    if not has_books(run_dir):
        return ""
    import plotly.graph_objects as go

    from riskoff.reports.runfiles import esc

    run_dir = Path(run_dir)
    windows, stats, hedge, meta = read_books(run_dir)
    equity = pd.read_csv(run_dir / "book_equity.csv", index_col=0, parse_dates=True)
    weights = pd.read_csv(run_dir / "book_weights.csv", index_col=0, parse_dates=True)
    out = [f"<p>Each book against its static book (same weights and rebalancing, no rule). "
           f"{esc(meta.get('annualisation', ''))}.</p>"]

    def fig_html(fig) -> str:
        fig.update_layout(height=320, margin=dict(l=50, r=20, t=40, b=30), template="plotly_white")
        return fig.to_html(full_html=False, include_plotlyjs=False)

    for p in meta.get("portfolios", []):
        name = p["name"]
        out.append(f"<h3>Book {esc(name)}</h3><p>{esc(_describe(p))}</p>")
        sub = stats[(stats["book"] == name) & (stats["strategy"] != STATIC)]
        mine = windows[(windows["book"] == name) & (windows["static_max_dd"] <= -NOTHING_TO_AVOID)]
        avoided = [mine[mine["strategy"] == s]["drawdown_avoided"].mean() * 100 for s in sub["strategy"]]
        fr = go.Figure(go.Scatter(x=sub["cagr_given_up"] * 100, y=avoided, mode="markers+text",
                                  text=list(sub["strategy"]), textposition="top center"))
        fr.update_layout(title="protection vs cost", xaxis_title="CAGR given up (pp/yr)",
                         yaxis_title="mean drawdown avoided (pp)")
        out.append(fig_html(fr))
        eq = go.Figure()
        for col in [c for c in equity.columns if c.startswith(f"{name}/")]:
            eq.add_trace(go.Scatter(x=equity.index, y=equity[col], name=col.split("/", 1)[1],
                                    line=dict(width=2.5 if col.endswith("/static") else 1.2)))
        eq.update_layout(title="equity vs the static book", yaxis_type="log")
        out.append(fig_html(eq))
        for strategy in sub["strategy"]:
            cols = [c for c in weights.columns if c.startswith(f"{name}/{strategy}/")]
            area = go.Figure()
            for c in cols:
                area.add_trace(go.Scatter(x=weights.index, y=weights[c].ffill(), name=c.rsplit("/", 1)[1],
                                          stackgroup="w", mode="none"))
            area.update_layout(title=f"sleeve weights: {strategy}", yaxis_range=[0, 1])
            out.append(fig_html(area))
        h = hedge[hedge["book"] == name]
        if len(h):
            # one row per window: each sleeve's own fall, the mix's, the gap and the correlations
            sleeves = [f"max_dd:{a}" for a in p["weights"] if f"max_dd:{a}" in h]
            cols = ["window", *sleeves, "static_max_dd", "weighted_asset_dd", "diversification_gap_pp", "corr_window",
                    "corr_year_before", "n_window", "corr_note"]
            table = h[cols].copy()
            for c in (*sleeves, "static_max_dd", "weighted_asset_dd"):
                table[c] = table[c].map(pct_text)
            out.append("<h4>Hedge check</h4>" + table.to_html(index=False, na_rep="n/a", float_format="%.2f",
                                                               classes="hedge"))
    return "\n".join(out)
