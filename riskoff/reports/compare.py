"""Compare two finished runs so that it reads in a terminal: first why they differ, then by how much.

The text opens with what differs about the runs themselves (date spans and what limited them,
config keys changed, data series whose fingerprints changed, library versions, strategy x asset
pairs only in one run), because a difference in the numbers only means something once you know
whether the inputs changed. Then come the headline deltas per strategy x asset (CAGR, max drawdown,
mean drawdown avoided, significance), largest first, with changes below :data:`TOLERANCE_PP`
hidden unless ``show_all``. The full long table of every compared value is returned as well.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.reports.fmt import pct_text
from riskoff.reports.protection import protection_table, significance_mark
from riskoff.reports.runfiles import read_summary, read_windows_table, stats_frame
from riskoff.reports.significance import merge_significance

__all__ = ["compare_runs", "input_differences", "headline_deltas", "config_changes", "TOLERANCE_PP"]

_KEYS = ["section", "strategy", "asset", "window", "metric"]
_RTOL, _ATOL = 1e-9, 1e-12  # CSV/JSON round trips are exact to ~1e-15; anything above is a change
TOLERANCE_PP = 0.05          # headline changes smaller than 0.05 percentage points are hidden
_HEADLINE = [("cagr", "CAGR"), ("max_drawdown", "max DD"), ("mean_dd_avoided", "DD avoided")]
MAX_ROWS = 40                # the terminal table stops here (the rest are counted; --all lists every pair)


def _flatten(value, prefix: str = "") -> dict[str, object]:
    """Dotted keys for nested config tables; lists of named tables are keyed by their name."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        for v in value:
            out.update(_flatten({k: x for k, x in v.items() if k != "name"}, f"{prefix}[{v['name']}]"))
    else:
        out[prefix] = value
    return out


def config_changes(config_a: dict, config_b: dict) -> list[str]:
    """``key: A -> B`` for every config key whose value differs (keys only in one side included)."""
    fa, fb = _flatten(config_a or {}), _flatten(config_b or {})
    missing = "(absent)"
    return [f"{k}: {fa.get(k, missing)} -> {fb.get(k, missing)}" for k in sorted(set(fa) | set(fb))
            if str(fa.get(k, missing)) != str(fb.get(k, missing))]


def _short(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def input_differences(summary_a: dict, summary_b: dict) -> list[str]:
    """What differs about the two runs' inputs, one line per kind (empty when nothing does)."""
    ra, rb = summary_a.get("run") or {}, summary_b.get("run") or {}
    lines = []
    span_a = (ra.get("start"), ra.get("end"), ra.get("end_limited_by"))
    span_b = (rb.get("start"), rb.get("end"), rb.get("end_limited_by"))
    if span_a != span_b:
        lines.append(f"DATE SPANS DIFFER: A {span_a[0]} .. {span_a[1]} (end: {span_a[2] or '?'}), "
                     f"B {span_b[0]} .. {span_b[1]} (end: {span_b[2] or '?'}); every metric moves with the span")
    changes = config_changes(summary_a.get("config") or {}, summary_b.get("config") or {})
    if changes:
        lines.append(f"CONFIG: {len(changes)} key(s) changed: " + "; ".join(changes[:6])
                     + (f"; and {len(changes) - 6} more" if len(changes) > 6 else ""))
    elif ra.get("config_hash") != rb.get("config_hash"):
        lines.append(f"CONFIG: hash {ra.get('config_hash')} -> {rb.get('config_hash')} (no key differs)")
    fa = (summary_a.get("data") or {}).get("fingerprints") or {}
    fb = (summary_b.get("data") or {}).get("fingerprints") or {}
    changed = sorted(k for k in set(fa) & set(fb) if fa[k] != fb[k])
    parts = ([f"changed: {_short(changed)}"] if changed else []) + \
            ([f"only in A: {_short(sorted(set(fa) - set(fb)))}"] if set(fa) - set(fb) else []) + \
            ([f"only in B: {_short(sorted(set(fb) - set(fa)))}"] if set(fb) - set(fa) else [])
    if parts:
        lines.append("DATA: fingerprints differ (" + "; ".join(parts) + ")")
    va, vb = summary_a.get("versions") or {}, summary_b.get("versions") or {}
    vdiff = [f"{k} {va.get(k)} -> {vb.get(k)}" for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)]
    if vdiff:
        lines.append("VERSIONS: " + ", ".join(vdiff))
    return lines


def _pairs_only(sa: pd.DataFrame, sb: pd.DataFrame) -> list[str]:
    lines = []
    for label, x, y in (("A", sa, sb), ("B", sb, sa)):
        only = set(zip(x["strategy"], x["asset"])) - set(zip(y["strategy"], y["asset"]))
        if not only:
            continue
        by_asset: dict[str, list[str]] = {}
        for s, a in sorted(only):
            by_asset.setdefault(a, []).append(s)
        all_of = {a: set(x.loc[x["asset"] == a, "strategy"]) for a in by_asset}
        desc = [f"{a} (all {len(v)} strategies)" if set(v) == all_of[a] else f"{a}: {_short(v, 4)}"
                for a, v in by_asset.items()]
        lines.append(f"ONLY IN {label}: {len(only)} strategy x asset pair(s): " + "; ".join(desc))
    return lines


def headline_deltas(stats_a: pd.DataFrame, windows_a: pd.DataFrame, stats_b: pd.DataFrame,
                    windows_b: pd.DataFrame, tolerance_pp: float = TOLERANCE_PP) -> pd.DataFrame:
    """Per strategy x asset in both runs: CAGR, max drawdown, mean drawdown avoided and significance, A and B.

    Returns:
        One row per pair with ``<metric>_a``, ``<metric>_b`` and ``<metric>_delta`` (B - A) for each
        headline metric, ``sig_a``/``sig_b`` (marks), ``size`` (the largest absolute delta) and
        ``shown`` (True when a delta reaches ``tolerance_pp`` percentage points or a mark changed),
        sorted by ``size``, largest first.
    """
    ta, tb = protection_table(stats_a, windows_a), protection_table(stats_b, windows_b)
    keep = ["strategy", "asset", "p_value"] + [m for m, _ in _HEADLINE]
    both = ta[[c for c in keep if c in ta]].merge(tb[[c for c in keep if c in tb]], on=["strategy", "asset"],
                                                  suffixes=("_a", "_b"))
    for m, _ in _HEADLINE:
        both[f"{m}_delta"] = both[f"{m}_b"] - both[f"{m}_a"]
    deltas = both[[f"{m}_delta" for m, _ in _HEADLINE]].abs()
    both["size"] = deltas.max(axis=1).fillna(0.0)
    both["sig_a"] = both["p_value_a"].map(significance_mark)
    both["sig_b"] = both["p_value_b"].map(significance_mark)
    both["shown"] = (deltas >= tolerance_pp / 100 - 1e-12).any(axis=1) | (both["sig_a"] != both["sig_b"])
    return both.sort_values(["size", "asset", "strategy"], ascending=[False, True, True], kind="stable") \
               .reset_index(drop=True)


def _fmt_pp(x) -> str:
    return "n/a" if pd.isna(x) else f"{x * 100:+.2f}"  # percentage points, signed


def _headline_text(deltas: pd.DataFrame, show_all: bool) -> list[str]:
    rows = deltas if show_all else deltas[deltas["shown"]]
    hidden = len(deltas) - len(rows)
    over = 0 if show_all else max(0, len(rows) - MAX_ROWS)
    rows = rows if show_all else rows.head(MAX_ROWS)
    if rows.empty:
        return [f"No headline change of {TOLERANCE_PP} pp or more in {len(deltas)} strategy x asset pairs."]
    has_sig = (deltas["sig_a"] != "").any() or (deltas["sig_b"] != "").any() or \
        deltas["p_value_a"].notna().any() or deltas["p_value_b"].notna().any()
    heads = ["strategy", "asset"] + [f"{label} A -> B (pp)" for _, label in _HEADLINE] + (["sig A->B"] if has_sig else [])
    table = []
    for _, r in rows.iterrows():
        cells = [str(r["strategy"]), str(r["asset"])]
        for m, _ in _HEADLINE:
            fmt = pct_text if m != "mean_dd_avoided" else _fmt_pp
            cells.append(f"{fmt(r[f'{m}_a'])} -> {fmt(r[f'{m}_b'])} ({_fmt_pp(r[f'{m}_delta'])})")
        if has_sig:
            cells.append(f"{r['sig_a'] or '-'} -> {r['sig_b'] or '-'}")
        table.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in table)) for i, h in enumerate(heads)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(heads), *(line(c) for c in table)]
    if over:
        out.append(f"... {over} smaller change(s) of {TOLERANCE_PP} pp or more not listed (--all lists them)")
    if hidden:
        out.append(f"... {hidden} more pair(s) with every headline change under {TOLERANCE_PP} pp (--all lists them)")
    return out


def _long_stats(summary: dict) -> pd.DataFrame:
    frame = stats_frame(summary)
    if frame.empty:
        return pd.DataFrame(columns=_KEYS + ["value"])
    long = frame.melt(id_vars=["strategy", "asset"], var_name="metric", value_name="value")
    long["section"], long["window"] = "stats", ""
    return long[_KEYS + ["value"]]


def _long_windows(table: pd.DataFrame) -> pd.DataFrame:
    metrics = [c for c in table.columns if c not in ("strategy", "asset", "window", "start", "trough", "end")]
    if table.empty or not metrics:
        return pd.DataFrame(columns=_KEYS + ["value"])
    long = table[["strategy", "asset", "window", *metrics]].melt(
        id_vars=["strategy", "asset", "window"], var_name="metric", value_name="value")
    long["section"] = "windows"
    return long[_KEYS + ["value"]]


def _full_table(sa: dict, wa: pd.DataFrame, sb: dict, wb: pd.DataFrame) -> pd.DataFrame:
    la = pd.concat([_long_stats(sa), _long_windows(wa)], ignore_index=True)
    lb = pd.concat([_long_stats(sb), _long_windows(wb)], ignore_index=True)
    la = la.drop_duplicates(_KEYS).astype({k: str for k in _KEYS})
    lb = lb.drop_duplicates(_KEYS).astype({k: str for k in _KEYS})
    table = la.merge(lb, on=_KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    table = table.rename(columns={"value_a": "a", "value_b": "b"})
    a = pd.to_numeric(table["a"], errors="coerce").astype("float64")
    b = pd.to_numeric(table["b"], errors="coerce").astype("float64")
    table["a"], table["b"] = a, b
    table["delta"] = b - a
    same = np.isclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=True)
    status = np.where(same, "same", "changed").astype(object)
    status[(table["_merge"] == "left_only").to_numpy()] = "only in A"
    status[(table["_merge"] == "right_only").to_numpy()] = "only in B"
    table["status"] = status
    table = table.drop(columns="_merge").sort_values(_KEYS, kind="stable").reset_index(drop=True)
    return table[_KEYS + ["a", "b", "delta", "status"]]


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike, out_html: str | os.PathLike | None = None,
                 show_all: bool = False) -> tuple[str, pd.DataFrame]:
    """Compare two runs: why they differ, then the headline deltas per strategy x asset.

    Args:
        run_a: the reference run folder (A).
        run_b: the run compared against it (B).
        out_html: when given, also write a page there with both runs' frontiers on one chart per
            asset and their tearsheet headline tables side by side (names escaped).
        show_all: list every pair, not only those that changed by :data:`TOLERANCE_PP` or more.

    Returns:
        ``(text, table)``. ``text`` is the terminal report. ``table`` holds every compared value:
        ``section`` ("stats" or "windows"), ``strategy``, ``asset``, ``window`` (empty for stats),
        ``metric``, ``a``, ``b``, ``delta`` (b - a) and ``status`` ("same", "changed", "only in A",
        "only in B").
    """
    run_a, run_b = Path(run_a), Path(run_b)
    sa, sb = read_summary(run_a), read_summary(run_b)
    wa, wb = read_windows_table(run_a), read_windows_table(run_b)
    sta, stb = merge_significance(stats_frame(sa), sa), merge_significance(stats_frame(sb), sb)
    table = _full_table(sa, wa, sb, wb)
    ra, rb = sa.get("run") or {}, sb.get("run") or {}
    head = [f"A: {ra.get('name', run_a.name)}  {ra.get('start', '?')} .. {ra.get('end', '?')}  ({run_a})",
            f"B: {rb.get('name', run_b.name)}  {rb.get('start', '?')} .. {rb.get('end', '?')}  ({run_b})"]
    differences = input_differences(sa, sb) + (_pairs_only(sta, stb) if len(sta) and len(stb) else [])
    head += differences or ["Same date span, config, data fingerprints and library versions."]
    deltas = headline_deltas(sta, wa, stb, wb) if len(sta) and len(stb) else pd.DataFrame()
    n_changed = int((table["status"] == "changed").sum())
    head.append("")
    head.append(f"Headline deltas, B - A, largest first (changes under {TOLERANCE_PP} pp hidden; "
                f"{n_changed} of {len(table)} stored values differ in all):")
    body = _headline_text(deltas, show_all) if len(deltas) else ["No strategy x asset pair is in both runs."]
    text = "\n".join(head + body) + "\n"
    if out_html is not None:
        from riskoff.reports.compare_html import write_compare_html

        write_compare_html(Path(out_html), run_a, run_b, sa, sb, head[:-2], protection_table(sta, wa),
                           protection_table(stb, wb), deltas, show_all)
    return text, table

