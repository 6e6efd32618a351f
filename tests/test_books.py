"""Books through a run (riskoff.run.books, riskoff.evaluation.books) and their config table.

Acceptance of issue 25: a one-asset book at weight 1 gives the same equity column as the
single-asset pair; a book whose rule is always invested equals its static book exactly; cutting
every input at a date leaves the book's windows that ended before it unchanged; bad input is one
error line naming the table and key.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from riskoff.run.config import parse_config
from riskoff.run.runner import simulate_config, write_run
from riskoff.util.errors import ConfigError

DOC = {
    "run": {"name": "books", "start": "2018-01-01", "end": "2021-12-31", "assets": ["SPY", "TLT", "BTC-USD"],
            "engine": "numba", "tearsheets": "none"},
    "baselines": {"rules": ["buy_and_hold", "ma_timing"]},
    "null": {"enabled": False}, "bootstrap": {"enabled": False},
    "portfolios": [
        {"name": "spy_only", "weights": {"SPY": 1.0}, "rebalance": "never", "strategies": ["ma_timing"]},
        {"name": "mixed", "weights": {"SPY": 0.5, "TLT": 0.3, "BTC-USD": 0.2}, "rebalance": "monthly",
         "risk_off_into": {"TLT": 1.0}, "strategies": ["ma_timing", "buy_and_hold"]},
    ],
}


@pytest.fixture(scope="module")
def result(data_dir):
    return simulate_config(parse_config(copy.deepcopy(DOC), "books.toml"), data_dir=data_dir)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, result):
    return write_run(result, tmp_path_factory.mktemp("books") / "run", tearsheets=False, report=True)


def test_a_tearsheet_per_book_rule_against_its_static_book(result, run_folder):
    from riskoff.run.runner import book_tearsheet_jobs

    jobs = {j.name: j for j in book_tearsheet_jobs(result)}
    assert set(jobs) == {"ma_timing__book_spy_only.html", "ma_timing__book_mixed.html",
                         "buy_and_hold__book_mixed.html"}
    job = jobs["ma_timing__book_mixed.html"]
    static = next(b for b in result.books if b.key == "mixed/static").equity
    np.testing.assert_array_equal(job.benchmark.to_numpy(), static.pct_change().iloc[1:].to_numpy())
    assert job.benchmark_label == "static book mixed" and job.periods_per_year == 365
    html = (run_folder / "report.html").read_text()
    assert "Books: de-risking or diversification" in html and "Hedge check" in html
    assert "## Books: de-risking or diversification" in (run_folder / "findings.md").read_text()


def _csv(folder, name):
    return pd.read_csv(folder / name, index_col=0, parse_dates=True)


def test_one_asset_book_is_the_single_asset_pair(run_folder):
    pair = _csv(run_folder, "equity.csv")["ma_timing/SPY"].dropna()
    book = _csv(run_folder, "book_equity.csv")["spy_only/ma_timing"].dropna()
    assert book.index.equals(pair.index)
    np.testing.assert_array_equal(book.to_numpy(), pair.to_numpy())
    assert book.iloc[-1] != _csv(run_folder, "book_equity.csv")["spy_only/static"].dropna().iloc[-1]


def test_always_invested_book_is_its_static_book(run_folder):
    eq = _csv(run_folder, "book_equity.csv")
    np.testing.assert_array_equal(eq["mixed/buy_and_hold"].to_numpy(), eq["mixed/static"].to_numpy())
    assert (eq["mixed/ma_timing"] - eq["mixed/static"]).abs().max() > 0.01


def test_book_outputs_state_causes_costs_and_annualisation(run_folder):
    import json

    orders = pd.read_csv(run_folder / "book_orders.csv")
    mixed = orders[(orders["book"] == "mixed") & (orders["strategy"] == "static")]
    assert set(mixed["cause"]) == {"initial", "rebalance"}  # a static book trades only to rebalance
    # monthly: every asset re-traded after the last NYSE session of each month, filled the next bar
    from riskoff.data.calendars import us_business_days
    sessions = us_business_days("2017-12-01", "2022-01-31")
    last_of_month = set(sessions[np.r_[sessions.month[1:] != sessions.month[:-1], True]])
    spy = pd.to_datetime(mixed.loc[(mixed["cause"] == "rebalance") & (mixed["column"] == "SPY"), "date"])
    assert len(spy) >= 40 and all(sessions[sessions.get_loc(d) - 1] in last_of_month for d in spy)
    stats = pd.read_csv(run_folder / "book_stats.csv").set_index(["book", "strategy"])
    fees = (mixed["fee"] + mixed["slippage"])[mixed["cause"] == "rebalance"]
    assert fees.sum() > 0 and stats.loc[("mixed", "static"), "rebalancing_cost"] > 0
    assert stats.loc[("mixed", "static"), "periods_per_year"] == 365
    assert stats.loc[("spy_only", "static"), "periods_per_year"] == 252
    assert stats.loc[("mixed", "ma_timing"), "cagr_given_up"] == pytest.approx(
        stats.loc[("mixed", "static"), "cagr"] - stats.loc[("mixed", "ma_timing"), "cagr"], abs=1e-11)
    summary = json.loads((run_folder / "summary.json").read_text())
    assert "365" in summary["books"]["annualisation"] and "252" in summary["books"]["annualisation"]
    windows = pd.read_csv(run_folder / "book_windows.csv")
    static = _csv(run_folder, "book_equity.csv")["mixed/static"]
    row = windows[(windows["book"] == "mixed") & (windows["window"] == "covid_312")].iloc[0]
    assert pd.Timestamp(row["trough"]) == static.loc["2020-02-19":"2020-04-30"].idxmin()


def test_hedge_check(run_folder):
    hedge = pd.read_csv(run_folder / "hedge.csv").set_index(["book", "window"])
    row = hedge.loc[("mixed", "covid_312")]
    w = {"SPY": 0.5, "TLT": 0.3, "BTC-USD": 0.2}
    prices = _csv(run_folder, "prices.csv")
    for a in w:  # each asset's own drawdown in the window, from its closes
        c = prices[a].dropna().loc["2020-02-19":"2020-04-30"]
        assert row[f"max_dd:{a}"] == pytest.approx((c / c.cummax() - 1).min(), rel=1e-9)
    weighted = sum(w[a] * abs(row[f"max_dd:{a}"]) for a in w)
    assert row["diversification_gap_pp"] == pytest.approx(100 * (weighted - abs(row["static_max_dd"])), rel=1e-9)
    assert row["n_window"] >= 15 and np.isfinite(row["corr_window"]) and "asynchronous" in row["corr_note"]
    short = hedge.loc[("mixed", "china_519")]  # 2021-05-12 .. 05-31: 12 common NYSE returns
    assert short["n_window"] < 15 and np.isnan(short["corr_window"]) and short["corr_note"].startswith("n/a")


def test_truncation_leaves_earlier_windows_unchanged(data_dir):
    def run(end):
        doc = copy.deepcopy(DOC)
        doc["run"]["end"] = end
        return simulate_config(parse_config(doc, "books.toml"), data_dir=data_dir)

    full, cut = run("2021-12-31"), run("2020-07-15")
    a = full.book_windows.set_index(["book", "strategy", "window"])
    b = cut.book_windows.set_index(["book", "strategy", "window"])
    done = [k for k in b.index if pd.Timestamp(b.loc[k, "end"]) + pd.Timedelta(days=60) < pd.Timestamp("2020-07-15")]
    assert {w for *_, w in done} == {"volmageddon_2018", "q4_2018", "covid_312"}
    for k in done:
        full_row, cut_row = a.loc[k], b.loc[k]
        back = pd.Timestamp(full_row["trough"]) + pd.Timedelta(days=full_row["reentry_lag_days"] or 0)
        cols = [c for c in a.columns if c != "reentry_lag_days" or back <= pd.Timestamp("2020-07-15")]
        pd.testing.assert_series_equal(full_row[cols], cut_row[cols], check_names=False)
    for key in ("mixed/ma_timing", "mixed/static"):
        f = next(x for x in full.books if x.key == key).equity
        c = next(x for x in cut.books if x.key == key).equity
        pd.testing.assert_series_equal(f.loc[:c.index[-1]], c, check_names=False)


BAD = [
    ({"weights": {"SPY": 0.5, "TLT": 0.4}}, r"portfolios\[0\] \(b\)\.weights sum to 0\.9, expected 1"),
    ({"weights": {"SPY": 0.5, "TLT": 0.4, "CASH": 0.05}}, r"portfolios\[0\] \(b\)\.weights sum to 0\.95"),
    ({"weights": {"SPY": 0.6, "XYZ": 0.4}}, r"portfolios\[0\] \(b\)\.weights: unknown asset 'XYZ'"),
    ({"weights": {"SPY": 0.6, "GLD": 0.4}}, r"portfolios\[0\] \(b\)\.weights: asset 'GLD' is not covered by the run"),
    ({"risk_off_into": {"TLT": 0.5, "NOPE": 0.5}}, r"portfolios\[0\] \(b\)\.risk_off_into: unknown asset 'NOPE'"),
    ({"risk_off_into": {"TLT": 0.5, "GLD": 0.4}}, r"portfolios\[0\] \(b\)\.risk_off_into shares sum to 0\.9"),
    ({"strategies": ["vix_or_bredth"]}, r"portfolios\[0\] \(b\)\.strategies: unknown strategy 'vix_or_bredth'"),
    ({"rebalance": "weekly"}, r"portfolios\[0\]\.rebalance = 'weekly'; expected 'monthly', 'quarterly' or 'never'"),
    ({"rebalance": {"band": 2}}, r"portfolios\[0\]\.rebalance\.band = 2; expected a number in \(0, 1\)"),
    ({"weights": {"SPY": "x"}}, r"portfolios\[0\]\.weights\.SPY = 'x'; expected a number >= 0"),
    ({"rebalnce": "monthly"}, r"portfolios\[0\]: unknown key 'rebalnce' \(did you mean 'rebalance'\?\)"),
    ({"wieghts": {}}, r"portfolios\[0\]: unknown key 'wieghts'"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_portfolio_tables_are_one_line_naming_table_and_key(change, message):
    doc = copy.deepcopy(DOC)
    doc["portfolios"] = [{"name": "b", "weights": {"SPY": 0.6, "TLT": 0.4}, **change}]
    with pytest.raises(ConfigError, match=r"^books\.toml: " + message) as err:
        parse_config(doc, "books.toml")
    assert "\n" not in str(err.value)


def test_intraday_series_in_a_book_is_a_named_error():
    doc = copy.deepcopy(DOC)
    doc["run"]["assets"] = ["SPY", "BINANCE-BTCUSDT-1H"]
    doc["portfolios"] = [{"name": "b", "weights": {"SPY": 0.6, "BINANCE-BTCUSDT-1H": 0.4}}]
    with pytest.raises(ConfigError, match=r"portfolios\[0\] \(b\)\.weights: 'BINANCE-BTCUSDT-1H' is an intraday "
                                          r"bar series \(1h\); books are daily only"):
        parse_config(doc, "books.toml")


def test_cash_key_holds_the_remainder():
    doc = copy.deepcopy(DOC)
    doc["portfolios"] = [{"name": "b", "weights": {"SPY": 0.5, "TLT": 0.3, "CASH": 0.2},
                          "risk_off_into": {"TLT": 0.5, "CASH": 0.5}, "rebalance": {"band": 0.05}}]
    (book,) = parse_config(doc, "books.toml").portfolios
    assert book.cash == 0.2 and book.weight == {"SPY": 0.5, "TLT": 0.3} and book.basket == {"TLT": 0.5}
    assert book.rebalance == "band" and book.band == 0.05
    assert book.strategies == ("ma_timing",)  # default: every strategy of the run but the baseline


def test_python_api_portfolio_and_backtest(data_dir):
    import riskoff as ro

    s = ro.Strategy("spy_ma", rule="ma_timing", assets=["SPY"])
    book = ro.Portfolio("sixty_forty", {"SPY": 0.6, "TLT": 0.4}, strategies=[s])
    r = ro.backtest(s, assets=["SPY"], start="2019-01-01", end="2020-12-31", portfolios=[book], data_dir=data_dir)
    assert set(r.config.assets) == {"SPY", "TLT"}  # the book's assets join the run
    assert set(r.book_stats["strategy"]) == {"static", "spy_ma"}
    covid = r.book_windows.query("window == 'covid_312' and strategy == 'spy_ma'").iloc[0]
    assert covid["exposure_at_trough"] == pytest.approx(0.4)  # the equity sleeve was cut, TLT uncovered
    with pytest.raises(ConfigError, match=r"riskoff\.Portfolio\(\): portfolios\[0\] \(x\)\.weights sum to 0\.5"):
        ro.Portfolio("x", {"SPY": 0.5})
    with pytest.raises(ConfigError, match=r"strategies: unknown strategy 'nope'"):
        ro.backtest(s, assets=["SPY"], start="2019-01-01", end="2020-12-31", data_dir=data_dir,
                    portfolios=[ro.Portfolio("y", {"SPY": 1.0}, strategies=["nope"])])


def test_crypto_is_sampled_at_the_nyse_close_from_the_hourly_series(run_folder, data_dir):
    from riskoff.data.align import load
    from riskoff.evaluation.books import nyse_close_sample

    hourly = load(["BINANCE-BTCUSDT-1H"], None, None, calendar="1h", data_dir=data_dir,
                  stale="allow")["BINANCE-BTCUSDT-1H.close"]
    # 16:00 New York = 20:00 UTC in daylight time, 21:00 UTC in winter: the close of the bar opening an hour earlier
    got = nyse_close_sample(hourly, pd.DatetimeIndex(["2025-10-10", "2026-02-05"]))
    assert got.tolist() == [116661.5, hourly.loc["2026-02-05 20:00"]]  # 2025-10-10T19:00Z bar's close (file)
    hedge = pd.read_csv(run_folder / "hedge.csv").set_index(["book", "window"])
    # 2021-05: Binance 1h starts 2021-01, too late for the year before; the CryptoCompare aggregate covers it
    assert "BTC-USD at 16:00 New York from CRYPTOCOMPARE-BTCUSD-1H" in hedge.loc[("mixed", "china_519"), "corr_note"]
    assert "asynchronous" in hedge.loc[("mixed", "covid_312"), "corr_note"]  # no hourly series a year before 2020-02


def test_no_look_ahead_a_closed_market_carries_its_last_decision_and_orders_fill_later(result):
    from riskoff.run.books import carried

    fri, sat, mon = pd.Timestamp("2020-03-13"), pd.Timestamp("2020-03-14"), pd.Timestamp("2020-03-16")
    s = pd.Series([0.25, 0.75], index=pd.DatetimeIndex([fri, mon]))
    assert carried(s, pd.date_range(fri, mon)).tolist() == [0.25, 0.25, 0.25, 0.75]  # never Monday's on Saturday
    book = next(b for b in result.books if b.key == "mixed/ma_timing")
    spy = next(p for p in result.pairs if p.strategy == "ma_timing" and p.asset == "SPY").target
    weekend = book.sleeves.index[book.sleeves.index.dayofweek >= 5]
    prior = spy.reindex(weekend, method="ffill")
    np.testing.assert_array_equal(book.sleeves.loc[weekend, "SPY"].to_numpy(), prior.to_numpy())
    # every order fills on a later bar than the decision it implements
    tgt = book.target
    for _, o in book.orders[book.orders["cause"] == "rule"].iterrows():
        decided = tgt.index[(tgt[o["column"]] == o["target"]) & (tgt.index < o["date"])]
        assert len(decided) and decided[-1] < o["date"]


BOOK_TOML = """
[run]
name = "books_cli"
start = 2018-01-01
end = 2021-12-31
assets = ["SPY", "TLT", "BTC-USD"]
engine = "numba"
tearsheets = "none"
[baselines]
rules = ["buy_and_hold", "ma_timing"]
[null]
enabled = false
[bootstrap]
enabled = false
[[portfolios]]
name = "spy_only"
weights = { SPY = 1.0 }
rebalance = "never"
strategies = ["ma_timing"]
[[portfolios]]
name = "mixed"
weights = { SPY = 0.5, TLT = 0.3, BTC-USD = 0.2 }
risk_off_into = { TLT = 1.0 }
strategies = ["buy_and_hold"]
"""


def test_through_riskoff_run(tmp_path, data_dir):
    """The two equalities of the acceptance list, through the command a user runs, from another folder."""
    import os
    import subprocess
    import sys

    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "books.toml").write_text(BOOK_TOML)
    (tmp_path / "elsewhere").mkdir()
    proc = subprocess.run([sys.executable, "-m", "riskoff", "run", str(tmp_path / "cfg" / "books.toml"),
                           "--no-tearsheets", "--out", str(tmp_path / "out")], cwd=tmp_path / "elsewhere",
                          env=dict(os.environ, RISKOFF_DATA_DIR=str(data_dir), MPLBACKEND="Agg"),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    pair, book = _csv(out, "equity.csv")["ma_timing/SPY"].dropna(), _csv(out, "book_equity.csv")
    np.testing.assert_array_equal(book["spy_only/ma_timing"].dropna().to_numpy(), pair.to_numpy())
    np.testing.assert_array_equal(book["mixed/buy_and_hold"].to_numpy(), book["mixed/static"].to_numpy())
