"""The main job end to end on the real snapshot (small config): outputs, atomicity, reproducibility."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load_catalog
from riskoff.run.config import load_config
from riskoff.run.runner import simulate_config, write_run

SMALL = Path(__file__).parent / "fixtures" / "configs" / "small.toml"


@pytest.fixture(scope="module")
def small_result(data_dir):
    return simulate_config(load_config(SMALL), data_dir=data_dir)


@pytest.fixture(scope="module")
def small_run(small_result, tmp_path_factory):
    return write_run(small_result, tmp_path_factory.mktemp("runs") / "small", tearsheets=False, report=False)


def test_run_folder_has_every_output(small_run):
    for name in ("summary.json", "windows.csv", "equity.csv", "exposure.csv", "events.csv", "prices.csv",
                 "readings.csv", "states.csv", "cash_rate.csv", "findings.md"):
        assert (small_run / name).is_file(), name
    assert not any(p.name.startswith(".") for p in small_run.parent.iterdir())


def test_summary_records_config_data_fingerprints_and_versions(small_run, data_dir):
    s = json.loads((small_run / "summary.json").read_text())
    assert s["run"]["config_hash"] and len(s["run"]["config_hash"]) == 64
    assert {"SPY", "BTC-USD", "VIX", "SOFR"} <= set(s["data"]["fingerprints"])
    assert s["data"]["data_dir"] == str(data_dir)
    assert {"python", "vectorbt", "pandas", "numpy"} <= set(s["versions"])
    ppy = {(r["strategy"], r["asset"]): r["periods_per_year"] for r in s["stats"]}
    assert ppy[("buy_and_hold", "BTC-USD")] == 365 and ppy[("buy_and_hold", "SPY")] == 252


def test_equity_and_exposure_columns_are_strategy_slash_asset(small_run, small_result):
    eq = pd.read_csv(small_run / "equity.csv", index_col="date", parse_dates=True)
    expected = {f"{s.name}/{a}" for a in ("SPY", "BTC-USD") for s in small_result.config.strategies_for(a)}
    assert set(eq.columns) == expected
    ex = pd.read_csv(small_run / "exposure.csv", index_col="date", parse_dates=True)
    assert set(ex.columns) == expected
    assert ex.min().min() >= 0 and ex.max().max() <= 1 + 1e-9
    # US columns are blank on weekends, crypto columns are not.
    sat = eq.loc["2020-03-14"]
    assert pd.isna(sat["buy_and_hold/SPY"]) and pd.notna(sat["buy_and_hold/BTC-USD"])


def test_buy_and_hold_tracks_the_asset(small_result):
    bh = next(p for p in small_result.pairs if p.key == "buy_and_hold/SPY")
    close = small_result.prices["SPY"]
    ratio = (bh.equity / close).iloc[2:]
    assert ratio.std() / ratio.mean() < 1e-9  # after the first fill, equity moves with the price


def test_windows_csv_has_a_row_per_strategy_asset_window_with_the_metrics(small_run, small_result):
    w = pd.read_csv(small_run / "windows.csv")
    for col in ("strategy_return", "bh_return", "strategy_max_dd", "bh_max_dd", "drawdown_avoided",
                "exposure_at_trough", "lead_time_days", "reentry_lag_days", "return_given_up_60d"):
        assert col in w.columns
    covid = w[(w.window == "covid_312") & (w.asset == "SPY")]
    assert set(covid.strategy) == {s.name for s in small_result.config.strategies_for("SPY")}
    bh = covid[covid.strategy == "buy_and_hold"].iloc[0]
    assert bh.bh_max_dd == pytest.approx(bh.strategy_max_dd) and bh.drawdown_avoided == pytest.approx(0)
    assert bh.bh_max_dd < -0.30
    btc = w[(w.window == "covid_312") & (w.asset == "BTC-USD")]
    assert (btc.trough == "2020-03-12").all()


def test_events_list_every_exposure_change_with_states(small_run, small_result):
    ev = pd.read_csv(small_run / "events.csv")
    assert set(ev.columns) == {"date", "strategy", "asset", "old_exposure", "new_exposure", "states"}
    vix = ev[(ev.strategy == "vix_or_ma") & (ev.asset == "SPY")]
    pair = next(p for p in small_result.pairs if p.key == "vix_or_ma/SPY")
    changes = (pair.target.fillna(0).diff().fillna(pair.target.fillna(0)) != 0).sum()
    assert len(vix) == changes
    assert vix.states.str.contains("vix_mean_reversion=").all()


def test_same_config_and_data_give_byte_identical_outputs(small_run, data_dir, tmp_path):
    # the rerun defers its significance stage to a background thread (as `riskoff run` does) while
    # write_run writes the other files: the outputs are the same bytes
    again = write_run(simulate_config(load_config(SMALL), data_dir=data_dir, defer_significance=True),
                      tmp_path / "again", tearsheets=False, report=False)
    names = sorted(p.name for p in small_run.glob("*.csv")) + ["findings.md"]
    assert {"windows.csv", "equity.csv", "exposure.csv", "events.csv", "cash_rate.csv"} <= set(names)
    for name in names:
        assert (small_run / name).read_bytes() == (again / name).read_bytes(), name


def test_windows_ending_before_a_data_cut_are_unchanged(small_result, data_dir, tmp_path):
    cut = pd.Timestamp("2023-06-30")
    catalog = load_catalog()
    for sid in small_result.fingerprints:
        rel = catalog[sid].relpath()
        lines = (data_dir / rel).read_text().splitlines(keepends=True)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("".join([lines[0]] + [ln for ln in lines[1:] if ln[:10] <= f"{cut:%Y-%m-%d}"]))
    cut_result = simulate_config(load_config(SMALL), data_dir=tmp_path)
    assert cut_result.end <= cut
    full, part = small_result.windows, cut_result.windows
    key = ["strategy", "asset", "window"]
    ended = full[pd.to_datetime(full.end) < cut_result.end]
    assert len(ended) >= 10
    merged = ended.merge(part, on=key, suffixes=("", "_cut"))
    assert len(merged) == len(ended)
    for col in ("strategy_return", "bh_return", "strategy_max_dd", "bh_max_dd", "drawdown_avoided",
                "exposure_at_trough", "lead_time_days", "reentry_lag_days"):
        pd.testing.assert_series_equal(merged[col], merged[f"{col}_cut"], check_names=False, rtol=1e-12)
    settled = merged[pd.to_datetime(merged.end) + pd.Timedelta(days=60) <= cut_result.end]
    pd.testing.assert_series_equal(settled["return_given_up_60d"], settled["return_given_up_60d_cut"],
                                   check_names=False, rtol=1e-12)


def test_a_deferred_significance_failure_surfaces_in_write_run(data_dir, tmp_path, monkeypatch):
    import riskoff.run.runner as runner

    def boom(*a, **k):
        raise RuntimeError("null failed")
    monkeypatch.setattr(runner, "assess", boom)
    result = simulate_config(load_config(SMALL), data_dir=data_dir, defer_significance=True)
    with pytest.raises(RuntimeError, match="null failed"):
        write_run(result, tmp_path / "broken", tearsheets=False, report=False)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_run_leaves_no_results_folder(small_result, tmp_path, monkeypatch):
    import riskoff.run.runner as runner

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(runner, "_records", boom)
    with pytest.raises(RuntimeError):
        write_run(small_result, tmp_path / "broken", tearsheets=False, report=False)
    assert list(tmp_path.iterdir()) == []


def test_series_added_in_the_config_serve_as_assets_and_signal_inputs(myspy_project, tmp_path):
    """A user's own series ([series.ID] in the run config) flows through every stage."""
    root, plugins = myspy_project
    config = tmp_path / "mine.toml"
    config.write_text(f"""
[run]
start = 2019-01-01
end = 2021-12-31
assets = ["MYSPY", "SPY"]
engine = "numba"
plugin_dirs = ["{plugins}"]
[baselines]
rules = ["buy_and_hold"]
[signals_alone]
signals = ["my_trend"]
[series.MYSPY]
family = "prices"
""")
    result = simulate_config(load_config(config), data_dir=root)
    eq = {p.key: p.equity for p in result.pairs}
    pd.testing.assert_series_equal(eq["buy_and_hold/MYSPY"], eq["buy_and_hold/SPY"], check_names=False)
    pd.testing.assert_series_equal(eq["my_trend/MYSPY"], eq["my_trend/SPY"], check_names=False)
    assert (eq["my_trend/MYSPY"] != eq["buy_and_hold/MYSPY"]).any()


def test_write_numbers_csv_writes_what_pandas_writes(tmp_path):
    from riskoff.run.runner import write_numbers_csv

    idx = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-05"], name="date")
    frame = pd.DataFrame({"a/X": [1.0, np.nan, -0.0, 1e-300], "b, c": [np.nan, np.nan, np.inf, -np.inf],
                          "d": [123456789.123456789, 2.5, np.nan, 0.1 + 0.2], "e": [np.nan] * 4}, index=idx)
    intraday = frame.set_axis(pd.date_range("2021-03-01 05:00", periods=4, freq="h", tz="UTC", name="date"))
    for f, fmt in ((frame, "%.12g"), (frame, "%.0f"), (intraday, "%.12g"), (frame[[]], "%.12g"),
                   (frame.assign(n=[1, 2, 3, 4]), "%.12g")):
        write_numbers_csv(f, tmp_path / "fast.csv", fmt)
        f.to_csv(tmp_path / "pandas.csv", float_format=fmt)
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes(), (fmt, list(f.columns))


def test_bootstraps_in_a_helper_process_equal_the_threaded_ones(small_result, data_dir):
    # `riskoff run` without tearsheets computes the bootstraps in a helper process (submit_bootstraps);
    # the intervals are the same numbers as the in-process threads give
    from riskoff.run.runner import submit_bootstraps
    from riskoff.run.workers import start_pool

    helper = start_pool(1, ["arch.bootstrap"])
    try:
        result = simulate_config(load_config(SMALL), data_dir=data_dir,
                                 on_simulated=lambda r: submit_bootstraps(r, helper))
    finally:
        helper.shutdown()
    assert result.bootstraps and all(f.done() for f in result.bootstraps.values())
    cols = ["cagr_diff", "cagr_diff_lo", "cagr_diff_hi", "sharpe_diff", "sharpe_diff_lo", "sharpe_diff_hi"]
    assert small_result.significance[cols].notna().any().all()
    pd.testing.assert_frame_equal(result.significance, small_result.significance)


def test_a_failing_tearsheet_surfaces_in_write_run_and_leaves_no_folder(small_result, tmp_path):
    class BrokenPages:  # stands in for riskoff.reports.tearsheets.PendingPages
        def __len__(self) -> int:
            return 1

        def write(self, out_dir, on_page=None):
            raise RuntimeError("quantstats broke")

    with pytest.raises(RuntimeError, match="quantstats broke"):
        write_run(small_result, tmp_path / "broken", report=False, pages=BrokenPages())
    assert list(tmp_path.iterdir()) == []


def test_windows_the_run_cannot_evaluate_are_named_never_dropped(small_result, small_run):
    # the small run starts 2019-01-01: the 2018 catalog windows are listed with the reason, not silently gone
    from types import SimpleNamespace

    from riskoff.evaluation.windows import SellOffWindow
    from riskoff.run.runner import skipped_windows
    from riskoff.util.errors import RiskoffWarning

    listed = {s["window"]: s["reason"] for s in json.loads((small_run / "summary.json").read_text())["windows_skipped"]}
    evaluated = set(pd.read_csv(small_run / "windows.csv")["window"])
    assert set(small_result.config.windows) == evaluated | set(listed) and not evaluated & set(listed)
    assert listed["q4_2018"] == "it starts 2018-09-20, before the run's start 2019-01-01"
    assert "Not evaluated: " in (small_run / "findings.md").read_text()

    # windows the config defines itself (1987, 2027, straddling the data's end): a warning each
    T = pd.Timestamp
    own = {"crash_1987": SellOffWindow("crash_1987", "Black Monday", T("1987-10-01"), T("1987-10-19"), T("1987-10-30")),
           "future": SellOffWindow("future", "Future", T("2027-01-01"), T("2027-01-10"), T("2027-01-30")),
           "straddle": SellOffWindow("straddle", "Straddle", small_result.end - pd.Timedelta(days=20),
                                     small_result.end - pd.Timedelta(days=10), small_result.end + pd.Timedelta(days=30))}
    import dataclasses
    cfg = dataclasses.replace(small_result.config, windows={**small_result.config.windows, **own},
                              raw={**small_result.config.raw, "windows": {k: {} for k in own}})
    with pytest.warns(RiskoffWarning) as caught:
        out = skipped_windows(SimpleNamespace(config=cfg, end=small_result.end), evaluated)
    assert {s["window"] for s in out} == set(listed) | set(own)
    assert sorted(str(w.message).split("windows.")[1].split(" ")[0] for w in caught) == sorted(own)
    assert any("after the run's end" in str(w.message) and "straddle" in str(w.message) for w in caught)
