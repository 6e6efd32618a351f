"""Dollar squeeze: a sharp dollar rally (UUP momentum, a breakout to a one-year high) is risk-off.

Reads the UUP close (Invesco DB US Dollar Index Bullish fund, the data's stand-in for the dollar
index DXY; US close, usable on the same US bar). When the world scrambles for dollars to meet
margin calls and dollar debts, the dollar is "forcibly boosted" while everything else is sold
(2008-10, 2015-08, 2020-03-09..19, 2022-09). The reading is the ``days``-bar return of UUP in
percent. Extra: ``breakout`` (1 when the close is at its highest of the last ``high_window`` bars).

States:
    risk-off  reading >= ``risk_off_pct`` (default 4.0% in 20 bars)
    caution   reading >= ``caution_pct`` (default 2.5%), or a breakout to a ``high_window``-bar high
              while the reading is positive
    risk-on   otherwise.

Defaults from this data: UUP's 20-bar return has a median near 0; 2.5% is about its 87th percentile
and 4.0% its 97th (2008 through 2026). The dollar's 20-day rally peaked at +4.4% on 2020-03-20.
A one-year (252-bar) high is the usual breakout horizon for a currency trend (e.g. the Donchian
channel breakout of the "Turtle" trend-following rules).
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["UUP.close"]
CALENDAR = "us"
PARAMS = [
    Param("days", 20, low=1, high=250, description="bars in the momentum return"),
    Param("caution_pct", 2.5, low=0.0, high=50.0, description="return (%) at or above this = caution"),
    Param("risk_off_pct", 4.0, low=0.0, high=50.0, description="return (%) at or above this = risk-off"),
    Param("high_window", 252, low=20, high=1000, description="bars in the breakout high"),
]
WARMUP = lambda days, high_window, **_: max(days, high_window - 1)  # noqa: E731


def compute(data, days=20, caution_pct=2.5, risk_off_pct=4.0, high_window=252):
    if risk_off_pct < caution_pct:
        raise ConfigError(f"signal dollar_squeeze: risk_off_pct ({risk_off_pct:g}) must be at least "
                          f"caution_pct ({caution_pct:g})")
    uup = data["UUP.close"]
    ret = ((uup / uup.shift(days) - 1) * 100).round(9)
    high = uup.rolling(high_window, min_periods=high_window).max()
    breakout = (uup >= high).astype(float).where(high.notna())
    off = (ret >= risk_off_pct).to_numpy()
    warn = (ret >= caution_pct).to_numpy() | ((breakout == 1) & (ret > 0)).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[(ret.isna() | high.isna()).to_numpy()] = np.nan
    return signal_frame(ret, state, breakout=breakout)
