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

from riskoff.reports.browser import dump_dom, find_chromium, screenshot
from riskoff.reports.charts import CHARTS_CHECK_JS


@pytest.fixture(scope="module", autouse=True)
def chromium():
    path = find_chromium()
    if path is None:
        pytest.fail("Chromium not found: install the Debian package `chromium` (apt-get install -y chromium) "
                    "or point RISKOFF_CHROMIUM at a Chrome/Chromium binary")
    return path


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


def test_report_renders_without_console_errors(report_html):
    dom, console = dump_dom(report_html)
    assert console == []
    attrs = _body_attrs(dom)
    n_img = len(re.findall(r"<img ", report_html.read_text(encoding="utf-8")))
    assert attrs.get("data-charts-ok") == "true", attrs
    assert attrs["data-charts-total"] == str(n_img) and n_img > 0
    assert attrs["data-charts-broken"] == "0"


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
