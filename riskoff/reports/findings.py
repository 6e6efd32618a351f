"""``findings.md``: what a run finds, in sentences generated from its own numbers.

Every run writes it (it only reads the run folder, like the other reports). Per sell-off window and
asset it names the rules that were out at the trough and how far ahead they cut, the rules that had
only cut part of the way, and how many held through, with the drawdowns; overall, per asset, each
rule's protection next to its cost (and its random-timing significance when the run has p-values),
in the report's ranking order.

The README quotes this file verbatim between two markers (:func:`readme_with_findings`), and a test
fails when the two drift apart, so the README's claims are always the run's.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from riskoff.evaluation.windows import format_instant
from riskoff.reports.fmt import pct_text, pp_text
from riskoff.reports.protection import (
    HELD_EXPOSURE,
    MEAN_RULE,
    NOTHING_TO_AVOID,
    ORDERING_RULE,
    PROTECTED_PP,
    protection_table,
    window_outcome,
)
from riskoff.reports.runfiles import (
    BASELINE,
    read_summary,
    read_windows_table,
    stats_frame,
)
from riskoff.reports.significance import merge_significance

__all__ = ["findings_markdown", "write_findings", "readme_with_findings", "README_START", "README_END"]

README_START = "<!-- findings:start (generated from findings.md of the default run; do not edit by hand) -->"
README_END = "<!-- findings:end -->"
_OUT = 1e-6       # exposure at or below this at the trough = out of the market


def _names(items: list[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _window_lines(summary: dict, windows: pd.DataFrame, assets: list[str]) -> list[str]:
    """Per window and asset hit: the rules in each outcome class of the report's outcome table
    (:func:`riskoff.reports.protection.window_outcome`, one classification everywhere), with their
    drawdown, the points they avoided and how far ahead of the trough they cut."""
    lines = []
    for meta in sorted(summary.get("windows") or [], key=lambda w: str(w.get("start"))):
        wid = str(meta.get("id"))
        rows = windows[windows["window"] == wid]
        if rows.empty:
            continue
        hit = [a for a in assets if a in set(meta.get("assets") or []) and a in set(rows["asset"])] \
            or [a for a in assets if a in set(rows["asset"])]
        parts = []
        for asset in hit:
            r = rows[(rows["asset"] == asset) & (rows["strategy"] != BASELINE)].copy()
            bh = rows[(rows["asset"] == asset) & (rows["strategy"] == BASELINE)]
            if r.empty or bh.empty:
                continue
            bh = bh.iloc[0]
            r["_outcome"] = r.apply(window_outcome, axis=1)
            # an intraday asset's row carries lead_time_hours: speak in hours and give the trough's UTC time
            hourly = "lead_time_hours" in rows and bool(r["lead_time_hours"].notna().any())
            at_trough = "at the trough hour" if hourly else "at the trough"

            def lead(x) -> str:
                if hourly:
                    h = x["lead_time_hours"]
                    if pd.isna(h) or h <= 0:
                        return "cut in the trough hour"
                    return f"cut {h * 60:.0f} min ahead" if h < 1 else f"cut {h:.0f} h ahead"
                d = x["lead_time_days"]
                return "cut on the trough day" if pd.isna(d) or d <= 0 else f"cut {int(d)} d ahead"

            def where(x) -> str:
                e = x["exposure_at_trough"]
                if pd.isna(e) or e >= HELD_EXPOSURE:  # cut before the trough and back in by it: no lead time to give
                    return "back in by the trough"
                return (f"out {at_trough}, {lead(x)}" if e <= _OUT
                        else f"at {e * 100:.0f}% {at_trough}, {lead(x)}")

            trough = format_instant(bh["trough"])
            text = f"{asset} (trough {trough}, buy & hold {pct_text(bh['bh_max_dd'])})"
            groups = {k: r[r["_outcome"] == k] for k in ("protected", "no_gain", "worse", "held", "nothing")}
            bits = []
            if len(groups["nothing"]) == len(r):
                bits.append(f"nothing to avoid (buy & hold fell less than {NOTHING_TO_AVOID:.0%})")
            prot = groups["protected"].sort_values(["drawdown_avoided", "strategy"], ascending=[False, True])
            if len(prot):
                bits.append("protected: " + "; ".join(
                    f"`{x['strategy']}` {pct_text(x['strategy_max_dd'])} ({pp_text(x['drawdown_avoided'])}, {where(x)})"
                    for _, x in prot.iterrows()))
            cut = groups["no_gain"].sort_values("strategy")
            if len(cut):
                bits.append("cut, no gain: " + "; ".join(
                    f"`{x['strategy']}` {pct_text(x['strategy_max_dd'])} (at {x['exposure_at_trough'] * 100:.0f}% "
                    f"{at_trough})" for _, x in cut.iterrows()))
            worse = groups["worse"].sort_values(["drawdown_avoided", "strategy"])
            if len(worse):
                bits.append("worse: " + "; ".join(
                    f"`{x['strategy']}` {pct_text(x['strategy_max_dd'])} ({pp_text(x['drawdown_avoided'])})"
                    for _, x in worse.iterrows()))
            held = groups["held"]
            if len(held):
                who = _names([f"`{s}`" for s in sorted(held["strategy"])], 4)
                bits.append(f"held through: {len(held)} of {len(r)} rules ({who})" if len(held) < len(r)
                            else f"every rule ({len(r)}) held through")
            parts.append(f"  - {text}: " + "; ".join(bits) + ".")
        if parts:
            lines.append(f"- **{meta.get('name', wid)}** (`{wid}`, {meta.get('start')} to {meta.get('end')}):")
            lines.extend(parts)
    return lines


def _cost_lines(stats: pd.DataFrame, windows: pd.DataFrame, assets: list[str]) -> list[str]:
    table = protection_table(stats, windows, assets)
    has_p = table["p_value"].notna().any()
    lines = []
    for asset in assets:
        sub = table[table["asset"] == asset]
        if sub.empty:
            continue
        bh = sub[sub["strategy"] == BASELINE]
        bh_text = (f"buy & hold CAGR {pct_text(bh.iloc[0]['cagr'])}, max drawdown {pct_text(bh.iloc[0]['max_drawdown'])}"
                   if len(bh) else "no buy & hold row")
        lines += ["", f"**{asset}** ({bh_text}):", "",
                  "| # | rule | mean DD avoided | windows protected | all windows | CAGR given up | Sharpe change |"
                  + (" random-timing p |" if has_p else ""),
                  "|---|---|---|---|---|---|---|" + ("---|" if has_p else "")]
        for _, r in sub[sub["strategy"] != BASELINE].iterrows():
            front = "**" if r["on_frontier"] else ""
            sharpe = "n/a" if pd.isna(r["sharpe_change"]) else f"{round(r['sharpe_change'], 2) + 0.0:+.2f}"
            p = "" if not has_p else (" n/a |" if pd.isna(r["p_value"])
                                      else f" {r['p_value']:.3f}{r['significance']} |")
            lines.append(f"| {int(r['rank'])} | {front}`{r['strategy']}`{front} | {pp_text(r['mean_dd_avoided'])} | "
                         f"{int(r['windows_protected'] or 0)}/{int(r['n_windows'] or 0)} | "
                         f"{pp_text(r['mean_dd_avoided_all'])} ({int(r['n_windows_all'] or 0)}) | "
                         f"{pp_text(r['cagr_given_up'])}/yr | {sharpe} |" + p)
    sig = ("Significance: random-timing p-value of the mean drawdown avoided (** p < 0.01, * p < 0.05)."
           if has_p else "Significance: this run has no random-timing p-values, so no rule's protection is "
                         "shown to beat luck.")
    return lines + ["", f"Bold rules are on the protection-vs-cost frontier. {MEAN_RULE} {ORDERING_RULE} {sig}"]


def findings_markdown(run_dir: str | os.PathLike) -> str:
    """The findings of one run folder as Markdown (deterministic: same run files, same text)."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    stats = merge_significance(stats_frame(summary), summary)
    windows = read_windows_table(run_dir)
    run = summary.get("run") or {}
    assets = list(dict.fromkeys(stats["asset"])) if len(stats) else []
    limited = run.get("end_limited_by")
    head = [
        "# What the run finds", "",
        f"Run `{run.get('name', run_dir.name)}` (`{run.get('config_file', '?')}`), {run.get('start', '?')} to "
        f"{run.get('end', '?')}" + (f" (end limited by {limited})" if limited and limited != "config" else "") + ". "
        "Generated from this run's `windows.csv` and `summary.json`. Drawdown avoided = the rule's max drawdown "
        "inside a window minus buy & hold's, in percentage points (positive = protection); CAGR given up = buy & "
        "hold's CAGR minus the rule's over the whole run.", "",
        "## Per window: who was out before the trough", "",
        "For each asset the window hit, the rules by outcome, as in the report's outcome table: protected (at "
        f"least {PROTECTED_PP * 100:.1f} pp of buy & hold's drawdown avoided; with the rule's max drawdown in the "
        "window, the points avoided, its exposure at the trough and how many days before the trough it first cut"
        + (", in hours before the trough's UTC hour on an intraday asset"
           if "lead_time_hours" in windows and windows["lead_time_hours"].notna().any() else "")
        + "), cut with no gain, worse than buy & hold, and held through; a window where buy & hold fell less than "
        f"{NOTHING_TO_AVOID:.0%} had nothing to avoid.", ""]
    body = _window_lines(summary, windows, assets) if len(windows) else ["No windows were evaluated."]
    skipped = summary.get("windows_skipped") or []
    if skipped:
        body += ["", "Not evaluated: " + "; ".join(f"`{s['window']}` ({s['reason']})" for s in skipped) + "."]
    cost = ["", "## Protection and its cost over the whole run"] + _cost_lines(stats, windows, assets)
    from riskoff.reports.books import book_findings_lines
    return "\n".join(head + body + cost + book_findings_lines(run_dir)) + "\n"


def write_findings(run_dir: str | os.PathLike) -> Path:
    """Write ``RUN/findings.md`` and return its path."""
    path = Path(run_dir) / "findings.md"
    path.write_text(findings_markdown(run_dir), encoding="utf-8")
    return path


def readme_with_findings(readme: str, findings: str) -> str:
    """``readme`` with the text between :data:`README_START` and :data:`README_END` replaced.

    The findings' own title is dropped and its ``##`` headings become ``####`` so they nest under the
    README section that quotes them.
    """
    if README_START not in readme or README_END not in readme:
        raise ValueError("README has no findings markers "
                         f"({README_START!r} ... {README_END!r})")
    body = findings.split("\n", 2)[2] if findings.startswith("# ") else findings
    body = re.sub(r"^## ", "#### ", body, flags=re.M).strip("\n")
    start = readme.index(README_START) + len(README_START)
    end = readme.index(README_END)
    return readme[:start] + "\n" + body + "\n" + readme[end:]
