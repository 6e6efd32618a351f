"""Compare two finished runs: what changed in the stats and the per-window metrics, and why it might.

A difference in the numbers only means something once you know whether the inputs changed, so the
comparison first checks the data fingerprints and the config hash in both ``summary.json`` files
and puts a WARNING line at the top when they differ (naming the series whose data changed).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.reports.runfiles import esc, read_summary, read_windows_table, stats_frame

__all__ = ["compare_runs", "input_warnings"]

_KEYS = ["section", "strategy", "asset", "window", "metric"]
_RTOL, _ATOL = 1e-9, 1e-12  # CSV/JSON round trips are exact to ~1e-15; anything above is a change


def input_warnings(summary_a: dict, summary_b: dict) -> tuple[list[str], list[str]]:
    """Compare what went into two runs.

    Args:
        summary_a: the first run's parsed ``summary.json``.
        summary_b: the second run's.

    Returns:
        ``(warnings, notes)``: warnings when the data fingerprints or the config hash differ, notes
        for softer differences (package versions, window dates).
    """
    warns, notes = [], []
    fa = (summary_a.get("data") or {}).get("fingerprints") or {}
    fb = (summary_b.get("data") or {}).get("fingerprints") or {}
    changed = sorted(k for k in set(fa) & set(fb) if fa[k] != fb[k])
    only_a, only_b = sorted(set(fa) - set(fb)), sorted(set(fb) - set(fa))
    if changed or only_a or only_b:
        parts = []
        if changed:
            parts.append("changed: " + ", ".join(changed))
        if only_a:
            parts.append("only in A: " + ", ".join(only_a))
        if only_b:
            parts.append("only in B: " + ", ".join(only_b))
        warns.append("WARNING: the runs used different data (fingerprints differ; " + "; ".join(parts) + ")")
    ha = (summary_a.get("run") or {}).get("config_hash")
    hb = (summary_b.get("run") or {}).get("config_hash")
    if ha != hb:
        warns.append(f"WARNING: the runs used different configs (config hash {ha} vs {hb})")
    va, vb = summary_a.get("versions") or {}, summary_b.get("versions") or {}
    vdiff = [f"{k} {va.get(k)} -> {vb.get(k)}" for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)]
    if vdiff:
        notes.append("NOTE: package versions differ: " + ", ".join(vdiff))
    wa = {str(w.get("id")): w for w in summary_a.get("windows") or []}
    wb = {str(w.get("id")): w for w in summary_b.get("windows") or []}
    wdiff = [k for k in sorted(set(wa) & set(wb))
             if any(str(wa[k].get(f)) != str(wb[k].get(f)) for f in ("start", "trough", "end"))]
    if wdiff:
        notes.append("NOTE: window dates differ: " + ", ".join(wdiff))
    return warns, notes


def _long_stats(summary: dict) -> pd.DataFrame:
    frame = stats_frame(summary)
    if frame.empty:
        return pd.DataFrame(columns=_KEYS + ["value"])
    long = frame.melt(id_vars=["strategy", "asset"], var_name="metric", value_name="value")
    long["section"], long["window"] = "stats", ""
    return long[_KEYS + ["value"]]


def _long_windows(run_dir: Path) -> pd.DataFrame:
    table = read_windows_table(run_dir)
    metrics = [c for c in table.columns if c not in ("strategy", "asset", "window", "start", "trough", "end")]
    if table.empty or not metrics:
        return pd.DataFrame(columns=_KEYS + ["value"])
    long = table[["strategy", "asset", "window", *metrics]].melt(
        id_vars=["strategy", "asset", "window"], var_name="metric", value_name="value")
    long["section"] = "windows"
    return long[_KEYS + ["value"]]


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return f"{x:.6g}"


def _aligned(diff: pd.DataFrame) -> str:
    """A plain-text table: names left-aligned, numbers right-aligned on their decimal columns."""
    heads = _KEYS + ["A", "B", "delta", "status"]
    rows = [[str(r[k]) for k in _KEYS] + [_fmt(r["a"]), _fmt(r["b"]), _fmt(r["delta"]), str(r["status"])]
            for _, r in diff.iterrows()]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    numeric = {len(_KEYS), len(_KEYS) + 1, len(_KEYS) + 2}

    def line(cells):
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(heads), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike,
                 out_html: str | os.PathLike | None = None) -> tuple[str, pd.DataFrame]:
    """Compare every stat and per-window metric of two runs.

    Args:
        run_a: the reference run folder (A).
        run_b: the run compared against it (B).
        out_html: when given, also write the comparison as an HTML page there (names escaped).

    Returns:
        ``(text, table)``. ``text`` starts with the WARNING lines (different data or config), then
        the runs compared, then an aligned table of the values that differ (or a line saying there
        are none). ``table`` holds every compared value: ``section`` ("stats" or "windows"),
        ``strategy``, ``asset``, ``window`` (empty for stats), ``metric``, ``a``, ``b``,
        ``delta`` (b - a) and ``status`` ("same", "changed", "only in A", "only in B").
    """
    run_a, run_b = Path(run_a), Path(run_b)
    sa, sb = read_summary(run_a), read_summary(run_b)
    warns, notes = input_warnings(sa, sb)

    la = pd.concat([_long_stats(sa), _long_windows(run_a)], ignore_index=True)
    lb = pd.concat([_long_stats(sb), _long_windows(run_b)], ignore_index=True)
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
    table = table[_KEYS + ["a", "b", "delta", "status"]]

    diff = table[table["status"] != "same"]
    ra, rb = sa.get("run") or {}, sb.get("run") or {}
    header = [*warns, *notes,
              f"A: {ra.get('name', run_a.name)} ({run_a}) created {ra.get('created', '?')}",
              f"B: {rb.get('name', run_b.name)} ({run_b}) created {rb.get('created', '?')}"]
    if diff.empty:
        summary_line = f"No metric differences ({len(table)} values compared)."
        body = ""
    else:
        summary_line = f"{len(diff)} of {len(table)} metric values differ (delta = B - A):"
        body = _aligned(diff)
    text = "\n".join(header + [summary_line] + ([body] if body else [])) + "\n"

    if out_html is not None:
        _write_html(Path(out_html), warns, notes, header[len(warns) + len(notes):], summary_line, diff)
    return text, table


def _write_html(path: Path, warns, notes, runs, summary_line: str, diff: pd.DataFrame) -> None:
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(r[k])}</td>" for k in _KEYS)
        + "".join(f"<td class='n'>{esc(_fmt(r[k]))}</td>" for k in ("a", "b", "delta"))
        + f"<td>{esc(r['status'])}</td></tr>" for _, r in diff.iterrows())
    table = ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in _KEYS + ["A", "B", "delta (B - A)", "status"])
             + f"</tr>{rows}</table>") if not diff.empty else ""
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>riskoff run comparison</title>"
        "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px;font-size:14px}"
        "table{border-collapse:collapse;font-size:12.5px}th,td{border:1px solid #ddd;padding:3px 7px}"
        "th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".warn{background:#fdecea;border-left:4px solid #d93025;padding:8px 12px;margin:6px 0;font-weight:600}"
        ".note{background:#f3f7fc;border-left:4px solid #4a7fc1;padding:8px 12px;margin:6px 0}</style></head><body>"
        + "".join(f"<div class='warn'>{esc(w)}</div>" for w in warns)
        + "".join(f"<div class='note'>{esc(n)}</div>" for n in notes)
        + "<h1>riskoff run comparison</h1>" + "".join(f"<p>{esc(r)}</p>" for r in runs)
        + f"<p><b>{esc(summary_line)}</b></p>{table}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
