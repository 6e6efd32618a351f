"""Crypto-only study: which on-chain / funding / volatility rules protected BTC and ETH?

Run: `python backtests/crypto_study.py [OUT_DIR]` (defaults to results/<timestamp>-crypto_study).
The same thing as a config run, through the Python API.
"""
from __future__ import annotations

import sys
from datetime import datetime

import riskoff as ro


def main() -> None:
    strategies = [
        ro.Strategy("mvrv_or_funding", rule="any_off", signals=["mvrv_bands", "funding_spreads"],
                    overlays={"min_bars_out": 3}),
        ro.Strategy("two_of_four", rule="k_of_n",
                    signals=["mvrv_bands", "funding_spreads", "vix_mean_reversion", "cross_asset_liquidation"],
                    params={"k": 2, "caution_weight": 0.5}, overlays={"trailing_stop": 0.25}),
        ro.Strategy("vix_spike", rule="any_off", signals=["vix_mean_reversion"]),
    ]
    result = ro.backtest(strategies, assets=["BTC-USD", "ETH-USD"], start="2018-01-01",
                         baselines=("buy_and_hold", "ma_timing", "vol_target"))
    cols = ["strategy", "asset", "cagr", "max_drawdown", "sharpe", "calmar", "false_alarms"]
    print(result.stats[cols].round(3).to_string(index=False))
    crypto = result.windows[result.windows.window.isin(["china_519", "luna_2022", "ftx_2022", "crypto_1010_2025",
                                                        "deleveraging_feb_2026"])]
    print(crypto.pivot_table(index="strategy", columns="window", values="drawdown_avoided").round(3))
    out = sys.argv[1] if len(sys.argv) > 1 else f"results/{datetime.now():%Y%m%d-%H%M%S}-crypto_study"
    print("results:", ro.write(result, out))


if __name__ == "__main__":  # tearsheets render in a process pool
    main()
