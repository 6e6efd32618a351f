"""The HTML tables of the run report: header, ranking (protection next to cost), outcome heatmap,
per-window metrics and exposure changes. Charts live in :mod:`riskoff.reports.charts`."""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.reports.fmt import (
    cell,
    date,
    heat_color,
    integer,
    isnum,
    num,
    pct,
    pp,
    sortval,
)
from riskoff.reports.protection import MEAN_RULE, ORDERING_RULE, OUTCOMES, window_outcome
from riskoff.reports.runfiles import BASELINE, asset_windows, esc
from riskoff.reports.significance import significance_cells, significance_head

__all__ = ["header", "ranking", "heatmaps", "window_table", "events_table", "CSS", "SORT_JS", "risk_free_note"]

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;color:#1d232b;
background:#f7f8fa;font-size:14px;line-height:1.45}
main{max-width:1480px;margin:0 auto;padding:18px 24px 60px;background:#fff}
h1{font-size:24px;margin:6px 0 4px}h2{font-size:19px;margin:30px 0 8px;border-bottom:2px solid #e3e6ea;
padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:12.5px}
th,td{border:1px solid #dde1e6;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#dde3ea}
table.meta td:first-child{font-weight:600;background:#f6f7f9;white-space:nowrap}
td.hm{text-align:center;font-variant-numeric:tabular-nums;white-space:nowrap;min-width:72px}
td.hm-mean{text-align:center;font-weight:600;white-space:nowrap}
td.o-held{background:repeating-linear-gradient(135deg,#fff,#fff 4px,#f1d4d0 4px,#f1d4d0 6px);color:#8b2c20}
td.o-nothing{background:#f4f5f7;color:#8a929c;font-style:italic}
td.o-no_gain{background:#fbf6e6;color:#6b5a1e}
tr.base td{color:#555;background:#fafafa}tr.front td:nth-child(2){font-weight:600}
.note{background:#f3f7fc;border-left:4px solid #4a7fc1;padding:8px 12px;margin:10px 0}
.muted{color:#667}.small{font-size:12px}td.nw{white-space:nowrap}td.sig{font-weight:600}
.plot{width:100%;margin:4px 0 14px}.frontiers{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.selector{margin:10px 0 0}.selector select{font-size:13px;margin-left:6px;max-width:700px}
nav a{margin-right:12px}code{background:#f1f3f5;padding:0 3px;border-radius:3px}
pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px;max-height:420px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.legend span{display:inline-block;width:14px;height:12px;margin:0 4px -2px 10px;border:1px solid #ccc}
.table-scroll{max-width:100%;overflow-x:auto}
#ranking{font-size:12px;margin-top:0}#ranking th,#ranking td{padding:3px 4px}#ranking th{font-size:11.5px}
#ranking th:not(:nth-child(2)){width:1px}
#ranking .sub{display:block;font-size:10.5px;font-weight:400;color:#6a737d}
"""
SORT_JS = """
(function(){
  function key(td){var v=td.getAttribute('data-v');if(v!==null&&v!==''){return parseFloat(v);}
    return v===''?null:td.textContent.trim().toLowerCase();}
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,ci){
      th.addEventListener('click',function(){
        var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        var dir=th.getAttribute('data-dir')==='desc'?1:-1;th.setAttribute('data-dir',dir===1?'asc':'desc');
        rows.sort(function(a,b){var x=key(a.cells[ci]),y=key(b.cells[ci]);
          if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
          return (x<y?-1:x>y?1:0)*dir;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""




def risk_free_note(summary: dict) -> str:
    """What Sharpe and Sortino are measured against, as the run recorded it."""
    basis = (summary.get("run") or {}).get("sharpe_basis")
    return basis or "this run does not record what they are measured against (older run)"


def header(summary: dict, run_dir: Path, note: str) -> str:
    """Run metadata and how to read the page."""
    run, data, versions = summary["run"], summary["data"], summary["versions"]
    name = run.get("name") or run_dir.name
    rows = [("Run", name), ("Created", run.get("created")), ("Span", f"{run.get('start', '?')} .. {run.get('end', '?')}"
             + (f" (end limited by {run.get('end_limited_by')})" if run.get("end_limited_by") else "")),
            ("Config file", run.get("config_file")),
            ("Config hash", run.get("config_hash")), ("Data dir", data.get("data_dir")),
            # a run is rendered inside its temporary folder (.NAME.tmp-PID-RANDOM) and renamed after
            ("Run folder", re.sub(r"(^|/)\.([^/]+)\.tmp-\d+-[0-9a-f]+$", r"\1\2", str(run_dir))),
            ("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))]
    meta = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, ""))
    how = (
        "<p><b>How to read this report.</b> Each <i>strategy</i> turns regime signals into an exposure "
        "between 0 (all cash, earning the money-market rate) and 1 (fully invested) in one <i>asset</i>; "
        "<code>buy_and_hold</code> is the reference. Protection is never shown alone: the <b>frontier</b> "
        "charts put each rule's <b>mean drawdown avoided</b> across the documented sell-off windows where "
        "buy &amp; hold fell at least 3% (its max drawdown inside a window minus buy &amp; hold's, in "
        "percentage points: positive = protection; the ranking also gives the mean over every window) "
        "against the <b>CAGR it gave up</b> over the whole run. Rules on the dotted frontier are the ones "
        "no other rule beats on both. The <b>ranking</b> lists the same numbers with the Sharpe change and, "
        "when the run has them, random-timing significance marks. The <b>outcome table</b> tells, per "
        "window, protected from held through from nothing to avoid. The <b>equity</b> chart shows one "
        "strategy at a time against buy &amp; hold (pick it in the selector); <b>exposure</b> rows show "
        "when each rule was out; every window gets a <b>zoomed panel</b> (30 days before to 60 days after) "
        "of the price, each signal's reading with its state behind it (yellow = caution, red = risk-off) "
        "and dashed switch levels, and the exposure rows; the red dotted line marks the trough. "
        "<i>Lead time</i> is how many days before the trough the strategy first cut exposure, "
        "<i>re-entry lag</i> how many days after the trough it was fully invested again.</p>")
    return (f"<h1>riskoff report &mdash; {esc(name)}</h1>"
            f'<table class="meta">{meta}</table>{how}'
            + (f'<div class="note">{note}</div>' if note else "") + skipped_note(summary))


def skipped_note(summary: dict) -> str:
    """The report's box listing the strategies ``--keep-going`` skipped (summary.json "skipped"), or ''."""
    items = "".join(f"<li><b>{esc(s.get('strategy'))}</b> on {esc(s.get('asset'))}: {esc(s.get('error'))}</li>"
                    for s in summary.get("skipped") or [])
    return (f'<div class="note skipped"><b>Skipped by --keep-going</b> (a faulty plug-in; these strategies are '
            f'in no table below):<ul>{items}</ul></div>') if items else ""


def _breakable(name: str) -> str:
    """An escaped name that may wrap after its underscores, only where a narrow window needs it."""
    return esc(name).replace("_", "_<wbr>")


def ranking(table: pd.DataFrame) -> str:
    """The ranking table from :func:`riskoff.reports.protection.protection_table` (already ordered)."""
    if table.empty:
        return "<p class='muted'>No stats in summary.json.</p>"
    # A run with a skill-or-luck block (riskoff.significance) gets its full columns; a bare p-value
    # column gets the mark alone.
    has_block = any(str(c).startswith("sig_") for c in table.columns)
    has_p = table["p_value"].notna().any() and not has_block
    cols = [("cagr", "CAGR", pct), ("sharpe", "Sharpe", num), ("sortino", "Sortino", num),
            ("max_drawdown", "Max DD", pct), ("time_in_market", "Time in mkt", lambda x: pct(x, 0)),
            ("turnover", "Turnover", num), ("derisk_episodes", "De-risk episodes", integer),
            ("false_alarms", "False alarms", integer)]
    cols = [c for c in cols if c[0] in table]
    head = ("<tr><th>#</th><th>Strategy</th><th>Asset</th>"
            "<th title='strategy max DD minus buy &amp; hold max DD, mean over the windows where buy &amp; hold "
            "fell at least 3% (below: over every window)'>Mean DD avoided</th>"
            "<th title='protected / windows where buy &amp; hold fell at least 3%'>Windows protected</th><th title='buy &amp; hold CAGR minus the strategy CAGR'>CAGR given up</th>"
            "<th title='strategy Sharpe minus buy &amp; hold Sharpe'>Sharpe change</th>"
            + ("<th title='random-timing p-value: ** p&lt;0.01, * p&lt;0.05'>Sig.</th>" if has_p else "")
            + "".join(f"<th>{esc(label)}</th>" for _, label, _ in cols)
            + (significance_head() if has_block else "") + "</tr>")
    body = []
    for _, r in table.iterrows():
        prot = (f"{int(r['windows_protected'])}/{int(r['n_windows'])}"
                if isnum(r.get("n_windows")) and r["n_windows"] > 0 else "&ndash;")
        cls = "base" if r["strategy"] == BASELINE else ("front" if r["on_frontier"] else "")
        sig = (f"<td class='n' data-v='{sortval(r['p_value'])}' title='p = {num(r['p_value'], 3)}'>"
               f"{esc(r['significance']) or '&nbsp;'}</td>") if has_p else ""
        body.append(
            f"<tr class='{cls}' data-strategy=\"{esc(r['strategy'])}\" data-asset=\"{esc(r['asset'])}\">"
            f"<td class='n' data-v='{int(r['rank'])}'>{int(r['rank'])}</td><td>{_breakable(r['strategy'])}</td>"
            f"<td class='nw'>{esc(r['asset'])}</td>"
            f"<td class='n' data-v='{sortval(r['mean_dd_avoided'])}'>{pp(r['mean_dd_avoided'])}"
            f"<span class='sub' title='mean over every window, falls or not'>all&nbsp;{pp(r.get('mean_dd_avoided_all'))}"
            "</span></td>"
            f"<td class='n' data-v='{sortval(r.get('windows_protected'))}'>{prot}</td>"
            f"{cell(r['cagr_given_up'], pp)}{cell(r['sharpe_change'], lambda x: f'{x:+.2f}' if isnum(x) else '&ndash;')}"
            + sig + "".join(cell(r[c], f) for c, _, f in cols)
            + (significance_cells(r) if has_block else "") + "</tr>")
    # The wrapper scrolls sideways only if a narrow window cannot hold the (condensed) table.
    return (f'<div class="table-scroll"><table class="sortable" id="ranking"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            f"<p class='small muted'>{esc(MEAN_RULE)} Ordering rule: {esc(ORDERING_RULE)} Bold names are on the frontier. "
            "Click a column header to re-sort.</p>")


def heatmaps(wtable: pd.DataFrame, assets: list[str], strategies: list[str], meta: dict) -> str:
    """Per asset, strategy x window: drawdown avoided, and what a zero means (held / nothing / no gain)."""
    if wtable.empty:
        return "<p class='muted'>No windows.csv in this run.</p>"
    parts = []
    for asset in assets:
        rows = wtable[(wtable["asset"] == asset) & (wtable["strategy"] != BASELINE)]
        if rows.empty:
            continue
        wins = asset_windows(asset, wtable, meta)
        wids = [w.id for w in wins] + [x for x in rows["window"].unique() if x not in {w.id for w in wins}]
        names = {w.id: w.name for w in wins}
        cap = max(0.02, float(np.nanmax(np.abs(rows["drawdown_avoided"].to_numpy(dtype=float))))
                  if rows["drawdown_avoided"].notna().any() else 0.02)
        bh = wtable[(wtable["asset"] == asset) & (wtable["strategy"] == BASELINE)].set_index("window")
        head = "<tr><th>Strategy</th>" + "".join(
            f"<th title=\"{esc(w)}\">{esc(names.get(w, w))}"
            + (f"<br><span class='small muted'>B&amp;H {pct(bh.loc[w, 'bh_max_dd'], 0)}</span>"
               if w in bh.index else "") + "</th>" for w in wids) + "<th>Mean</th></tr>"
        body = []
        strats = [s for s in strategies if s in set(rows["strategy"])] + \
                 [s for s in rows["strategy"].unique() if s not in strategies]
        by_cell = {(r["strategy"], r["window"]): r for r in rows.to_dict("records")}
        for s in strats:
            cells = []
            srows = rows[rows["strategy"] == s]
            for w in wids:
                r = by_cell.get((s, w))
                if r is None:
                    cells.append("<td class='muted'>&ndash;</td>")
                    continue
                v, outcome = r["drawdown_avoided"], window_outcome(r)
                tip = (f"{s} on {asset}, {names.get(w, w)}: {OUTCOMES[outcome]}. Strategy max DD "
                       f"{pct(r.get('strategy_max_dd'))} vs buy & hold {pct(r.get('bh_max_dd'))}; return "
                       f"{pct(r.get('strategy_return'))} vs {pct(r.get('bh_return'))}; exposure at trough "
                       f"{num(r.get('exposure_at_trough'))}")
                text = {"held": "held", "nothing": "&middot;", "no_gain": f"cut {pp(v)}"}.get(outcome, pp(v))
                style = f" style=\"background:{heat_color(v, cap)}\"" if outcome in ("protected", "worse") else ""
                cells.append(
                    f"<td class=\"hm o-{outcome}\" data-outcome=\"{outcome}\" data-strategy=\"{esc(s)}\" "
                    f"data-asset=\"{esc(asset)}\" data-window=\"{esc(w)}\"{style} "
                    f"title=\"{esc(html.unescape(tip))}\">{text}</td>")
            mean = srows["drawdown_avoided"].mean()
            cells.append(f"<td class='hm-mean' style='background:{heat_color(mean, cap)}'>{pp(mean)}</td>")
            body.append(f"<tr><td>{esc(s)}</td>{''.join(cells)}</tr>")
        parts.append(f"<h3>{esc(asset)}</h3><table class='heatmap'><thead>{head}</thead>"
                     f"<tbody>{''.join(body)}</tbody></table>")
    legend = ("<p class='small muted legend'>One table per asset; buy &amp; hold's own max drawdown in each "
              "window is under the window's name. A number = drawdown avoided in percentage points "
              "(strategy max DD minus buy &amp; hold's):<span style='background:#1a9850'></span>protected "
              "(&ge; +0.5 pp)<span style='background:#d73027'></span>worse (&le; &minus;0.5 pp). "
              "<span class='o' style='background:repeating-linear-gradient(135deg,#fff,#fff 4px,#f1d4d0 4px,"
              "#f1d4d0 6px)'></span><b>held</b> = stayed invested at the trough and took the fall; "
              "<span style='background:#fbf6e6'></span><b>cut</b> = cut exposure, no gain; "
              "<span style='background:#f4f5f7'></span><b>&middot;</b> = nothing to avoid (buy &amp; hold fell "
              "less than 3% in the window). Hover a cell for the details.</p>")
    return legend + "".join(parts)


def window_table(rows: pd.DataFrame) -> str:
    """One window's metrics per strategy."""
    cols = [("strategy_return", "Return", pct), ("bh_return", "B&H return", pct),
            ("strategy_max_dd", "Max DD", pct), ("bh_max_dd", "B&H max DD", pct),
            ("drawdown_avoided", "DD avoided", pp), ("exposure_at_trough", "Exposure at trough", num),
            ("lead_time_days", "Lead time (d)", integer), ("reentry_lag_days", "Re-entry lag (d)", integer),
            ("return_given_up_60d", "Return given up 60d", pct)]
    cols = [c for c in cols if c[0] in rows]
    head = "<tr><th>Strategy</th>" + "".join(f"<th>{esc(label)}</th>" for _, label, _ in cols) + "</tr>"
    body = "".join(
        "<tr><td>" + esc(r["strategy"]) + "</td>" + "".join(cell(r[c], f) for c, _, f in cols) + "</tr>"
        for _, r in rows.iterrows())
    return f"<table>{head}{body}</table>"


def events_table(events: pd.DataFrame | None, lo, hi, limit: int = 40) -> str:
    """One asset's exposure changes (``events``, sorted by date) in a date range, under a <details>."""
    if events is None or events.empty:
        return ""
    dates = events["date"].to_numpy()
    a, b = np.searchsorted(dates, np.datetime64(lo), "left"), np.searchsorted(dates, np.datetime64(hi), "right")
    sel = events.iloc[a:b]
    if sel.empty:
        return "<p class='small muted'>No exposure changes in this range.</p>"
    rows = "".join(
        f"<tr><td>{date(r['date'])}</td><td>{esc(r['strategy'])}</td>"
        f"<td class='n'>{num(r.get('old_exposure'))} &rarr; {num(r.get('new_exposure'))}</td>"
        f"<td class='small'>{esc(r.get('states', ''))}</td></tr>"
        for r in sel.head(limit).to_dict("records"))
    more = f"<p class='small muted'>... and {len(sel) - limit} more.</p>" if len(sel) > limit else ""
    return (f"<details><summary>Exposure changes ({len(sel)})</summary><table><tr><th>Date</th><th>Strategy"
            f"</th><th>Exposure</th><th>Signal states</th></tr>{rows}</table>{more}</details>")
