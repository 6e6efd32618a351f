"""write_report: protection next to cost, chart data, offline self-containment and escaping."""
from __future__ import annotations

import html
import json
import re
import shutil

import pandas as pd
import pytest
from reports_synth import ASSETS, STRATEGIES, XSS

from riskoff.reports import write_report
from riskoff.reports.charts import plotly_js


def _page(path) -> str:
    return path.read_text(encoding="utf-8")


def _charts(page: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>',
                                              page, re.S)]


def _ranking_rows(page: str) -> list[tuple[str, str, list[str]]]:
    table = re.search(r'<table class="sortable" id="ranking">(.*?)</table>', page, re.S).group(1)
    out = []
    for attrs, cells in re.findall(r'<tr class=\'[^\']*\'([^>]*)>(.*?)</tr>', table, re.S):
        s, a = re.search(r'data-strategy="([^"]*)" data-asset="([^"]*)"', attrs).groups()
        texts = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        out.append((html.unescape(s), html.unescape(a), texts))
    return out


def test_ranking_puts_cost_next_to_protection_and_follows_its_rule(report_html, run_dir):
    page = _page(report_html)
    rows = _ranking_rows(page)
    assert {(s, a) for s, a, _ in rows} == {(s, a) for s in STRATEGIES for a in ASSETS}
    assert "Ordering rule:" in page and "frontier" in page
    stats = pd.DataFrame(json.loads((run_dir / "summary.json").read_text())["stats"]).set_index(["strategy", "asset"])
    windows = pd.read_csv(run_dir / "windows.csv")
    for asset in ASSETS:
        # Independent reference: dominance checked pair by pair, then the stated order.
        rules = [s for s in STRATEGIES if s != "buy_and_hold"]
        avoided = {s: windows[(windows.strategy == s) & (windows.asset == asset)].drawdown_avoided.mean() for s in rules}
        cost = {s: stats.loc[("buy_and_hold", asset), "cagr"] - stats.loc[(s, asset), "cagr"] for s in rules}
        dominated = {s: any(avoided[o] >= avoided[s] and cost[o] <= cost[s] and (avoided[o], cost[o]) != (avoided[s], cost[s])
                            for o in rules if o != s) for s in rules}
        expected = sorted(rules, key=lambda s: (dominated[s], -avoided[s], cost[s])) + ["buy_and_hold"]
        got = [(s, cells) for s, a, cells in rows if a == asset]
        assert [s for s, _ in got] == expected
        for s, cells in got:
            # columns: # strategy asset avoided protected given-up sharpe-change ...
            if s != "buy_and_hold":
                assert float(cells[5].replace("\xa0pp", "")) == pytest.approx(cost[s] * 100, abs=0.051)
                change = stats.loc[(s, asset), "sharpe"] - stats.loc[("buy_and_hold", asset), "sharpe"]
                assert float(cells[6]) == pytest.approx(change, abs=0.0051)


def test_ranking_shows_significance_marks_when_the_run_has_p_values(run_dir, tmp_path):
    run = tmp_path / "sig"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report.html", "tearsheets"))
    summary = json.loads((run / "summary.json").read_text())
    for i, row in enumerate(summary["stats"]):
        row["p_value"] = [0.004, 0.03, 0.4][i % 3]
    (run / "summary.json").write_text(json.dumps(summary))
    page = _page(write_report(run))
    assert ">Sig.</th>" in page
    rows = _ranking_rows(page)
    marks = {(s, a): cells[7] for s, a, cells in rows}
    expected = {(r["strategy"], r["asset"]): {0.004: "**", 0.03: "*", 0.4: "\xa0"}[r["p_value"]] for r in summary["stats"]}
    assert marks == expected
    # Without p-values the column is absent.
    assert ">Sig.</th>" not in _page(write_report(run_dir))


def test_heatmap_tells_held_from_nothing_to_avoid_from_protected(report_html, run_dir):
    page = _page(report_html)
    cells = re.findall(r'<td class="hm o-(\w+)" data-outcome="\w+" data-strategy="([^"]*)" data-asset="([^"]*)" '
                       r'data-window="([^"]*)"[^>]*>([^<]*)</td>', page)
    windows = pd.read_csv(run_dir / "windows.csv")
    expected = windows[windows["strategy"] != "buy_and_hold"]
    got = {(html.unescape(s), a, w): (o, html.unescape(t)) for o, s, a, w, t in cells}
    assert sorted(got) == sorted(zip(expected["strategy"], expected["asset"], expected["window"]))
    seen = set()
    for _, r in expected.iterrows():
        outcome, text = got[(r["strategy"], r["asset"], r["window"])]
        if r["bh_max_dd"] > -0.03:
            want = "nothing"
        elif r["drawdown_avoided"] >= 0.005:
            want = "protected"
        elif r["drawdown_avoided"] <= -0.005:
            want = "worse"
        else:
            want = "held" if r["exposure_at_trough"] >= 0.99 else "no_gain"
        assert outcome == want, (r["strategy"], r["window"], r["asset"])
        seen.add(outcome)
        if want in ("protected", "worse"):
            assert float(text.replace("\xa0pp", "")) == pytest.approx(r["drawdown_avoided"] * 100, abs=0.051)
        if want == "held":
            assert text == "held"
    assert "protected" in seen


def test_charts_carry_the_runs_own_numbers(report_html, run_dir):
    charts = _charts(_page(report_html))
    kinds = [c["kind"] for c in charts]
    # a frontier, an equity selector and exposure rows per asset + 3 window zooms (covid x2, 519 on BTC).
    assert sorted(kinds) == sorted(["frontier"] * 2 + ["equity"] * 2 + ["exposure"] * 2 + ["window"] * 3)
    equity = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=True)
    for c in (c for c in charts if c["kind"] == "equity"):
        days = pd.to_datetime(pd.Series(c["t"]).cumsum(), unit="D")
        bh = equity[f"buy_and_hold/{c['asset']}"].dropna()
        assert list(days) == list(bh.index)
        assert c["bh"] == pytest.approx(list(bh), rel=1e-3)
        assert c["first"] == c["order"][0] and set(c["order"]) == set(STRATEGIES) - {"buy_and_hold"}
    for c in (c for c in charts if c["kind"] == "frontier"):
        assert {p["name"] for p in c["points"]} == set(STRATEGIES) - {"buy_and_hold"}


def test_one_plotly_bundle_and_nothing_loaded_from_outside(report_html):
    page = _page(report_html)
    bundle = plotly_js()
    assert page.count(bundle) == 1 and len(bundle) > 500_000
    own = page.replace(bundle, "")
    assert "http://" not in own and "https://" not in own
    assert "<link" not in own and "@import" not in own and "url(" not in own
    assert re.findall(r'<script[^>]*\ssrc=', own) == []


def test_user_names_are_escaped(report_html):
    page = _page(report_html)
    assert XSS not in page
    assert html.escape(XSS) in page
    assert "\\u003cscript>alert(1)\\u003c/script>" in page  # inside the chart data
    # Window description, config values and the data dir are user input too.
    assert "<b>& friends</b>" not in page and "&lt;b&gt;&amp; friends&lt;/b&gt;" in page
    assert "<i>config</i>" not in page and "&lt;i&gt;config&lt;/i&gt;" in page
    assert "snapshot<1>" not in page and "snapshot&lt;1&gt;" in page


def test_header_how_to_read_and_annualisation(report_html):
    page = _page(report_html)
    assert "riskoff report &mdash; synthetic" in page
    assert "How to read this report" in page
    assert "<b>SPY</b>: 252 periods/year" in page
    assert "<b>BTC-USD</b>: 365 periods/year" in page
    for section in ("Protection vs cost", "Per window: protected, held through or nothing to avoid",
                    "Equity and drawdown", "Exposure timeline", "Window: COVID crash (312)",
                    "Window: China mining ban (519)"):
        assert section in page


def test_report_without_optional_files(run_dir, tmp_path):
    run = tmp_path / "bare"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report.html", "tearsheets"))
    for name in ("readings.csv", "states.csv", "events.csv", "exposure.csv"):
        (run / name).unlink()
    page = _page(write_report(run))
    assert "Exposure timeline" not in page
    kinds = [c["kind"] for c in _charts(page)]
    assert kinds.count("window") == 3 and kinds.count("exposure") == 0  # price-only zooms remain
