"""The default cost table, pinned, and what a BTC order actually pays in basis points of notional.

The run and the sweep share ``DEFAULT_COSTS`` (through ``riskoff.run.config.parse_costs``), so their
equivalence tests cannot see a change to it; these pin the published figures (README, engine
docstring): equity, index, bond and fx 1 bp fee + 2 bps slippage, commodity 1 + 3, volatility
2 + 5, crypto 10 + 5.
"""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from riskoff.data import load_catalog
from riskoff.engine.account import DEFAULT_COSTS, simulate
from riskoff.run.config import load_config
from riskoff.util.paths import PROJECT_ROOT as ROOT

PUBLISHED = {"equity": (1, 2), "index": (1, 2), "bond": (1, 2), "fx": (1, 2), "commodity": (1, 3),
             "volatility": (2, 5), "crypto": (10, 5)}


def test_default_cost_table_is_the_published_one():
    assert {k: (c.fee_bps, c.slippage_bps) for k, c in DEFAULT_COSTS.items()} == PUBLISHED


def test_every_tradable_catalog_asset_has_a_cost_class():
    catalog = load_catalog()
    assert catalog["BTC-USD"].asset_class == catalog["ETH-USD"].asset_class == "crypto"
    assert catalog["SPY"].asset_class == "equity" and catalog["TLT"].asset_class == "bond"
    assert {s.asset_class for s in catalog.values() if s.family == "prices"} <= set(PUBLISHED)


def test_the_default_run_and_sweep_configs_use_the_table():
    from riskoff.sweep import parse_sweep_config

    run = load_config(ROOT / "backtests" / "selloffs.toml")
    sweep = parse_sweep_config({"run": {"name": "t", "assets": ["BTC-USD"], "start": "2020-01-01"},
                                "strategy": {"name": "ma", "rule": "ma_timing"},
                                "grid": {"rule.window": {"start": 50, "stop": 60, "step": 10}}}, "test")
    for costs in (run.costs, sweep.costs):
        assert {k: (costs[k].fee_bps, costs[k].slippage_bps) for k in PUBLISHED} == PUBLISHED


def btc_closes(data_dir) -> pd.Series:
    with open(data_dir / "series" / "prices" / "BTC-USD.csv", newline="") as fh:
        rows = {r["date"]: float(r["close"]) for r in csv.DictReader(fh) if "2021-01-01" <= r["date"] <= "2021-01-10"}
    return pd.Series(rows, name="BTC-USD").rename(index=pd.Timestamp)


def test_a_btc_buy_pays_10_bps_of_notional_and_fills_5_bps_above_the_close(data_dir):
    close = btc_closes(data_dir)
    exposure = pd.Series(0.0, index=close.index)
    exposure.iloc[2:6] = 1.0                       # decided on bar 2: buy on bar 3, sell on bar 7
    res = simulate(close, exposure, costs=DEFAULT_COSTS["crypto"])
    buy, sell = res.orders.iloc[0], res.orders.iloc[1]
    assert (buy["side"], buy["date"], sell["side"], sell["date"]) == ("buy", close.index[3], "sell", close.index[7])
    assert buy["price"] == pytest.approx(close.iloc[3] * 1.0005, rel=1e-14)
    assert sell["price"] == pytest.approx(close.iloc[7] * 0.9995, rel=1e-14)
    for order in (buy, sell):
        assert order["fee"] / order["notional"] * 1e4 == pytest.approx(10.0, rel=1e-12)
    # all-in buy of an account worth 1: the position is worth 1 / (1.0005 x 1.001) at the fill close
    assert res.equity.iloc[3, 0] == pytest.approx(1 / (1.0005 * 1.001), rel=1e-12)
