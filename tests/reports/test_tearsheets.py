"""write_tearsheets: one quantstats page per pair, right annualisation, escaped names, offline."""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from reports_synth import ASSETS, STRATEGIES, TEARSHEET_PAIRS, XSS

from riskoff.reports import write_tearsheets
from riskoff.reports.tearsheets import (
    normalise_pairs,
    period_returns,
    tearsheet_filename,
)


def test_one_page_per_requested_pair(tearsheets, run_dir):
    assert len(tearsheets) == len(TEARSHEET_PAIRS)
    for path, pair in zip(tearsheets, TEARSHEET_PAIRS):
        strategy, _, asset = pair.rpartition("/")
        assert path.parent == run_dir / "tearsheets"
        assert path.name == tearsheet_filename(strategy, asset)
        assert re.fullmatch(r"[A-Za-z0-9._-]+\.html", path.name)
        assert path.stat().st_size > 50_000


def test_pages_hold_quantstats_content_and_annualisation_label(tearsheets):
    spy, btc = (p.read_text(encoding="utf-8") for p in tearsheets)
    for page in (spy, btc):
        assert "QuantStats" in page
        assert "Sharpe" in page and "Max Drawdown" in page and "EOY Returns vs Benchmark" in page
        assert page.count("<svg") >= 10  # the charts, inline
        assert "buy_and_hold" in page  # the benchmark
    assert "annualised over 252 days" in spy and "Periods/Year: 252" in spy
    assert "annualised over 365 days" in btc and "Periods/Year: 365" in btc
    assert "annualised over 365" not in spy and "annualised over 252" not in btc


def test_titles_escaped_and_no_remote_resources(tearsheets):
    spy = tearsheets[0].read_text(encoding="utf-8")
    assert XSS not in spy
    assert html.escape(XSS) in spy
    assert f"<title>{html.escape(XSS)} on SPY" in spy
    for page in (p.read_text(encoding="utf-8") for p in tearsheets):
        assert "<script" not in page and "onload=" not in page  # no script, so no console errors
        assert "<link" not in page  # quantstats' web favicon is stripped
        assert not re.search(r'\ssrc="https?:', page)


def test_default_pairs_are_all_non_baseline_columns():
    cols = [f"{s}/{a}" for s in STRATEGIES for a in ASSETS]
    pairs = normalise_pairs(None, cols)
    assert pairs == [(s, a) for s in STRATEGIES if s != "buy_and_hold" for a in ASSETS]
    assert normalise_pairs([("x", "SPY"), "x/SPY", "y/BTC-USD"], cols) == [("x", "SPY"), ("y", "BTC-USD")]
    with pytest.raises(ValueError):
        normalise_pairs(["no_asset"], cols)


def test_returns_drop_non_trading_days():
    idx = pd.date_range("2024-01-01", periods=14, freq="D")
    eq = pd.Series(np.linspace(1.0, 1.13, 14), index=idx)
    eq[idx.dayofweek >= 5] = np.nan  # a US asset on the union calendar
    r = period_returns(eq)
    assert not r.isna().any()
    assert len(r) == eq.notna().sum() - 1
    # Monday's return is measured against Friday, not lost to a NaN weekend.
    assert r[pd.Timestamp("2024-01-08")] == pytest.approx(eq["2024-01-08"] / eq["2024-01-05"] - 1)


def test_file_names_are_sanitised_and_unique():
    a = tearsheet_filename("a/b", "SPY")
    b = tearsheet_filename("a_b", "SPY")
    assert a != b and "/" not in a
    assert tearsheet_filename("vix_or_breadth", "BTC-USD") == "vix_or_breadth__BTC-USD.html"


def test_missing_column_is_a_clear_error(run_dir):
    with pytest.raises(KeyError, match="no_such_strategy/SPY"):
        write_tearsheets(run_dir, pairs=["no_such_strategy/SPY"])


def _metric_row(page: str, name: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", page, re.S).group(1)
    return re.findall(r"<td>([^<]*)</td>", row)


def _div(page: str, div_id: str) -> str:
    start = page.index(f'<div id="{div_id}">')
    return page[start:page.index("</div>", start)]


def test_time_in_market_comes_from_the_exposure(tearsheets, run_dir):
    eq = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=True)
    ex = pd.read_csv(run_dir / "exposure.csv", index_col="date", parse_dates=True)
    for path, pair in zip(tearsheets, TEARSHEET_PAIRS):
        strategy, _, asset = pair.rpartition("/")
        page = path.read_text(encoding="utf-8")
        shown = [float(c.rstrip("%")) for c in _metric_row(page, "Time in Market")]
        expected = []
        for col in (f"buy_and_hold/{asset}", pair):
            bars = eq[col].dropna().index  # the asset's own calendar
            expected.append(sum(1 for d in bars if ex.at[d, col] > 0) / len(bars) * 100)
        assert shown == pytest.approx(expected, abs=0.051)
        assert expected[1] < 99  # the synthetic rule does sit out, so 100% would be wrong


def test_risk_free_is_the_money_market_rate_and_stated(tearsheets, run_dir):
    cash = pd.read_csv(run_dir / "cash_rate.csv", index_col="date", parse_dates=True)
    eq = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=True)
    for path, pair in zip(tearsheets, TEARSHEET_PAIRS):
        asset = pair.rpartition("/")[2]
        page = path.read_text(encoding="utf-8")
        dates = eq[pair].dropna().index[1:]  # return dates
        mean = cash[asset].reindex(dates).mean()
        assert [float(c.rstrip("%")) for c in _metric_row(page, "Risk-Free Rate")] == pytest.approx([mean] * 2, abs=0.006)
        assert "returns in excess of it" in page
        for name in ("Treynor Ratio", "Ulcer Performance Index", "Serenity Index"):
            assert all(re.fullmatch(r"-|-?\d+\.\d+%?", c) for c in _metric_row(page, name)), name


def test_glyphs_eoy_chart_and_nothing_after_the_end(tearsheets, run_dir):
    eq = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=True)
    for path, pair in zip(tearsheets, TEARSHEET_PAIRS):
        page = path.read_text(encoding="utf-8")
        assert "\ufe6a" not in page and "<td>CAGR</td>" in page
        series = eq[pair].dropna()
        years = sorted(set(series.index.year[1:]))
        eoy = _div(page, "eoy_returns")
        labels = re.findall(r">(\d{4})</text>", eoy)
        assert labels == [str(y) for y in years]  # one label per year, in order, on the bars' axis
        heat = _div(page, "monthly_heatmap")
        values = re.findall(r">(-?\d+\.\d\d)</text>", heat)
        months = {(d.year, d.month) for d in series.index[1:]}
        assert len(values) == len(months)  # no 0.00 for months after the run's end


def test_a_page_rendered_again_is_the_same_bytes(tearsheets, run_dir, tmp_path):
    # fixed SVG id salt and no creation date: a rerun writes the same page (rendered in this process,
    # the session's pages in pool workers)
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("tearsheets"))
    pair = TEARSHEET_PAIRS[0]
    first = tearsheets[0]
    again = write_tearsheets(copy, pairs=[pair], workers=1)[0]
    assert again.name == first.name
    assert again.read_bytes() == first.read_bytes()
