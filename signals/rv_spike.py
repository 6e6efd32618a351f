"""Realised-volatility spike on hourly BTC returns: a day's hourly vol far above its recent norm.

Reads Binance BTCUSDT 1h closes (``BINANCE-BTCUSDT-1H.close``) on the hourly clock (bar T decided
at its close, T + 1h). Realised vol = standard deviation of the last ``window`` hourly log returns,
annualised over 8,760 hours; the reading is that vol divided by its own median over the previous
``baseline`` hours (the current bar excluded), so 2.0 means "twice the usual hourly vol".

States:
    risk-off  reading >= ``risk_off`` (3.0: above the 99th percentile of 2021-2026, 3.23)
    caution   reading >= ``caution`` (2.0: about the 95th percentile, 2.17)
    risk-on   otherwise.

Evidence on the seed episodes (Binance 1h, 24 h window, 30-day baseline): the 2025-10-10 crash
bar (21:00-22:00 UTC) reads 2.06, caution from the 20:00 bar (2.08) that closed before the wick to
102,000; on 2026-02-05 the reading climbs from 1.9 at 12:00 to 2.9 at 22:00 (caution all
afternoon) and crosses 3 on the 2026-02-06 01:00 bar, after the 60,000 low at 00:15. A vol spike
confirms a shock in progress; alone it is rarely early.
"""
import numpy as np

from riskoff import Param, signal_frame, states_from_levels
from riskoff.signals.contract import source_columns

SOURCES = ("BINANCE-BTCUSDT-1H", "CRYPTOCOMPARE-BTCUSD-1H")
CALENDAR = "1h"
INPUTS = ["BINANCE-BTCUSDT-1H.close"]
OPTIONAL_INPUTS = ["CRYPTOCOMPARE-BTCUSD-1H.close"]
PARAMS = [
    Param("source", SOURCES[0], choices=SOURCES, description="which hourly bars to read"),
    Param("window", 24, low=4, high=24 * 14, description="hours of log returns in the realised vol"),
    Param("baseline", 720, low=48, high=24 * 365, description="hours in the trailing median the vol is compared with"),
    Param("caution", 2.0, low=1.0, high=20.0, description="vol / baseline at or above this = caution"),
    Param("risk_off", 3.0, low=1.0, high=20.0, description="vol / baseline at or above this = risk-off"),
]
WARMUP = lambda window, baseline, **_: window + baseline  # noqa: E731
HOURS_PER_YEAR = 8760


def compute(data, source=SOURCES[0], window=24, baseline=720, caution=2.0, risk_off=3.0):
    (close,) = source_columns(data, "rv_spike", source, ("close",))
    vol = np.log(close).diff().rolling(window, min_periods=window).std() * np.sqrt(HOURS_PER_YEAR)
    norm = vol.rolling(baseline, min_periods=baseline).median().shift(1)
    reading = vol / norm
    return signal_frame(reading, states_from_levels(reading, caution, risk_off), rv=vol, rv_baseline=norm)
