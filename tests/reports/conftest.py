"""Shared fixtures for the report tests: one synthetic run folder, its report and two tearsheets.

They are session-scoped because quantstats takes seconds per tearsheet; tests that need to change a
run work on a copy.
"""
from __future__ import annotations

import time

import pytest
from reports_synth import TEARSHEET_PAIRS, make_run

from riskoff.reports import write_report, write_tearsheets


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("reports"), name="synthetic")


@pytest.fixture(scope="session")
def report_html(run_dir):
    t0 = time.perf_counter()
    path = write_report(run_dir)
    print(f"\nwrite_report: {time.perf_counter() - t0:.2f} s")
    return path


@pytest.fixture(scope="session")
def tearsheets(run_dir):
    t0 = time.perf_counter()
    paths = write_tearsheets(run_dir, pairs=TEARSHEET_PAIRS, workers=2)
    print(f"\nwrite_tearsheets ({len(paths)} pages, 2 workers): {time.perf_counter() - t0:.2f} s")
    return paths


@pytest.fixture(scope="module")
def chromium():
    """The headless Chromium the browser tests drive; a clear failure (not a skip) when it is missing."""
    from riskoff.reports.browser import find_chromium

    path = find_chromium()
    if path is None:
        pytest.fail("Chromium not found: install the Debian package `chromium` (apt-get install -y chromium) "
                    "or point RISKOFF_CHROMIUM at a Chrome/Chromium binary")
    return path
