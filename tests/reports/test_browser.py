"""The report and a tearsheet in a real headless Chromium: no console errors, every chart renders.

Chromium is required (Debian package ``chromium``; CI installs it): without it these tests FAIL.
The charts are checked by the report's own inline script, which writes the number of rendered and
broken charts into ``<body data-charts-*>`` on load; ``--dump-dom`` returns the DOM after that.
A probe page first proves the harness notices console errors and broken images at all.
"""
from __future__ import annotations

import re
import struct

import pytest

from riskoff.reports.browser import dump_dom, screenshot
from riskoff.reports.charts import CHARTS_CHECK_JS

pytestmark = pytest.mark.usefixtures("chromium")  # tests/reports/conftest.py: found, or a clear failure


def _body_attrs(dom: str) -> dict[str, str]:
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', body.group(1)))


def test_harness_detects_console_errors_and_broken_images(tmp_path):
    page = tmp_path / "probe.html"
    page.write_text(
        "<!DOCTYPE html><html><body><img src='data:image/png;base64,AAAA'>"
        "<script>console.error('probe-error'); undefined_function();</script>"
        f"<script>{CHARTS_CHECK_JS}</script></body></html>")
    dom, console = dump_dom(page)
    assert any("probe-error" in line for line in console), console
    assert any("Uncaught" in line for line in console), console
    attrs = _body_attrs(dom)
    assert attrs["data-charts-ok"] == "false" and attrs["data-charts-broken"] == "1"


def test_report_renders_without_console_errors(report_html, run_dir):
    import json
    dom, console = dump_dom(report_html)
    assert console == []
    attrs = _body_attrs(dom)
    n_charts = report_html.read_text(encoding="utf-8").count('class="chart-data"')
    assert attrs.get("data-charts-ok") == "true", attrs
    assert attrs["data-charts-total"] == str(n_charts) and n_charts > 0
    assert attrs["data-charts-broken"] == "0"
    # plotly drew every chart, and the selectors hold one option per strategy of each asset.
    assert dom.count('class="main-svg"') >= n_charts
    stats = json.loads((run_dir / "summary.json").read_text())["stats"]
    rules = {r["asset"]: sum(1 for s in stats if s["asset"] == r["asset"] and s["strategy"] != "buy_and_hold")
             for r in stats}
    selects = re.findall(r'<select aria-label="([^"]+) strategy">(.*?)</select>', dom, re.S)
    assert sorted(a for a, _ in selects) == sorted(rules)
    for asset, options in selects:
        assert options.count("<option") == rules[asset]
        # the first option names the rule's CAGR given up, as the run computed it
        first = re.search(r"<option[^>]*>#1 (.+?): avoids ([-+\d.]+) pp, gives up ([-+\d.]+) pp/yr", options)
        by = {s["strategy"]: s for s in stats if s["asset"] == asset}
        given_up = (by["buy_and_hold"]["cagr"] - by[html_unescape(first.group(1))]["cagr"]) * 100
        assert float(first.group(3)) == pytest.approx(given_up, abs=0.006)


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


def test_tearsheet_renders_without_console_errors(tearsheets, tmp_path):
    # The tearsheet has no script of its own; check a copy with the same chart probe injected.
    text = tearsheets[0].read_text(encoding="utf-8")
    probe = tmp_path / tearsheets[0].name
    probe.write_text(text.replace("</body>", f"<script>{CHARTS_CHECK_JS}</script></body>", 1), encoding="utf-8")
    dom, console = dump_dom(probe)
    assert console == []
    attrs = _body_attrs(dom)
    assert attrs.get("data-charts-ok") == "true", attrs
    assert int(attrs["data-charts-total"]) >= 10  # quantstats' inline SVG charts


def test_screenshot_of_report(report_html, tmp_path):
    png = screenshot(report_html, tmp_path / "report.png", width=1200, height=1600)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 1600)
    assert len(data) > 50_000  # a real page, not a blank canvas


def test_tearsheet_time_in_market_rendered_equals_the_runs_figure(tearsheets, run_dir):
    import json
    stats = {(r["strategy"], r["asset"]): r for r in json.loads((run_dir / "summary.json").read_text())["stats"]}
    strategy, _, asset = tearsheets[1].name.removesuffix(".html").partition("__")
    dom, console = dump_dom(tearsheets[1])
    assert console == []
    row = re.search(r"<tr><td>Time in Market</td><td>([\d.]+)%</td><td>([\d.]+)%</td></tr>", dom)
    assert row, "no Time in Market row in the rendered page"
    assert float(row.group(2)) == pytest.approx(stats[(strategy, asset)]["time_in_market"] * 100, abs=0.1)
    assert float(row.group(1)) == pytest.approx(stats[("buy_and_hold", asset)]["time_in_market"] * 100, abs=0.1)
