"""compare_runs: why two runs differ first, then headline deltas by size; the full table; the HTML page."""
from __future__ import annotations

import html
import json
import re
import shutil

import pandas as pd
import pytest
from reports_synth import XSS

from riskoff.reports import compare_runs


def _copy(run_dir, dest):
    shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("report.html"))
    return dest


def _edit_summary(run, fn):
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    fn(summary)
    path.write_text(json.dumps(summary))


def test_identical_runs_have_no_differences(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")
    text, table = compare_runs(run_dir, other)
    assert "Same date span, config, data fingerprints and library versions." in text
    assert "No headline change of 0.05 pp or more in 6 strategy x asset pairs." in text
    assert (table["status"] == "same").all()
    n_windows = len(pd.read_csv(run_dir / "windows.csv"))
    assert table.loc[table["section"] == "windows", ["strategy", "asset", "window"]].drop_duplicates().shape[0] \
        == n_windows
    assert table.loc[table["section"] == "stats", ["strategy", "asset"]].drop_duplicates().shape[0] == 6


def _headline_rows(text: str) -> list[list[str]]:
    body = text.split("Headline deltas", 1)[1].splitlines()[2:]
    return [re.split(r"\s{2,}", line.strip()) for line in body if line and not line.startswith("...")]


def test_headline_deltas_sorted_by_size_and_small_ones_hidden(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")

    def bump(summary):
        for r in summary["stats"]:
            if (r["strategy"], r["asset"]) == (XSS, "SPY"):
                r["cagr"] += 0.002          # +0.20 pp: shown
            if (r["strategy"], r["asset"]) == ("vix_or_breadth", "SPY"):
                r["max_drawdown"] -= 0.0004  # -0.04 pp: under the tolerance, hidden
    _edit_summary(other, bump)
    windows = pd.read_csv(other / "windows.csv")
    sel = (windows["strategy"] == "vix_or_breadth") & (windows["asset"] == "BTC-USD") & (windows["window"] == "china_519")
    windows.loc[sel, "drawdown_avoided"] += 0.03  # mean over BTC's 2 windows: +1.50 pp
    windows.to_csv(other / "windows.csv", index=False)

    text, table = compare_runs(run_dir, other)
    rows = _headline_rows(text)
    assert [(r[0], r[1]) for r in rows] == [("vix_or_breadth", "BTC-USD"), (XSS, "SPY")]
    assert rows[0][4].endswith("(+1.50)") and rows[1][2].endswith("(+0.20)")
    assert "4 more pair(s) with every headline change under 0.05 pp" in text
    assert len(table[table["status"] == "changed"]) == 3  # the full table still has every change
    everything = compare_runs(run_dir, other, show_all=True)[0]
    assert len(_headline_rows(everything)) == 6
    assert ("vix_or_breadth", "SPY") in [(r[0], r[1]) for r in _headline_rows(everything)]


def test_what_differs_about_the_runs_comes_first(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")

    def change(summary):
        summary["run"].update(start="2019-09-01", end="2021-06-30", end_limited_by="BINANCE-BTCUSDT")
        summary["data"]["fingerprints"]["SPY"] = "sha256:different"
        summary["data"]["fingerprints"]["GLD"] = "sha256:new"
        summary["config"]["note"] = "changed"
        summary["versions"]["pandas"] = "0.0"
        summary["stats"] = [r for r in summary["stats"] if r["asset"] != "BTC-USD"]

    _edit_summary(other, change)
    text, _ = compare_runs(run_dir, other)
    lines = text.splitlines()
    assert lines[2].startswith("DATE SPANS DIFFER") and "B 2019-09-01 .. 2021-06-30 (end: BINANCE-BTCUSDT)" in lines[2]
    assert lines[3] == "CONFIG: 1 key(s) changed: note: <i>config</i> & co -> changed"
    assert lines[4].startswith("DATA: fingerprints differ (changed: SPY; only in B: GLD)")
    assert lines[5].startswith("VERSIONS: pandas ") and lines[5].endswith("-> 0.0")
    assert lines[6] == "ONLY IN A: 3 strategy x asset pair(s): BTC-USD (all 3 strategies)"
    assert text.index("ONLY IN A") < text.index("Headline deltas")


def test_html_has_both_frontiers_and_tearsheet_headlines(run_dir, tearsheets, tmp_path):
    other = _copy(run_dir, tmp_path / "b")
    _edit_summary(other, lambda s: [r.update(cagr=r["cagr"] - 0.01) for r in s["stats"] if r["strategy"] == XSS])
    out = tmp_path / "cmp.html"
    compare_runs(run_dir, other, out_html=out)
    page = out.read_text()
    assert XSS not in page and html.escape(XSS) in page
    charts = [json.loads(m) for m in re.findall(r'class="chart-data">(.*?)</script>', page)]
    assert sorted(c["asset"] for c in charts) == ["BTC-USD", "SPY"]
    for c in charts:
        a = {p["name"]: p for p in c["points"]}
        b = {p["name"]: p for p in c["points_b"]}
        assert b[XSS]["x"] == pytest.approx(a[XSS]["x"] + 1.0, abs=1e-6)  # 1 pp more CAGR given up
    # one side-by-side table per tearsheet, the same numbers as the pages themselves
    for path in tearsheets:
        title = html.escape(path.name.removesuffix(".html").replace("__", " on "))
        assert f"<h3>{title}</h3>" in page
    tim = re.search(r"<tr><td>Time in Market</td><td class='n'>([^<]*)</td><td class='n'>([^<]*)</td>", page)
    assert tim and tim.group(1) == tim.group(2) and tim.group(1).endswith("%")


def test_default_run_against_one_parameter_changed_fits_a_terminal(default_run, default_run_changed):
    text, table = compare_runs(default_run, default_run_changed)
    lines = text.splitlines()
    print(text)
    assert len(lines) <= 60
    assert "CONFIG: 1 key(s) changed: strategies[vix_or_breadth].overlays.min_bars_out: 5 -> 7" in text
    assert "DATE SPANS DIFFER" not in text and "DATA:" not in text
    rows = _headline_rows(text)
    assert rows and {r[0] for r in rows} == {"vix_or_breadth"}  # only the changed rule moved
    changed = table[table["status"] == "changed"]
    assert set(changed.loc[changed["section"] == "stats", "strategy"]) == {"vix_or_breadth"}
