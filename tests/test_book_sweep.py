"""Book sweeps (riskoff.sweep.books) and the book null (riskoff.significance.books).

A variant of the grid that is the book as configured reproduces the run's own book (equity through
the same account, metrics with the run's definitions); the null's paths are the book with its
sleeves rotated together, and the unrotated path is the book itself.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from riskoff.sweep.books import parse_book_sweep, run_book_sweep, sweep_variants
from riskoff.util.errors import ConfigError

DOC = {
    "run": {"name": "bs", "start": "2018-01-01", "end": "2021-12-31", "assets": ["SPY", "TLT", "GLD"],
            "engine": "numba"},
    "sweep": {"metric": "calmar"},
    "strategy": {"name": "spy_ma", "rule": "ma_timing", "assets": ["SPY"]},
    "portfolio": {"name": "b", "weights": {"SPY": 0.6, "TLT": 0.2, "GLD": 0.2}, "rebalance": "monthly",
                  "risk_off_into": {"TLT": 0.5, "GLD": 0.5}},
    "grid": {"portfolio.risk_off_into.TLT": [0.0, 0.5, 1.0], "portfolio.risk_off_into.GLD": [0.0, 0.5],
             "portfolio.rebalance.band": [0.0, 0.05]},
}


@pytest.fixture(scope="module")
def swept(data_dir):
    return run_book_sweep(parse_book_sweep(copy.deepcopy(DOC), "bs.toml"), data_dir=data_dir)


def test_the_configured_variant_is_the_run_book(swept, data_dir):
    from riskoff.run.runner import simulate_config

    run = simulate_config(swept.config.run, data_dir=data_dir)
    stats = run.book_stats.set_index("strategy")
    row = swept.results.set_index(["portfolio.risk_off_into.TLT", "portfolio.risk_off_into.GLD",
                                   "portfolio.rebalance.band"]).loc[(0.5, 0.5, 0.0)]
    for k in ("cagr", "max_drawdown", "calmar", "sharpe", "cagr_given_up"):
        assert row[k] == pytest.approx(stats.loc["spy_ma", k], rel=1e-12, abs=1e-15), k
    covered = run.book_windows[(run.book_windows["strategy"] == "spy_ma") & (run.book_windows["static_max_dd"] <= -0.03)]
    assert row["dd_avoided_mean"] == pytest.approx(covered["drawdown_avoided"].mean(), rel=1e-12)
    assert row["turnover"] == pytest.approx(stats.loc["spy_ma", "turnover"], rel=1e-9)


def test_grid_shares_above_one_are_skipped_and_ranked_rows_are_complete(swept):
    assert swept.config.n_combos == 12
    assert len(swept.skipped) == 2 and set(swept.skipped["portfolio.risk_off_into.TLT"]) == {1.0}
    assert sorted(swept.results["rank"]) == list(range(1, 11))
    assert swept.results["calmar"].is_monotonic_decreasing
    # a basket that takes freed weight into bonds and gold differs from one that leaves it in cash
    r = swept.results.set_index(["portfolio.risk_off_into.TLT", "portfolio.risk_off_into.GLD",
                                 "portfolio.rebalance.band"])
    assert r.loc[(0.0, 0.0, 0.0), "cagr"] != r.loc[(1.0, 0.0, 0.0), "cagr"]


def test_bad_book_sweep_keys():
    doc = copy.deepcopy(DOC)
    doc["grid"] = {"portfolio.weights.SPY": [0.5]}
    with pytest.raises(ConfigError, match=r"bs\.toml: grid\.portfolio\.weights\.SPY: unknown grid key"):
        parse_book_sweep(doc, "bs.toml")
    doc["grid"] = {"portfolio.risk_off_into.QQQ": [0.5]}
    with pytest.raises(ConfigError, match=r"grid\.portfolio\.risk_off_into\.QQQ: asset 'QQQ' is not in run\.assets"):
        parse_book_sweep(doc, "bs.toml")


def test_book_null_paths_rotate_all_sleeves_together(swept, data_dir):
    from riskoff.run.runner import simulate_config
    from riskoff.significance.books import shifted_equity
    from riskoff.strategies.books import book_targets

    run = simulate_config(swept.config.run, data_dir=data_dir)
    rule = next(b for b in run.books if b.strategy == "spy_ma")
    eq = shifted_equity(rule, np.array([0, 37]))
    np.testing.assert_array_equal(eq[:, 0], rule.equity.to_numpy())  # offset 0: the book itself
    # offset 37: the same as a book whose every sleeve decided 37 bars later (circularly)
    from riskoff.engine.books import simulate_book
    rolled = pd.DataFrame(np.roll(rule.sleeves.fillna(0.0).to_numpy(), 37, axis=0), index=rule.sleeves.index,
                          columns=rule.sleeves.columns)
    m = rule.prep.inp
    close = pd.DataFrame(m.close, index=m.index, columns=m.columns)
    again = simulate_book(close, book_targets(rule.book, rolled), clocks=dict.fromkeys(m.columns, "us"),
                          cash_rate=run.books[0].cash_rate, costs={a: run.markets[a].costs for a in m.columns},
                          rebalance_at=rule.prep.rebal)
    np.testing.assert_allclose(eq[:, 1], again.equity.to_numpy(), rtol=1e-13)


@pytest.mark.parametrize("table, key, value, message", [
    ("sweep", "top", 0, "bs.toml: sweep.top = 0; expected a whole number >= 1"),
    ("sweep", "metrik", "calmar", "bs.toml: sweep: unknown key 'metrik' (did you mean 'metric'?)"),
    ("portfolio", "rebalance", "weekly", "bs.toml: portfolio.rebalance = 'weekly'; expected 'monthly'"),
    ("grid", "portfolio.rebalance.band", ["x"], "bs.toml: grid.portfolio.rebalance.band[0] = 'x'; expected a number"),
    ("grid", "portfolio.rebalance.band", {"start": 0, "stop": 0.1, "step": -1},
     "bs.toml: grid.portfolio.rebalance.band.step = -1; expected a number > 0"),
])
def test_book_sweep_tables_have_a_typed_schema(table, key, value, message):
    doc = copy.deepcopy(DOC)
    doc.setdefault(table, {})[key] = value
    with pytest.raises(ConfigError) as info:
        parse_book_sweep(doc, "bs.toml")
    assert str(info.value).startswith(message), str(info.value)
