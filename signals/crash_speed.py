"""Crash speed: how far BTC has fallen from its trailing N-hour high, on hourly closes.

Reads 1h bars (high and close) on the hourly clock (bar T decided at its close): Binance BTCUSDT
by default, or with ``source = "CRYPTOCOMPARE-BTCUSD-1H"`` the CryptoCompare aggregate that reaches
back to 2019-11 (March 2020).
The reading is close / max(high over the last ``window`` hours, this bar included) - 1: -0.08
means 8% below the highest print of the last day. It measures speed, not level: a slow bear
market that never falls 5% inside a day stays risk-on.

States:
    risk-off  reading <= ``risk_off`` (-8%: about the 2nd percentile of 2021-2026 hours)
    caution   reading <= ``caution`` (-5%: about the 5th percentile, -5.8%)
    risk-on   otherwise.

Evidence (24 h window): on 2025-10-10 the 20:00 bar closes 6.8% below the day's high (caution,
decided at 21:00 UTC, before the 21:00-21:20 wick to 102,000) and the crash bar itself closes only
7.4% down, so the close-based reading stays at caution that night; on 2026-02-05 it is risk-off
first on the 12:00 bar (-8.7%), on every bar from 17:00, and reads -14% at the 23:00 close (62,910).
"""
from riskoff import Param, signal_frame, states_from_levels
from riskoff.signals.contract import source_columns

SOURCES = ("BINANCE-BTCUSDT-1H", "CRYPTOCOMPARE-BTCUSD-1H")
CALENDAR = "1h"
INPUTS = ["BINANCE-BTCUSDT-1H.high", "BINANCE-BTCUSDT-1H.close"]
OPTIONAL_INPUTS = ["CRYPTOCOMPARE-BTCUSD-1H.high", "CRYPTOCOMPARE-BTCUSD-1H.close"]
PARAMS = [
    Param("source", SOURCES[0], choices=SOURCES, description="which hourly bars to read"),
    Param("window", 24, low=2, high=24 * 30, description="hours over which the trailing high is taken"),
    Param("caution", -0.05, low=-0.9, high=0.0, description="fall from the high at or below this = caution"),
    Param("risk_off", -0.08, low=-0.9, high=0.0, description="fall from the high at or below this = risk-off"),
]
WARMUP = lambda window, **_: window - 1  # noqa: E731


def compute(data, source=SOURCES[0], window=24, caution=-0.05, risk_off=-0.08):
    high, close = source_columns(data, "crash_speed", source, ("high", "close"))
    high = high.rolling(window, min_periods=window).max()
    reading = close / high - 1
    return signal_frame(reading, states_from_levels(reading, caution, risk_off, higher_is_riskier=False),
                        trailing_high=high)
