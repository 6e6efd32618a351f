"""The report's "skill or luck" columns: the random-timing null and the bootstrap next to the ranking.

Reads the ``significance`` block of ``summary.json`` (written by ``riskoff.significance.run``) and
adds, per strategy x asset row of the ranking: the p-value of the mean drawdown avoided against
the matched random-timing null (with the number of windows it is a mean of), the p-values of
Calmar and of the CAGR given up against the same null, and the bootstrap intervals of the CAGR and
Sharpe difference against buy & hold. A difference distinguishable from random timing (p <= 0.05)
is marked with a star; a dagger marks the ones that also survive the Benjamini-Hochberg correction
across all the run's pairs (q <= 0.05). Kept apart from ``report.py`` so the ranking only calls
three functions.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from riskoff.significance.settings import SIGNIFICANT

__all__ = ["merge_significance", "significance_head", "significance_cells", "significance_note"]

_NUMERIC = ("n_windows", "null_paths", "dd_avoided_mean_p", "dd_avoided_mean_pct", "dd_avoided_mean_q",
            "calmar_p", "calmar_pct", "cagr_given_up_p", "cagr_given_up_pct", "cagr_diff", "cagr_diff_lo",
            "cagr_diff_hi", "sharpe_diff", "sharpe_diff_lo", "sharpe_diff_hi", "confidence")


def merge_significance(stats: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """``stats`` with the summary's significance columns joined on (strategy, asset), prefixed ``sig_``."""
    pairs = pd.DataFrame((summary.get("significance") or {}).get("pairs") or [])
    if pairs.empty or stats.empty:
        return stats
    keep = ["strategy", "asset", "null_kind", *(c for c in _NUMERIC if c in pairs)]
    pairs = pairs[keep].copy()
    for c in keep[3:]:
        pairs[c] = pd.to_numeric(pairs[c], errors="coerce")
    pairs = pairs.rename(columns={c: f"sig_{c}" for c in keep[2:]})
    return stats.merge(pairs, on=["strategy", "asset"], how="left")


def _ok(x) -> bool:
    return x is not None and not pd.isna(x)


def _td(sort: float | None, text: str, title: str = "", cls: str = "n") -> str:
    v = f"{sort:.10g}" if _ok(sort) else ""
    t = f' title="{html.escape(title)}"' if title else ""
    return f'<td class="{cls}" data-v="{v}"{t}>{text}</td>'


def _p_cell(p, pct, q=None, n_windows=None) -> str:
    if not _ok(p):
        return _td(None, "&ndash;")
    mark = " &#9733;" if p <= SIGNIFICANT else ""
    if _ok(q) and q <= SIGNIFICANT:
        mark += "&dagger;"
    # the number of windows on a second, smaller line, so the column stays narrow
    extra = f"<span class='sub'>({int(n_windows)}&nbsp;w)</span>" if _ok(n_windows) else ""
    title = f"beats {pct:.1f}% of random-timing paths" + (f"; BH q = {q:.3f}" if _ok(q) else "")
    return _td(p, f"{p:.3f}{mark}{extra}", title, "n sig" if mark else "n")


def _ci_cell(x, lo, hi, pct: bool) -> str:
    if not _ok(x):
        return _td(None, "&ndash;")
    f = (lambda v: f"{v * 100:+.1f}") if pct else (lambda v: f"{v:+.2f}")
    mark = " &#9733;" if _ok(lo) and (lo > 0 or hi < 0) else ""  # the interval excludes 0
    # the interval under the value, on a smaller line, so the column stays narrow
    return _td(x, f"{f(x)}{'%' if pct else ''}{mark}<span class='sub'>[{f(lo)}, {f(hi)}]</span>",
               cls="n sig" if mark else "n")


def significance_head() -> str:
    """Header cells of the significance columns."""
    cols = [("p of the mean drawdown avoided against the matched random-timing null (number of windows)",
             "DD avoided vs random (p)"),
            ("p of Calmar against the same null", "Calmar vs random (p)"),
            ("p of the CAGR given up against the same null (low = gave up less than random timing)",
             "CAGR given up vs random (p)"),
            ("CAGR minus buy & hold, stationary-bootstrap interval", "CAGR vs B&amp;H [CI]"),
            ("Sharpe minus buy & hold, stationary-bootstrap interval", "Sharpe vs B&amp;H [CI]")]
    return "".join(f"<th title='{html.escape(t)}'>{label}</th>" for t, label in cols)


def significance_cells(row: pd.Series) -> str:
    """The significance cells of one ranking row (dashes when the run has no significance block)."""
    g = row.get
    return (_p_cell(g("sig_dd_avoided_mean_p"), g("sig_dd_avoided_mean_pct"), g("sig_dd_avoided_mean_q"),
                    g("sig_n_windows"))
            + _p_cell(g("sig_calmar_p"), g("sig_calmar_pct"))
            + _p_cell(g("sig_cagr_given_up_p"), g("sig_cagr_given_up_pct"))
            + _ci_cell(g("sig_cagr_diff"), g("sig_cagr_diff_lo"), g("sig_cagr_diff_hi"), pct=True)
            + _ci_cell(g("sig_sharpe_diff"), g("sig_sharpe_diff_lo"), g("sig_sharpe_diff_hi"), pct=False))


def significance_note(summary: dict) -> str:
    """The paragraph under the ranking that says how to read those columns."""
    sig = summary.get("significance")
    if not sig:
        return ("<p class='small muted'>Skill or luck: the random-timing null and the bootstrap were off "
                "for this run ([null] / [bootstrap] enabled = false).</p>")
    null, boot = sig.get("null", {}), sig.get("bootstrap", {})
    pairs = pd.DataFrame(sig.get("pairs") or [])
    n_sig = int((pd.to_numeric(pairs.get("dd_avoided_mean_p"), errors="coerce") <= SIGNIFICANT).sum()) \
        if "dd_avoided_mean_p" in pairs else 0
    n_q = int((pd.to_numeric(pairs.get("dd_avoided_mean_q"), errors="coerce") <= SIGNIFICANT).sum()) \
        if "dd_avoided_mean_q" in pairs else 0
    n_tested = int(pd.to_numeric(pairs.get("dd_avoided_mean_p"), errors="coerce").notna().sum()) \
        if "dd_avoided_mean_p" in pairs else 0
    conf = boot.get("confidence", np.nan)
    return ("<p class='small muted'><b>Skill or luck.</b> Each strategy is compared with "
            f"{html.escape(str(null.get('paths', '?')))} random exposure paths that keep its own de-risking "
            "budget (same episodes and depths at random times, or its whole exposure path shifted in time for "
            "rules that move every bar), run through the same engine, costs and cash. p = share of random "
            "paths at least as good (+1 corrected); &#9733; p &le; 0.05, distinguishable from random timing; "
            "&dagger; also survives the Benjamini-Hochberg correction across the run's pairs. "
            f"{n_sig} of {n_tested} pairs have p &le; 0.05 on mean drawdown avoided ({n_q} survive the "
            f"correction; about {0.05 * n_tested:.1f} would pass by chance). Intervals: "
            f"{conf * 100:.0f}% stationary bootstrap ({html.escape(str(boot.get('reps', '?')))} resamples) of "
            "the CAGR and Sharpe difference against buy &amp; hold; &#9733; = the interval excludes 0. "
            "The mean drawdown avoided is over about ten windows: too few to bootstrap, so it is judged by "
            "the null only.</p>")
