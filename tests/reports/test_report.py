"""write_report: contents, offline self-containment and escaping of every user-provided name."""
from __future__ import annotations

import base64
import html
import re
import shutil

import pandas as pd
import pytest
from reports_synth import ASSETS, STRATEGIES, XSS

from riskoff.reports import write_report
from riskoff.reports.report import periods_per_year, split_column, stats_frame, read_summary


def _page(path) -> str:
    return path.read_text(encoding="utf-8")


def test_ranking_table_has_one_row_per_strategy_and_asset(report_html, run_dir):
    page = _page(report_html)
    table = re.search(r'<table class="sortable" id="ranking">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r'<tr[^>]*data-strategy="([^"]*)" data-asset="([^"]*)"', table)
    expected = {(s, a) for s in STRATEGIES for a in ASSETS}
    assert {(html.unescape(s), html.unescape(a)) for s, a in rows} == expected
    assert len(rows) == len(expected)
    assert "Ranked within each asset by mean drawdown avoided" in page

    # Within each asset the rows are ordered by mean drawdown avoided across that asset's windows.
    windows = pd.read_csv(run_dir / "windows.csv")
    mean = windows.groupby(["strategy", "asset"])["drawdown_avoided"].mean()
    for asset in ASSETS:
        order = [html.unescape(s) for s, a in rows if html.unescape(a) == asset]
        values = [mean[(s, asset)] for s in order]
        assert values == sorted(values, reverse=True), (asset, order, values)


def test_heatmap_has_one_cell_per_strategy_asset_window(report_html, run_dir):
    page = _page(report_html)
    cells = re.findall(r'<td class="hm" data-strategy="([^"]*)" data-asset="([^"]*)" data-window="([^"]*)"'
                       r'[^>]*>([^<]*)</td>', page)
    windows = pd.read_csv(run_dir / "windows.csv")
    expected = windows[windows["strategy"] != "buy_and_hold"]
    got = [(html.unescape(s), html.unescape(a), html.unescape(w)) for s, a, w, _ in cells]
    assert sorted(got) == sorted(zip(expected["strategy"], expected["asset"], expected["window"]))
    assert len(set(got)) == len(got)  # no duplicates
    # Each cell shows the value in percentage points, sign included.
    for (s, a, w, text) in cells:
        row = expected[(expected["strategy"] == html.unescape(s)) & (expected["asset"] == a)
                       & (expected["window"] == w)].iloc[0]
        shown = float(html.unescape(text).replace("\xa0pp", "").replace("+", ""))
        assert shown == pytest.approx(row["drawdown_avoided"] * 100, abs=0.051)


def test_charts_are_inline_png_images(report_html):
    page = _page(report_html)
    srcs = re.findall(r'<img [^>]*src="([^"]*)"', page)
    # 2 equity/drawdown + 2 exposure timelines + 3 window zooms (covid on SPY and BTC, 519 on BTC).
    assert len(srcs) == 7
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_report_is_self_contained_offline(report_html):
    page = _page(report_html)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert re.findall(r'<script[^>]*\ssrc=', page) == []
    # Every src is inline data.
    assert all(s.startswith("data:") for s in re.findall(r'\ssrc="([^"]*)"', page))


def test_user_names_are_escaped(report_html):
    page = _page(report_html)
    assert XSS not in page
    assert html.escape(XSS) in page
    assert page.count("<script") == 1  # only the report's own inline script
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
    for section in ("Ranking", "Drawdown avoided: strategy x window", "Equity and drawdown", "Exposure timeline",
                    "Window: COVID crash (312)", "Window: China mining ban (519)"):
        assert section in page


def test_report_without_optional_files(run_dir, tmp_path):
    run = tmp_path / "bare"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report.html", "tearsheets"))
    for name in ("readings.csv", "states.csv", "events.csv", "exposure.csv"):
        (run / name).unlink()
    page = _page(write_report(run))
    assert "Exposure timeline" not in page
    assert len(re.findall(r"<img ", page)) == 2 + 3  # equity charts and price-only zooms remain


def test_periods_per_year_sources(run_dir):
    stats = stats_frame(read_summary(run_dir))
    assert periods_per_year("SPY", stats) == 252
    assert periods_per_year("BTC-USD", stats) == 365
    # Without stats rows: a series with weekend observations is a 7-day asset.
    daily = pd.Series(1.0, index=pd.date_range("2024-01-01", periods=30, freq="D"))
    bdays = pd.Series(1.0, index=pd.bdate_range("2024-01-01", periods=30))
    assert periods_per_year("SOL-USD", None, daily) == 365
    assert periods_per_year("QQQ", None, bdays) == 252
    assert periods_per_year("ETH-USD") == 365


def test_split_column():
    assert split_column("vix_or_breadth/BTC-USD") == ("vix_or_breadth", "BTC-USD")
    assert split_column("a/b/SPY") == ("a/b", "SPY")  # the asset is after the last slash
    assert split_column("SPY") == ("SPY", "")
