"""Cross-engine verification: riskoff's exposure path replayed in bt (pmorissette) on real data.

bt is an independent, event-driven engine. Given the same decided exposure path (filled at the
next close, only when the decision changes), the same 10 bp fee and no cash interest (bt pays none),
its equity curve must agree with riskoff's to 1e-6 relative. bt is in the `xcheck` extra, which
`make test` installs.
"""
from __future__ import annotations

import warnings

import bt  # noqa: E402  (the xcheck extra; `make test` installs it)
import pandas as pd
import pytest

import riskoff as ro
from riskoff.engine.account import Costs

FEE_BPS = 10.0


@pytest.fixture(scope="module")
def derisking_run(data_dir):
    s = ro.Strategy("vix_or_ma", rule="any_off", signals=["vix_mean_reversion", "ma_break"],
                    overlays={"min_bars_out": 3})
    res = ro.backtest(s, assets=["SPY"], start="2015-01-01", end="2026-06-01", cash="none",
                      costs={"equity": Costs(FEE_BPS, 0.0)}, data_dir=data_dir)
    return res, next(p for p in res.pairs if p.strategy == "vix_or_ma")


def bt_equity(close: pd.Series, decided: pd.Series) -> pd.Series:
    held = decided.fillna(0.0).shift(1).fillna(0.0)          # decided at t, filled at the close of t+1
    change_days = list(held.index[held.ne(held.shift(1).fillna(0.0))])
    strategy = bt.Strategy("replay", [bt.algos.RunOnDate(*change_days),
                                      bt.algos.WeighTarget(held.to_frame(close.name)), bt.algos.Rebalance()])
    test = bt.Backtest(strategy, close.to_frame(close.name), initial_capital=1.0, integer_positions=False,
                       commissions=lambda q, p: abs(q * p) * FEE_BPS / 1e4, progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.run(test)["replay"].prices / 100.0              # bt indexes its price series at 100


def test_bt_reproduces_riskoff_equity_to_1e_6(derisking_run):
    res, pair = derisking_run
    close = res.prices["SPY"].rename("SPY")
    ours = pair.equity
    theirs = bt_equity(close, pair.target.reindex(close.index)).reindex(ours.index)
    assert (pair.target.diff().abs() > 0).sum() > 50            # a real de-risking path, many trades
    rel = (theirs / ours - 1.0).abs()
    assert rel.max() < 1e-6, f"max relative difference {rel.max():.2e} on {rel.idxmax():%Y-%m-%d}"


def test_the_comparison_would_catch_a_one_bar_timing_error(derisking_run):
    res, pair = derisking_run
    close = res.prices["SPY"].rename("SPY")
    early = bt_equity(close, pair.target.reindex(close.index).shift(-1))  # fills one bar too early
    rel = (early.reindex(pair.equity.index) / pair.equity - 1.0).abs()
    assert rel.max() > 1e-3
