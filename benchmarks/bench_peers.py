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

Like with like. (1) One backtest against one backtest: riskoff end to end (SMA + exposure +
``simulate``), backtrader's ``cerebro.run`` and backtesting.py's ``Backtest.run``, each warm (best of
several runs in this process). (2) A grid against each peer's own optimiser: 20 SMA lengths
(110 .. 205 bars, step 5) as riskoff's 20 exposure columns in one ``simulate`` call, backtrader's
``optstrategy`` and backtesting.py's ``Backtest.optimize``, all in one process (maxcpus=1, a
one-worker pool) so no engine gets more cores. Both are checked before timing: every final equity
of the grid agrees to 1e-9 (relative) across the three engines, or the script exits non-zero.
warm as defined in benchmarks/_timing.py (the peers have no cache to warm, so no cold figures).
"""
from __future__ import annotations

import math
import multiprocessing.dummy
import os
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar

import _timing  # noqa: F401,E402  (first: puts this checkout on sys.path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _timing import best_of, check_checkout, emit, require  # noqa: E402

START = "2015-01-01"
WINDOW = 200
CASH = 1_000_000.0
RTOL = 1e-9
GRID = range(110, 210, 5)  # 20 SMA lengths (backtrader takes ~0.3 s a backtest)


def load_spy() -> pd.DataFrame:
    from riskoff.data.align import load
    frame = load(["SPY"], START, None, calendar="us").dropna(subset=["SPY.close"])
    out = pd.DataFrame({"Open": frame["SPY.open"], "High": frame["SPY.high"], "Low": frame["SPY.low"],
                        "Close": frame["SPY.close"], "Volume": frame["SPY.volume"]})
    out.index.name = "date"
    return out


# ------------------------------------------------------------------------------------------ riskoff
def riskoff_exposure(close: pd.Series, window: int) -> pd.Series:
    sma = close.rolling(window).mean()
    return (close > sma).astype(float).where(sma.notna(), 0.0)


def riskoff_run(ohlc: pd.DataFrame, window: int = WINDOW):
    from riskoff.engine.account import Costs, simulate
    close = ohlc["Close"].rename("SPY")
    return simulate(close, riskoff_exposure(close, window), costs=Costs(0.0, 0.0), fill="next_close", init_cash=1.0)


def riskoff_grid(ohlc: pd.DataFrame) -> pd.Series:
    """Final equity per SMA length: every length one exposure column of a single simulate call."""
    from riskoff.engine.account import Costs, simulate
    close = ohlc["Close"].rename("SPY")
    expo = pd.DataFrame({w: riskoff_exposure(close, w) for w in GRID})
    return simulate(close, expo, costs=Costs(0.0, 0.0), fill="next_close", init_cash=1.0).equity.iloc[-1]


# ---------------------------------------------------------------------------------------- backtrader
def backtrader_cerebro(ohlc: pd.DataFrame, windows=None):
    import backtrader as bt

    class Fractional(bt.CommInfoBase):
        params = (("stocklike", True), ("commtype", bt.CommInfoBase.COMM_PERC), ("percabs", True),
                  ("commission", 0.0))

        def getsize(self, price, cash):
            # fractional units; 1e-12 short of all-in so that float rounding of size x price never
            # exceeds the cash (backtrader would reject the order with "Margin")
            return self.p.leverage * (cash / price) * (1.0 - 1e-12)

    class Timing(bt.Strategy):
        params = (("window", WINDOW),)

        def __init__(self):
            self.sma = bt.indicators.SimpleMovingAverage(self.data.close, period=self.p.window)
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

    cerebro = bt.Cerebro(stdstats=False, maxcpus=1, optreturn=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=ohlc, openinterest=None))
    if windows is None:
        cerebro.addstrategy(Timing)
    else:
        cerebro.optstrategy(Timing, window=list(windows))
    cerebro.addanalyzer(Equity, _name="equity")
    cerebro.broker.setcash(CASH)
    cerebro.broker.set_coc(True)
    cerebro.broker.set_checksubmit(False)
    cerebro.broker.addcommissioninfo(Fractional())
    return cerebro


def backtrader_run(ohlc: pd.DataFrame) -> tuple[pd.Series, int]:
    strat = backtrader_cerebro(ohlc).run()[0]
    values = strat.analyzers.equity.get_analysis()
    # the fill placed on the last bar settles after the data ends; all earlier bars are valued at close
    eq = pd.Series(values, index=ohlc.index[-len(values):]) / CASH
    return eq, strat.fills


def backtrader_grid(ohlc: pd.DataFrame) -> pd.Series:
    """Final equity per SMA length from backtrader's own optimiser (optstrategy, one process)."""
    runs = backtrader_cerebro(ohlc, GRID).run()
    return pd.Series({r[0].p.window: r[0].analyzers.equity.get_analysis()[-1] / CASH for r in runs}).sort_index()


# ------------------------------------------------------------------------------------- backtesting.py
def backtesting_bt(ohlc: pd.DataFrame):
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    def sma(values, n):
        return pd.Series(values).rolling(n).mean().to_numpy()

    class Timing(Strategy):
        window = WINDOW

        def init(self):
            self.sma = self.I(sma, self.data.Close, self.window)

        def next(self):
            # the decision of the previous bar (next() starts once the SMA is defined), filled at
            # this bar's close (trade_on_close)
            prev = self.sma[-2] if len(self.sma) > 1 else np.nan
            target = 1.0 if (not np.isnan(prev) and self.data.Close[-2] > prev) else 0.0
            if target > 0 and not self.position:
                self.buy(size=int(self.equity // self.data.Close[-1]))
            elif target == 0 and self.position:
                self.position.close()

    return FractionalBacktest(ohlc, Timing, cash=CASH, commission=0.0, trade_on_close=True,
                              exclusive_orders=False, finalize_trades=False, fractional_unit=1e-8)


def backtesting_run(ohlc: pd.DataFrame) -> tuple[pd.Series, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtesting_bt(ohlc).run()
    eq = stats["_equity_curve"]["Equity"] / CASH
    strat = stats["_strategy"]
    fills = 2 * len(strat.closed_trades) + len(strat.trades)  # entries and exits; open trades: entry only
    return eq, fills


def backtesting_grid(ohlc: pd.DataFrame) -> pd.Series:
    """Final equity per SMA length from backtesting.py's own optimiser (grid, one worker)."""
    import backtesting
    backtesting.Pool = lambda *a, **k: multiprocessing.dummy.Pool(1)  # one worker, like the others
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, heat = backtesting_bt(ohlc).optimize(window=list(GRID), maximize="Equity Final [$]", return_heatmap=True)
    return pd.Series(heat.to_numpy() / CASH, index=heat.index.get_level_values("window")).sort_index()


# ---------------------------------------------------------------------------------------------------
def rel(a: pd.Series, b: pd.Series) -> float:
    a, b = a.align(b, join="inner")
    return float(np.max(np.abs(a.to_numpy() / b.to_numpy() - 1.0)))


def main() -> None:
    import backtesting
    import backtrader

    check_checkout()
    ohlc = load_spy()
    res = riskoff_run(ohlc)
    rk, orders = res.equity.iloc[:, 0], res.orders
    btr, bt_fills = backtrader_run(ohlc)
    bpy, bpy_fills = backtesting_run(ohlc)
    last_bar_fill = bool(len(orders) and orders["date"].iloc[-1] == ohlc.index[-1])
    checks = {
        "bars": len(ohlc), "riskoff_final_equity": float(rk.iloc[-1]),
        "backtrader_final_equity": float(btr.iloc[-1]), "backtesting_final_equity": float(bpy.iloc[-1]),
        "max_rel_diff_backtrader": rel(btr, rk), "max_rel_diff_backtesting": rel(bpy, rk),
        "bars_compared_backtrader": int(len(btr.index.intersection(rk.index))),
        "bars_compared_backtesting": int(len(bpy.index.intersection(rk.index))),
        "fills": {"riskoff": len(orders), "backtrader": bt_fills, "backtesting": bpy_fills},
        "riskoff_fill_on_last_bar": last_bar_fill, "tolerance_rel": RTOL,
    }
    expected_peer_fills = len(orders) - int(last_bar_fill)
    require(checks["max_rel_diff_backtrader"] <= RTOL and checks["max_rel_diff_backtesting"] <= RTOL
            and bt_fills == expected_peer_fills and bpy_fills == expected_peer_fills,
            "one backtest: equity curves and fills equal across engines", checks)
    grid = {"riskoff": riskoff_grid(ohlc), "backtrader": backtrader_grid(ohlc), "backtesting": backtesting_grid(ohlc)}
    grid_checks = {"combinations": len(GRID), "max_rel_diff_final_equity_backtrader": rel(grid["backtrader"], grid["riskoff"]),
                   "max_rel_diff_final_equity_backtesting": rel(grid["backtesting"], grid["riskoff"]),
                   "same_windows": all(list(g.index) == list(GRID) for g in grid.values())}
    require(grid_checks["same_windows"] and grid_checks["max_rel_diff_final_equity_backtrader"] <= RTOL
            and grid_checks["max_rel_diff_final_equity_backtesting"] <= RTOL,
            "grid: final equity of every SMA length equal across engines", grid_checks)

    one = {"riskoff": best_of(lambda: riskoff_run(ohlc), 20), "backtrader": best_of(lambda: backtrader_run(ohlc), 3),
           "backtesting": best_of(lambda: backtesting_run(ohlc), 3)}
    many = {"riskoff": best_of(lambda: riskoff_grid(ohlc), 5), "backtrader": best_of(lambda: backtrader_grid(ohlc), 1),
            "backtesting": best_of(lambda: backtesting_grid(ohlc), 1)}
    emit("peers", {
        "what": f"SPY {ohlc.index[0]:%Y-%m-%d} .. {ohlc.index[-1]:%Y-%m-%d}: close > SMA -> 1 else 0, decision at t "
                "filled at the close of t+1, zero costs, no cash yield",
        "versions": {"backtrader": backtrader.__version__, "backtesting": backtesting.__version__},
        "one_backtest_warm_s": one,
        "one_backtest_speedup": {p: round(one[p] / one["riskoff"], 1) for p in ("backtrader", "backtesting")},
        "grid": f"{len(GRID)} SMA lengths {GRID.start}..{GRID.stop - GRID.step}: riskoff one simulate call with "
                f"{len(GRID)} columns; backtrader optstrategy; backtesting.py Backtest.optimize; one process each",
        "grid_warm_s": many,
        "grid_speedup": {p: round(many[p] / many["riskoff"], 1) for p in ("backtrader", "backtesting")},
        "checks": {"one_backtest": checks, "grid": grid_checks},
    }, terms=("warm",))


if __name__ == "__main__":
    main()
