"""riskoff vs backtrader vs backtesting.py on the same backtest: results checked equal first, then
timed. Prints JSON.

Strategy: 200-day moving-average timing on SPY, 2015-01-02 .. the last SPY close of the data:
exposure 1 while close > SMA(200) of the closes, else 0 (0 while the average warms up); the
decision of bar t fills at the close of bar t+1; zero fees, no slippage, uninvested cash earns
nothing; all-in / all-out. Every engine gets the same OHLC frame (2015 onwards) and computes the
SMA itself.

Conventions made equal:
    riskoff          ``simulate(close, exposure, costs=Costs(0, 0), fill="next_close")`` (fractional
                     units, target-percent sizing at the fill price).
    backtrader       ``order_target_percent`` placed on bar t+1 for the decision of bar t with
                     cheat-on-close (fills at that bar's close); a commission-info class that sizes
                     in fractional units (backtrader's default is whole shares), 1e-12 short of
                     all-in so that float rounding never triggers its "Margin" rejection.
    backtesting.py   ``trade_on_close=True`` (fills at the close of the bar the order is placed on),
                     orders placed on bar t+1 for the decision of bar t (it reads the previous bar's
                     close and SMA, because its ``next`` starts only once the SMA is defined);
                     ``FractionalBacktest`` with 1e-8-share units sized ``floor(equity / close)``: the
                     only difference left is that rounding (relative ~1e-11).
Equality: the three equity curves, normalised by the starting cash, agree to 1e-9 (relative) on
every bar; the number of fills is the same, except that a fill on the very last bar (a decision of
the second-to-last bar) settles after the data ends in backtrader and backtesting.py (it does not
move the equity there: zero costs).

Timing: best of several warm runs per engine, in this process; riskoff is timed end to end
(SMA + exposure + ``simulate``), as the bare kernel, and per backtest inside a 10,000-combination
sweep (the ``ma_timing`` rule, 100 SMA lengths x 100 trailing stops on the same SPY span and the
same zero costs and cash; ``riskoff.sweep``) whose (200, no stop) combination is checked against
``simulate`` on the full-history SMA(200) the rule uses.
"""
from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _timing import best_of  # benchmarks/ is on sys.path when a script runs

START = "2015-01-01"
WINDOW = 200
CASH = 1_000_000.0
RTOL = 1e-9


def load_spy() -> pd.DataFrame:
    from riskoff.data.align import load
    frame = load(["SPY"], START, None, calendar="us").dropna(subset=["SPY.close"])
    out = pd.DataFrame({"Open": frame["SPY.open"], "High": frame["SPY.high"], "Low": frame["SPY.low"],
                        "Close": frame["SPY.close"], "Volume": frame["SPY.volume"]})
    out.index.name = "date"
    return out


# ------------------------------------------------------------------------------------------ riskoff
def riskoff_run(ohlc: pd.DataFrame) -> pd.Series:
    from riskoff.engine import Costs, simulate
    close = ohlc["Close"].rename("SPY")
    sma = close.rolling(WINDOW).mean()
    expo = (close > sma).astype(float).where(sma.notna(), 0.0)
    res = simulate(close, expo, costs=Costs(0.0, 0.0), fill="next_close", init_cash=1.0)
    return res.equity.iloc[:, 0]


def riskoff_kernel(ohlc: pd.DataFrame):
    """The bare kernel call (inputs prepared once): what a sweep pays per column."""
    from riskoff.engine import Costs, _run_kernel, single_inputs
    close = ohlc["Close"].rename("SPY")
    sma = close.rolling(WINDOW).mean()
    expo = (close > sma).astype(float).where(sma.notna(), 0.0)
    inp = single_inputs(close, expo, open=None, cash_rate=None, costs=Costs(0.0, 0.0), fill="next_close",
                         rebalance=None, rebalance_band=0.05, rebalance_every=0, max_leverage=1.0, init_cash=1.0)
    bounds = np.arange(2)
    return lambda: _run_kernel(inp, bounds)


def riskoff_fills(ohlc: pd.DataFrame) -> int:
    from riskoff.engine import Costs, simulate
    close = ohlc["Close"].rename("SPY")
    sma = close.rolling(WINDOW).mean()
    expo = (close > sma).astype(float).where(sma.notna(), 0.0)
    return len(simulate(close, expo, costs=Costs(0.0, 0.0)).orders)


def riskoff_last_bar_fill(ohlc: pd.DataFrame) -> bool:
    from riskoff.engine import Costs, simulate
    close = ohlc["Close"].rename("SPY")
    sma = close.rolling(WINDOW).mean()
    expo = (close > sma).astype(float).where(sma.notna(), 0.0)
    orders = simulate(close, expo, costs=Costs(0.0, 0.0)).orders
    return bool(len(orders) and orders["date"].iloc[-1] == close.index[-1])


# ---------------------------------------------------------------------------------------- backtrader
def backtrader_run(ohlc: pd.DataFrame) -> tuple[pd.Series, int]:
    import backtrader as bt

    class Fractional(bt.CommInfoBase):
        params = (("stocklike", True), ("commtype", bt.CommInfoBase.COMM_PERC), ("percabs", True),
                  ("commission", 0.0))

        def getsize(self, price, cash):
            # fractional units; 1e-12 short of all-in so that float rounding of size x price never
            # exceeds the cash (backtrader would reject the order with "Margin")
            return self.p.leverage * (cash / price) * (1.0 - 1e-12)

    class Timing(bt.Strategy):
        def __init__(self):
            self.sma = bt.indicators.SimpleMovingAverage(self.data.close, period=WINDOW)
            self.held = 0.0
            self.fills = 0

        def next(self):
            # the decision of the previous bar, filled at this bar's close (cheat-on-close)
            prev = self.sma[-1]
            target = 1.0 if (not math.isnan(prev) and self.data.close[-1] > prev) else 0.0
            if target != self.held:
                self.order_target_percent(target=target)
                self.held = target

        def notify_order(self, order):
            if order.status == order.Completed:
                self.fills += 1

    class Equity(bt.Analyzer):
        def start(self):
            self.values = []

        def next(self):
            self.values.append(self.strategy.broker.getvalue())

        prenext = next
        nextstart = next

        def get_analysis(self):
            return self.values

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=ohlc, openinterest=None))
    cerebro.addstrategy(Timing)
    cerebro.addanalyzer(Equity, _name="equity")
    cerebro.broker.setcash(CASH)
    cerebro.broker.set_coc(True)
    cerebro.broker.set_checksubmit(False)
    cerebro.broker.addcommissioninfo(Fractional())
    strat = cerebro.run()[0]
    values = strat.analyzers.equity.get_analysis()
    # the fill placed on the last bar settles after the data ends; all earlier bars are valued at close
    eq = pd.Series(values, index=ohlc.index[-len(values):]) / CASH
    return eq, strat.fills


# ------------------------------------------------------------------------------------- backtesting.py
def backtesting_run(ohlc: pd.DataFrame) -> tuple[pd.Series, int]:
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    def sma(values, n):
        return pd.Series(values).rolling(n).mean().to_numpy()

    class Timing(Strategy):
        def init(self):
            self.sma = self.I(sma, self.data.Close, WINDOW)

        def next(self):
            # the decision of the previous bar (next() starts once the SMA is defined), filled at
            # this bar's close (trade_on_close)
            prev = self.sma[-2] if len(self.sma) > 1 else np.nan
            target = 1.0 if (not np.isnan(prev) and self.data.Close[-2] > prev) else 0.0
            if target > 0 and not self.position:
                self.buy(size=int(self.equity // self.data.Close[-1]))
            elif target == 0 and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt_ = FractionalBacktest(ohlc, Timing, cash=CASH, commission=0.0, trade_on_close=True,
                                 exclusive_orders=False, finalize_trades=False, fractional_unit=1e-8)
        stats = bt_.run()
    eq = stats["_equity_curve"]["Equity"] / CASH
    strat = stats["_strategy"]
    fills = 2 * len(strat.closed_trades) + len(strat.trades)  # entries and exits; open trades: entry only
    return eq, fills


# ---------------------------------------------------------------------------------------------------


def sweep_per_backtest(end: pd.Timestamp) -> dict:
    """riskoff's per-backtest time inside a 10,000-combination sweep on the same SPY span."""
    from riskoff.engine import Costs, simulate
    from riskoff.strategy import StrategyConfig, build_exposure
    from riskoff.sweep import asset_context, clear_caches, combo_params, parse_sweep_config, plan_sweep, run_sweep

    doc = {"run": {"name": "peers", "assets": ["SPY"], "start": START, "end": f"{end:%Y-%m-%d}", "cash": "none"},
           "sweep": {"metric": "sharpe"},
           "strategy": {"name": "ma", "rule": "ma_timing"},
           "grid": {"rule.window": {"start": 110, "stop": 605, "step": 5},
                    "overlays.trailing_stop": {"start": 0.0, "stop": 0.495, "step": 0.005}},
           "costs": {"index": {"fee_bps": 0, "slippage_bps": 0}, "equity": {"fee_bps": 0, "slippage_bps": 0}}}
    plan = plan_sweep(parse_sweep_config(doc, "bench_peers"))
    res = run_sweep(plan)

    def fresh():
        clear_caches()
        return run_sweep(plan)

    wall = best_of(fresh, 3)
    # check the (200, no stop) combination against simulate() on the rule's full-history SMA
    combo = next(c for c in range(plan.config.n_combos)
                 if combo_params(plan.config, c) == {"rule.window": 200, "overlays.trailing_stop": 0.0})
    row = res.results.set_index("combo").loc[combo]
    ctx = asset_context(plan, "SPY")
    expo = build_exposure(StrategyConfig("m", "ma_timing", params={"window": 200}), "SPY", start=START,
                          end=plan.end).exposure.reindex(ctx.index)
    eq = simulate(ctx.close_s, expo, costs=Costs(0.0, 0.0)).equity.iloc[:, 0]
    check = abs(row["total_return"] - (eq.iloc[-1] / eq.iloc[0] - 1.0))
    n = plan.config.n_combos
    return {"combinations": n, "warm_sweep_s": round(wall, 4), "per_backtest_s": wall / n,
            "metrics_included": True, "check_200_day_total_return_abs_diff": float(check),
            "check_ok": bool(check <= 1e-9)}


def main() -> None:
    import backtesting
    import backtrader

    ohlc = load_spy()
    rk = riskoff_run(ohlc)
    btr, bt_fills = backtrader_run(ohlc)
    bpy, bpy_fills = backtesting_run(ohlc)

    def rel(a: pd.Series, b: pd.Series) -> float:
        a, b = a.align(b, join="inner")
        return float(np.max(np.abs(a.to_numpy() / b.to_numpy() - 1.0)))

    checks = {
        "bars": len(ohlc), "riskoff_final_equity": float(rk.iloc[-1]),
        "backtrader_final_equity": float(btr.iloc[-1]), "backtesting_final_equity": float(bpy.iloc[-1]),
        "max_rel_diff_backtrader": rel(btr, rk), "max_rel_diff_backtesting": rel(bpy, rk),
        "bars_compared_backtrader": int(len(btr.index.intersection(rk.index))),
        "bars_compared_backtesting": int(len(bpy.index.intersection(rk.index))),
        "fills": {"riskoff": riskoff_fills(ohlc), "backtrader": bt_fills, "backtesting": bpy_fills},
        "riskoff_fill_on_last_bar": riskoff_last_bar_fill(ohlc),
        "tolerance_rel": RTOL,
    }
    expected_peer_fills = checks["fills"]["riskoff"] - int(checks["riskoff_fill_on_last_bar"])
    checks["equal"] = bool(checks["max_rel_diff_backtrader"] <= RTOL and checks["max_rel_diff_backtesting"] <= RTOL
                           and checks["fills"]["backtrader"] == expected_peer_fills
                           and checks["fills"]["backtesting"] == expected_peer_fills)
    if not checks["equal"]:
        print(json.dumps({"error": "results differ; no timing reported", "checks": checks}, indent=2))
        sys.exit(1)

    t_rk = best_of(lambda: riskoff_run(ohlc), 20)
    kern = riskoff_kernel(ohlc)
    kern()
    t_kernel = best_of(kern, 50)
    t_bt = best_of(lambda: backtrader_run(ohlc), 3)
    t_bpy = best_of(lambda: backtesting_run(ohlc), 3)
    sweep = sweep_per_backtest(ohlc.index[-1])
    per = sweep["per_backtest_s"]
    print(json.dumps({
        "strategy": f"SPY {ohlc.index[0]:%Y-%m-%d} .. {ohlc.index[-1]:%Y-%m-%d}: close > SMA({WINDOW}) -> 1 else 0, "
                    "decision at t filled at the close of t+1, zero costs, no cash yield",
        "versions": {"backtrader": backtrader.__version__, "backtesting": backtesting.__version__},
        "checks": checks,
        "seconds_per_backtest": {"riskoff_end_to_end": t_rk, "riskoff_kernel": t_kernel,
                                 "riskoff_in_10k_sweep": per, "backtrader": t_bt, "backtesting": t_bpy},
        "speedup_vs_backtrader": {"riskoff_end_to_end": round(t_bt / t_rk, 1), "riskoff_kernel": round(t_bt / t_kernel),
                                  "riskoff_in_10k_sweep": round(t_bt / per)},
        "speedup_vs_backtesting": {"riskoff_end_to_end": round(t_bpy / t_rk, 1),
                                   "riskoff_kernel": round(t_bpy / t_kernel),
                                   "riskoff_in_10k_sweep": round(t_bpy / per)},
        "target_2000x_vs_backtrader_in_sweep": t_bt / per >= 2000,
        "sweep": sweep,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))


if __name__ == "__main__":
    main()
