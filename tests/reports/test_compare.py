"""compare_runs: zero differences for identical runs, deltas for changed metrics, input warnings."""
from __future__ import annotations

import html
import json
import shutil

import pandas as pd
import pytest
from reports_synth import XSS

from riskoff.reports import compare_runs


def _copy(run_dir, dest):
    shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("report.html", "tearsheets"))
    return dest


def _edit_summary(run, fn):
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    fn(summary)
    path.write_text(json.dumps(summary))


def test_identical_runs_have_no_differences_and_no_warning(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")
    text, table = compare_runs(run_dir, other)
    assert "WARNING" not in text
    assert "No metric differences" in text
    assert (table["status"] == "same").all()
    assert (table["delta"].fillna(0) == 0).all()
    # Both sections are compared: 3 strategies x 2 assets stats, and every windows.csv row.
    n_windows = len(pd.read_csv(run_dir / "windows.csv"))
    assert table.loc[table["section"] == "windows", ["strategy", "asset", "window"]].drop_duplicates().shape[0] \
        == n_windows
    assert table.loc[table["section"] == "stats", ["strategy", "asset"]].drop_duplicates().shape[0] == 6


def test_changed_metric_shows_the_delta(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")

    def bump(summary):
        row = next(r for r in summary["stats"] if r["strategy"] == XSS and r["asset"] == "SPY")
        row["sharpe"] += 0.25

    _edit_summary(other, bump)
    windows = pd.read_csv(other / "windows.csv")
    sel = (windows["strategy"] == "vix_or_breadth") & (windows["window"] == "china_519")
    windows.loc[sel, "drawdown_avoided"] += 0.03
    windows.to_csv(other / "windows.csv", index=False)

    out = tmp_path / "cmp.html"
    text, table = compare_runs(run_dir, other, out_html=out)
    changed = table[table["status"] == "changed"]
    assert len(changed) == 2
    sharpe = changed[(changed["section"] == "stats") & (changed["metric"] == "sharpe")].iloc[0]
    assert (sharpe["strategy"], sharpe["asset"]) == (XSS, "SPY")
    assert sharpe["delta"] == pytest.approx(0.25)
    dd = changed[changed["section"] == "windows"].iloc[0]
    assert (dd["strategy"], dd["window"], dd["metric"]) == ("vix_or_breadth", "china_519", "drawdown_avoided")
    assert dd["delta"] == pytest.approx(0.03)
    assert "2 of" in text and "0.25" in text and "0.03" in text
    assert "WARNING" not in text  # same data and config hash
    page = out.read_text()
    assert XSS not in page and html.escape(XSS) in page and "0.25" in page


def test_different_data_and_config_warn_at_the_top(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")

    def change(summary):
        summary["data"]["fingerprints"]["SPY"] = "sha256:different"
        summary["data"]["fingerprints"]["GLD"] = "sha256:new"
        summary["run"]["config_hash"] = "cfg9999"

    _edit_summary(other, change)
    out = tmp_path / "cmp.html"
    text, table = compare_runs(run_dir, other, out_html=out)
    lines = text.splitlines()
    assert lines[0].startswith("WARNING: the runs used different data")
    assert "changed: SPY" in lines[0] and "only in B: GLD" in lines[0]
    assert "BTC-USD" not in lines[0] and "VIX" not in lines[0]  # unchanged series are not named
    assert lines[1].startswith("WARNING: the runs used different configs") and "cfg9999" in lines[1]
    assert (table["status"] == "same").all()  # the metrics themselves did not change
    page = out.read_text()
    assert page.index("WARNING: the runs used different data") < page.index("<h1>")


def test_rows_only_in_one_run(run_dir, tmp_path):
    other = _copy(run_dir, tmp_path / "b")
    _edit_summary(other, lambda s: s.update(stats=[r for r in s["stats"] if r["strategy"] != XSS]))
    text, table = compare_runs(run_dir, other)
    only = table[table["status"] == "only in A"]
    assert set(only["strategy"]) == {XSS} and set(only["section"]) == {"stats"}
    assert "only in A" in text
