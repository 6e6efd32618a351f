"""Report and scorecard layout, measured in a real headless Chromium window 1400 px wide.

Each page gets a small probe script that waits for the charts, measures boxes with
``getBoundingClientRect`` and writes them as JSON into the DOM; the assertions run here. Checked:
the ranking table and the scorecard table fit the window (no column off-screen), frontier labels and
scorecard scatter labels overlap neither each other nor a marker, and log axes carry only the
major ticks the page computed. Chromium is required, as in ``test_browser.py``.
"""
from __future__ import annotations

import html
import json
import re
import shutil
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.reports import write_report
from riskoff.reports.browser import dump_dom
from riskoff.reports.charts import CHARTS_CHECK_JS, RENDER_JS, chart_block, plotly_js
from riskoff.reports.sections import CSS

WIDTH = 1400

# Waits for the page's charts (the report's promise, or a beat after load for plotly's own pages),
# runs MEASURE and leaves its JSON in <pre id="layout-probe">.
_PROBE = """<script>
window.addEventListener('load',function(){
  function box(e){var r=e.getBoundingClientRect();return [r.left,r.top,r.right,r.bottom];}
  function texts(root,sel){return Array.prototype.filter.call(root.querySelectorAll(sel),function(e){
    return e.textContent.trim()!=='';}).map(function(e){return {t:e.textContent,b:box(e)};});}
  function boxes(root,sel){return Array.prototype.map.call(root.querySelectorAll(sel),box);}
  function go(){var out;try{out=(function(){%s})();}catch(err){out={error:String(err)};}
    var pre=document.createElement('pre');pre.id='layout-probe';pre.textContent=JSON.stringify(out);
    document.body.appendChild(pre);}
  if(window.riskoffChartsReady){window.riskoffChartsReady.then(go,go);}else{setTimeout(go,1000);}
});
</script>"""


pytestmark = pytest.mark.usefixtures("chromium")  # tests/reports/conftest.py: found, or a clear failure


def _probe(page: Path, measure_js: str) -> dict:
    probed = page.with_name(f"probe-{page.name}")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE % measure_js + "</body>", 1),
                      encoding="utf-8")
    dom, console = dump_dom(probed, window_size=(WIDTH, 1000))
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, f"the probe did not run; console: {console}"
    out = json.loads(html.unescape(found.group(1)))
    assert "error" not in out, out
    return out


def _overlap(a, b, tol: float = 0.5) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def _label_clashes(labels: list[dict], markers: list[list[float]]) -> list[str]:
    """Pairs of labels that overlap, and labels that cover a marker (by the labels' texts)."""
    bad = [f"{a['t']!r} on {b['t']!r}" for a, b in combinations(labels, 2) if _overlap(a["b"], b["b"])]
    bad += [f"{a['t']!r} on a marker" for a in labels if any(_overlap(a["b"], m, tol=1.0) for m in markers)]
    return bad


# --- the run report: ranking width, log-axis ticks ------------------------------------------------

def _pair(strategy: str, asset: str, k: int) -> dict:
    return {"strategy": strategy, "asset": asset, "null_kind": "episodes", "null_paths": 300, "n_windows": 10,
            "dd_avoided_mean_p": [0.002, 0.04, 0.3][k % 3], "dd_avoided_mean_pct": 97.0,
            "dd_avoided_mean_q": 0.03, "calmar_p": 0.52, "calmar_pct": 48.0, "cagr_given_up_p": 0.91,
            "cagr_given_up_pct": 9.0, "cagr_diff": -0.123, "cagr_diff_lo": -0.321, "cagr_diff_hi": -0.012,
            "sharpe_diff": 0.11, "sharpe_diff_lo": -0.652, "sharpe_diff_hi": 0.377, "confidence": 0.95}


@pytest.fixture(scope="module")
def report_probe(run_dir, tmp_path_factory):
    """The synthetic run with a skill-or-luck block (all the ranking's columns), rendered at 1400 px."""
    run = tmp_path_factory.mktemp("layout") / "run"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report.html", "tearsheets"))
    summary = json.loads((run / "summary.json").read_text())
    summary["significance"] = {"null": {"paths": 300}, "bootstrap": {"reps": 300, "confidence": 0.95},
                               "pairs": [_pair(r["strategy"], r["asset"], k) for k, r in enumerate(summary["stats"])
                                         if r["strategy"] != "buy_and_hold"]}
    (run / "summary.json").write_text(json.dumps(summary))
    page = write_report(run)
    return page, _probe(page, """
      var t=document.getElementById('ranking'),th=t.tHead.rows[0].cells,wrap=t.parentNode;
      var eq=[];document.querySelectorAll('script.chart-data').forEach(function(s){var d=JSON.parse(s.textContent);
        if(d.kind==='equity'){var el=s.nextElementSibling;  // past the selector the chart put before it
          while(el&&!el.classList.contains('plot'))el=el.nextElementSibling;
          eq.push({asset:d.asset,log:d.log,ticks:d.ticks||null,shown:Array.prototype.map.call(
            el.querySelectorAll('.ytick text'),function(e){return e.textContent;})});}});
      return {inner:window.innerWidth,page:document.documentElement.scrollWidth,table:box(t),last:box(th[th.length-1]),
              wrap:[wrap.clientWidth,wrap.scrollWidth],equity:eq};""")


def test_ranking_table_fits_a_1400px_window(report_probe):
    _, m = report_probe
    assert m["page"] <= m["inner"], f"the page scrolls sideways: {m['page']} px in a {m['inner']} px window"
    assert m["table"][2] <= m["inner"], f"the ranking ends at {m['table'][2]:.0f} px, off a {m['inner']} px window"
    assert m["last"][2] <= m["inner"]   # the last interval column, "Sharpe vs B&H [CI]", is on screen
    assert m["wrap"][1] <= m["wrap"][0]  # it fits without its scroll container's help, too


def test_equity_log_axis_shows_only_its_major_ticks(report_probe):
    _, m = report_probe
    logs = [c for c in m["equity"] if c["log"]]
    assert logs, "the synthetic run has no log-scale equity chart any more"
    for c in logs:
        assert c["ticks"], f"{c['asset']}: a log axis without its own tick values"
        assert c["shown"] == c["ticks"]["text"], c  # plotly drew exactly those, no digit labels in between


# --- frontier labels -------------------------------------------------------------------------------

# The points of the sell-offs run that piled up (SPY #3 under #7, QQQ #4/#5, BTC-USD #11/#13 on buy & hold).
_FRONTIERS = {
    "SPY": [(1, 7.818, 4.506, True, "*"), (2, 6.332, 4.384, True, "*"), (3, 4.572, 3.834, True, "*"),
            (4, 2.762, 3.7, True, "**"), (5, 2.207, 2.702, True, "*"), (6, -1.202, 1.645, True, "**"),
            (7, 4.661, 3.776, False, ""), (8, 6.096, 3.735, False, "*"), (9, 3.531, 2.667, False, ""),
            (10, 0.106, 0.461, False, ""), (11, -0.386, 0.418, False, "")],
    "QQQ": [(1, 9.562, 4.461, True, "*"), (2, 7.474, 4.113, True, "*"), (3, 6.047, 3.668, True, "*"),
            (4, 3.957, 3.448, True, "**"), (5, 3.897, 3.341, True, "*"), (6, -0.025, 1.348, True, "**"),
            (7, 7.144, 3.555, False, "*"), (8, 4.704, 3.366, False, ""), (9, 4.097, 2.497, False, ""),
            (10, 0.476, 0.146, False, ""), (11, 0.721, 0.0, False, "")],
    "BTC-USD": [(1, 39.963, 19.135, True, ""), (2, -2.456, 18.033, True, "*"), (3, -2.684, 12.11, True, "*"),
                (4, -3.054, 5.8, True, ""), (5, -5.253, 2.084, True, ""), (6, 8.454, 14.047, False, "**"),
                (7, 10.433, 8.046, False, ""), (8, 7.673, 4.899, False, ""), (9, 29.197, 3.419, False, ""),
                (10, -1.83, 3.309, False, "*"), (11, 1.085, 1.18, False, ""), (12, 5.383, 0.044, False, ""),
                (13, 1.07, 0.0, False, "")],
}


def test_frontier_labels_never_overlap(tmp_path):
    blocks = "".join(
        "<div>" + chart_block("frontier", {"asset": asset, "points": [
            {"name": f"rule_{rank}", "x": x, "y": y, "rank": rank, "frontier": front, "sig": sig, "p": None,
             "sharpe": "+0.00"} for rank, x, y, front, sig in points]}, 340, asset) + "</div>"
        for asset, points in _FRONTIERS.items())
    page = tmp_path / "frontiers.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{CSS}</style>"
                    f"<script>{plotly_js()}</script></head><body><main><div class='frontiers'>{blocks}</div></main>"
                    f"<script>{RENDER_JS}{CHARTS_CHECK_JS}</script></body></html>", encoding="utf-8")
    m = _probe(page, """
      return Array.prototype.map.call(document.querySelectorAll('div.plot'),function(el){
        return {labels:texts(el,'.annotation-text, .textpoint text'),
                markers:boxes(el,'.scatterlayer path.point')};});""")
    assert len(m) == len(_FRONTIERS)
    for (asset, points), chart in zip(_FRONTIERS.items(), m):
        assert sorted(lb["t"] for lb in chart["labels"]) == sorted(f"{r}{s}" for r, _, _, _, s in points), asset
        assert _label_clashes(chart["labels"], chart["markers"]) == [], asset


# --- the scorecard page: table width, scatter labels, log price panels ------------------------------

_SIGNALS = ["bank_reserves", "breadth_collapse", "crash_speed", "credit_spreads", "cross_asset_liquidation",
            "crypto_sentiment", "dollar_squeeze", "etf_flows", "financial_conditions", "funding_flips",
            "funding_spreads", "labour_stress", "ma_break", "metals_liquidation", "mvrv_bands", "net_liquidity",
            "range_volume_shock", "rv_spike", "sofr_iorb_spread", "tail_pricing", "us_stress_hourly",
            "vix_mean_reversion", "vol_of_vol", "yield_stability"]


def _card():
    from riskoff.evaluation.scorecard import Scorecard
    from riskoff.reports.scorecard import _TABLE_COLS

    rng = np.random.default_rng(3)
    spans = {"SPY": ("1993-01-29", 25.0, 700.0, "us"), "BTC-USD": ("2010-07-18", 0.05, 110_000.0, "utc")}
    closes, states, rows, episodes = {}, {}, [], []
    for asset, (start, lo, hi, _) in spans.items():
        idx = pd.date_range(start, "2026-04-30", freq="W-FRI")
        walk = np.cumsum(rng.normal(0, 0.03, len(idx)))
        walk = (walk - walk.min()) / (walk.max() - walk.min())
        closes[asset] = pd.Series(np.exp(np.log(lo) + walk * np.log(hi / lo)), index=idx)
        states[asset] = pd.DataFrame({s: np.where(rng.random(len(idx)) < 0.05, 2.0, 0.0) for s in _SIGNALS},
                                     index=idx)
        episodes.append({"asset": asset, "kind": "drawdown", "peak": idx[100], "trough": idx[130], "end": idx[200]})
        for s in _SIGNALS:
            # most signals crowd a corner (few alarms, short leads), as the real ones do
            crowd = rng.random() < 0.7
            rows.append({"signal": s, "asset": asset, "revised": False, "eligible": 20, "caught": 15,
                         "catch_rate": float(rng.uniform(0.2, 1.0)), "chance_rate": 0.6, "catch_edge": 0.15,
                         "time_warning": 0.2, "lead_median": float(rng.uniform(0, 12) if crowd else rng.uniform(0, 90)),
                         "lead_p25": 3.0, "lead_p75": 30.0, "fall_at_fire": 0.1,
                         "false_alarms_per_year": float(rng.uniform(2, 7) if crowd else rng.uniform(0, 22)),
                         "time_off": 0.05, "cagr_given_up": -0.000836, "turnover": 3.5, "named_caught": 2,
                         "named_eligible": 3, "first_reading": "2004-12-15"})
    table = pd.DataFrame(rows)[_TABLE_COLS]
    return Scorecard(table=table, episodes=pd.DataFrame(episodes), closes=closes, states=states,
                     calendars={a: v[3] for a, v in spans.items()}, created="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def card():
    return _card()


def test_scorecard_table_and_scatter_labels_fit(card, tmp_path):
    from riskoff.reports.scorecard import scorecard_html

    page = tmp_path / "scorecard.html"
    page.write_text(scorecard_html(card), encoding="utf-8")
    m = _probe(page, """
      var t=document.querySelector('table'),th=t.tHead.rows[0].cells,sc=document.getElementById('scatter');
      return {inner:window.innerWidth,page:document.documentElement.scrollWidth,last:box(th[th.length-1]),
              lastName:th[th.length-1].textContent,labels:texts(sc,'.textpoint text'),
              markers:boxes(sc,'.scatterlayer path.point')};""")
    assert m["page"] <= m["inner"]
    assert m["last"][2] <= m["inner"], f"{m['lastName']} ends at {m['last'][2]:.0f} px, off a {m['inner']} px window"
    assert len(m["labels"]) >= 8, "the scatter should still name a readable subset of its points"
    assert _label_clashes(m["labels"], m["markers"]) == []


def test_scorecard_price_panels_and_equity_log_axes_set_major_ticks(card, report_html):
    from riskoff.reports.scorecard import timeline_figure

    for asset in card.closes:
        axis = timeline_figure(card, asset).to_plotly_json()["layout"]["yaxis"]
        assert axis["type"] == "log"
        assert axis.get("tickmode") == "array" and axis.get("tickvals"), f"{asset}: plotly's own log ticks"
        mantissas = {round(v / 10 ** np.floor(np.log10(v)), 6) for v in axis["tickvals"]}
        assert mantissas <= {1, 2, 3, 5, 1.5, 7}, axis["tickvals"]
        assert 2 <= len(axis["tickvals"]) <= 7 and "dtick" not in axis
    # the run report's equity chart data carries the same kind of ticks for its log axis
    page = report_html.read_text(encoding="utf-8")
    charts = [json.loads(c) for c in re.findall(r'class="chart-data">(.*?)</script>', page)]
    logs = [c for c in charts if c["kind"] == "equity" and c["log"]]
    assert logs
    for c in logs:
        assert c.get("ticks") and c["ticks"]["vals"] == sorted(c["ticks"]["vals"]) and len(c["ticks"]["vals"]) >= 2


def test_log_ticks_are_major_ticks_only():
    from riskoff.reports.charts import log_ticks

    assert log_ticks(25, 700)["text"] == ["50", "100", "200", "500"]
    assert log_ticks(0.05, 110_000)["text"] == ["0.1", "1", "10", "100", "1,000", "10,000", "100,000"]
    assert log_ticks(0.8, 4.3)["text"] == ["1", "2", "3"]          # a short range gets 1-2-3
    assert len(log_ticks(1e-6, 1e9)["vals"]) <= 7                  # every other decade when need be
    assert log_ticks(1.1, 1.9) is None and log_ticks(0, 5) is None
