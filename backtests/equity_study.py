"""Equity-only study: breadth, VIX, trend and rates signals on SPY, QQQ and IWM.

Run: `python backtests/equity_study.py [OUT_DIR]` (defaults to results/<timestamp>-equity_study).
"""
from __future__ import annotations

import sys
from datetime import datetime

import riskoff as ro


def main() -> None:
    strategies = [
        ro.Strategy("breadth_reentry", rule="reenter_when",
                    signals=["vix_mean_reversion", "breadth_collapse", "ma_break"],
                    params={"signals": ["vix_mean_reversion", "breadth_collapse"]}, overlays={"min_bars_out": 5}),
        ro.Strategy("ladder", rule="exposure_ladder",
                    signals=["vix_mean_reversion", "breadth_collapse", "yield_stability", "sofr_iorb_spread"],
                    overlays={"hysteresis": 0.1}),
    ]
    result = ro.backtest(strategies, assets=["SPY", "QQQ", "IWM"], start="2015-01-01",
                         baselines=("buy_and_hold", "ma_timing", "vol_target"))
    cols = ["strategy", "asset", "cagr", "max_drawdown", "sharpe", "calmar", "time_in_market"]
    print(result.stats[cols].round(3).to_string(index=False))
    print(result.windows.pivot_table(index="strategy", columns="window", values="drawdown_avoided").round(3))
    out = sys.argv[1] if len(sys.argv) > 1 else f"results/{datetime.now():%Y%m%d-%H%M%S}-equity_study"
    print("results:", ro.write(result, out))


if __name__ == "__main__":
    main()
