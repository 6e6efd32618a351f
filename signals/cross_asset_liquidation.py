"""Cross-asset liquidation: equities, gold, silver and bitcoin falling together ("sell everything") is risk-off.

Reads the closes of SPY (US equities), GLD and SLV (gold and silver) and BTC-USD on US bars. BTC
trades on UTC days; on US bar t the loader gives the latest UTC close published by 17:00 New York,
i.e. the previous UTC day's close (about 21 hours old), so nothing is seen early.

For each asset, the ``days``-bar log return is scaled by that asset's own daily volatility over the
``vol_window`` bars before the move (sd x sqrt(days)), so a 5% week means more for gold than for
bitcoin. An asset is "liquidating" when its scaled return is at or below ``sigma``. The reading is
the number of liquidating assets (0-4). Extras: ``avg_corr`` (mean pairwise ``corr_window``-bar
correlation of daily returns: in a dash for cash everything moves together) and ``z_<asset>``
(each scaled return).

States:
    risk-off  at least ``min_assets`` (3 of 4) assets liquidating at once: even the havens are sold
              to raise cash or meet margin (2013-04 gold crash, 2020-03-12..19, 2022-05-11/13,
              2026-02-02..05)
    caution   one fewer asset liquidating, or at least one liquidating while the average
              correlation is at or above ``corr_caution``
    risk-on   otherwise.

Defaults from practice: a 5-day (one trading week) return below -1.5 sigma is roughly the worst
6-7% of weeks for each asset; requiring three of the four keeps ordinary equity corrections
(gold up) and crypto-only crashes out. Average pairwise correlation of these four is about 0.18;
0.5 is a spike. On 2010-2026 risk-off fires on 0-8 bars a year outside 2020 (9).
"""
import itertools

import numpy as np
import pandas as pd

from riskoff import CAUTION, RISK_OFF, RISK_ON, Param, signal_frame

INPUTS = ["SPY.close", "GLD.close", "SLV.close", "BTC-USD.close"]
CALENDAR = "us"
PARAMS = [
    Param("days", 5, low=1, high=60, description="bars in the return window"),
    Param("sigma", -1.5, low=-6.0, high=0.0, description="vol-scaled return at or below this = liquidating"),
    Param("vol_window", 60, low=10, high=500, description="bars of daily-return volatility before the move"),
    Param("min_assets", 3, low=2, high=4, description="liquidating assets needed for risk-off"),
    Param("corr_window", 20, low=5, high=250, description="bars in the pairwise correlation"),
    Param("corr_caution", 0.5, low=-1.0, high=1.0, description="average correlation at or above this = caution"),
]
WARMUP = lambda days, vol_window, **_: vol_window + days  # noqa: E731 - returns, vol, then the shift


def compute(data, days=5, sigma=-1.5, vol_window=60, min_assets=3, corr_window=20, corr_caution=0.5):
    px = data[INPUTS]
    logp = np.log(px.where(px > 0))
    daily = logp.diff()
    ret = logp - logp.shift(days)
    vol = daily.rolling(vol_window, min_periods=vol_window).std().shift(days) * np.sqrt(days)
    z = ret / vol.where(vol > 0)
    complete = z.notna().all(axis=1)
    count = (z <= sigma).sum(axis=1).astype(float).where(complete)
    pairs = list(itertools.combinations(INPUTS, 2))
    avg_corr = sum(daily[a].rolling(corr_window, min_periods=corr_window).corr(daily[b]) for a, b in pairs) / len(pairs)
    caution = (count >= min_assets - 1) | ((count >= 1) & (avg_corr >= corr_caution))
    state = np.where(count >= min_assets, RISK_OFF, np.where(caution, CAUTION, RISK_ON)).astype(float)
    state[~complete.to_numpy()] = np.nan
    extras = {f"z_{c.split('.')[0]}": z[c] for c in INPUTS}
    return signal_frame(count, state, avg_corr=pd.Series(avg_corr, index=data.index), **extras)
