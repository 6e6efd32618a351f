"""Metals liquidation: gold and silver sold on the same day as equities and bitcoin (the havens are sold for cash) is risk-off.

Reads the closes of GLD and SLV (gold and silver), SPY and BTC-USD on US bars (BTC's latest UTC close
published by 17:00 New York is the previous UTC day's, about 21 hours old; nothing is seen early).
It isolates the metals leg that ``cross_asset_liquidation`` folds into a four-asset count: that
signal's one-day, volatility-scaled returns (``days`` = 1: each asset's log return over its own
daily volatility of the previous ``vol_window`` bars) are reused as they are. The reading is the
weaker of the two metals' scaled returns (``min(z_GLD, z_SLV)``; -3 = a three-sigma day for the
weaker metal). Extras: ``z_GLD``, ``z_SLV``, ``z_SPY``, ``z_BTC`` and ``trigger`` (1 on a day
that met the risk-off rule).

States:
    risk-off  for ``hold`` bars (5) after a day where both metals fall at least ``sigma`` (-2)
              volatility units while SPY also falls and BTC fell on this bar or the one before
              (its close arrives a bar late): margin calls and a dash for cash (2013-04-12/15,
              2020-03-12, 2026-01-30 when SLV fell 28% and GLD 10%)
    caution   both metals at or below ``sigma`` on their own (a metals crash while equities or
              bitcoin hold up), or one metal at or below ``sigma`` with SPY and BTC down
    risk-on   otherwise.

Defaults from practice: a two-sigma daily fall is about the worst 2-3% of days for each metal;
requiring both metals and both risk assets down on the same day singles out forced, indiscriminate
selling. Holding the state five bars (one trading week) keeps a one-day print from being acted on
for one day only.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, Param, signal_frame
from riskoff.signals.contract import signal_named

INPUTS = ["GLD.close", "SLV.close", "SPY.close", "BTC-USD.close"]
CALENDAR = "us"
PARAMS = [
    Param("sigma", -2.0, low=-8.0, high=0.0, description="scaled one-day return at or below this = a metal sold"),
    Param("vol_window", 60, low=10, high=500, description="bars of daily-return volatility before the day"),
    Param("hold", 5, low=1, high=60, description="bars the risk-off state is held after a trigger day"),
]
WARMUP = lambda vol_window, hold, **_: vol_window + 1  # noqa: E731 - the cross-asset z with days = 1


def compute(data, sigma=-2.0, vol_window=60, hold=5):
    z = signal_named("cross_asset_liquidation").compute(data, days=1, vol_window=vol_window)
    gld, slv, spy, btc = (z[f"z_{a}"] for a in ("GLD", "SLV", "SPY", "BTC-USD"))
    complete = (gld.notna() & slv.notna() & spy.notna() & btc.notna()).to_numpy()
    both = ((gld <= sigma) & (slv <= sigma)).to_numpy()
    one = ((gld <= sigma) | (slv <= sigma)).to_numpy()
    # BTC's UTC close reaches a US bar about 21 hours late, so "BTC sold the same day" is its return
    # on this bar or the bar before (2020-03-12: SPY and both metals fell; BTC's -37% day is the next bar)
    risk_down = ((spy < 0) & ((btc < 0) | (btc.shift(1) < 0))).to_numpy()
    trigger = both & risk_down
    held = np.zeros(len(trigger), bool)
    last = -hold
    for i, t in enumerate(trigger):  # causal hold: a trigger covers its own bar and hold - 1 more
        if t:
            last = i
        held[i] = i - last < hold
    state = np.where(held, RISK_OFF, np.where(both | (one & risk_down), CAUTION, RISK_ON)).astype(float)
    state[~complete] = np.nan
    return signal_frame(np.fmin(gld, slv).where(complete), state, z_GLD=gld, z_SLV=slv, z_SPY=spy, z_BTC=btc,
                        trigger=np.where(complete, trigger.astype(float), np.nan))
