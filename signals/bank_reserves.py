"""Bank reserves near the bottom of their own trailing range (reserve scarcity) are risk-off.

Reads WRESBAL (reserve balances with Federal Reserve Banks, USD millions, the average of the week to
Wednesday, published in the H.4.1 release on Thursday 16:30 New York: visible from the Thursday
bar). The reading is where reserves sit in their own trailing ``weeks``-week range: 0 = at the
lowest level of the window, 1 = at the highest (NaN until the window is full). Reserves are the
cash the banking system settles with; when they fall towards the level banks need ("bank reserves
remain low") repo rates jump above the Fed's floor, as in September 2019 and late 2025.

Optionally (``confirm_with_sofr``) the signal only calls risk-off when money markets confirm the
scarcity: the ``sofr_iorb_spread`` signal's reading (SOFR minus IORB, DFEDTARU before 2021-07-29,
lagged as that signal documents) at or above ``confirm_bp``; otherwise the scarcity reads as caution.
Extras: ``reserves`` (USD millions) and ``sofr_iorb_bp`` (NaN unless confirming).

States:
    risk-off  range position <= ``risk_off`` (0.05: within 5% of the window's low), and, when
              confirming, SOFR - IORB >= ``confirm_bp``
    caution   range position <= ``caution`` (0.15), or a risk-off position the spread does not confirm
    risk-on   otherwise.

Defaults from practice and this data: the New York Fed and the 2019 post-mortems (e.g. Afonso et
al., "The Market Events of Mid-September 2019", FRBNY Staff Report 918) read scarcity from reserves
at multi-year lows; a two-year window spans one QT cycle. On 2010-2026 the position is at or below
0.05 in 2018-19 (the run-down to the repo spike), briefly in 2022-23 and in Q4 2025.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import signal_named

INPUTS = ["WRESBAL"]
OPTIONAL_INPUTS = ["SOFR", "IORB", "DFEDTARU"]
CALENDAR = "us"
PARAMS = [
    Param("weeks", 104, low=13, high=520, description="weeks in the trailing range"),
    Param("caution", 0.15, low=0.0, high=1.0, description="range position at or below this = caution"),
    Param("risk_off", 0.05, low=0.0, high=1.0, description="range position at or below this = risk-off"),
    Param("confirm_with_sofr", False, choices=(True, False),
          description="risk-off only when SOFR - IORB confirms (needs SOFR, from 2018-04)"),
    Param("confirm_bp", 0.0, low=-50.0, high=500.0, description="SOFR - IORB (bp) at or above this confirms"),
]
WARMUP = lambda weeks, **_: 5 * weeks  # noqa: E731 - at most 5 US bars a calendar week


def compute(data, weeks=104, caution=0.15, risk_off=0.05, confirm_with_sofr=False, confirm_bp=0.0):
    if risk_off > caution:
        raise ConfigError(f"signal bank_reserves: risk_off ({risk_off:g}) must not exceed caution ({caution:g})")
    res = data["WRESBAL"]
    window = f"{7 * weeks}D"
    lo, hi = res.rolling(window).min(), res.rolling(window).max()
    first = res.first_valid_index()
    full = res.index >= (first + np.timedelta64(7 * weeks - 1, "D")) if first is not None else res.index < res.index[0]
    position = ((res - lo) / (hi - lo).where(hi > lo)).where(full & res.notna())
    off = (position <= risk_off).to_numpy()
    spread = res * np.nan
    if confirm_with_sofr:
        if not {"SOFR", "DFEDTARU"} <= set(data.columns):
            raise ConfigError("signal bank_reserves: confirm_with_sofr needs the SOFR and DFEDTARU series in the data dir")
        spread = signal_named("sofr_iorb_spread").compute(
            data.reindex(columns=["SOFR", "IORB", "DFEDTARU"]))["reading"]
        unconfirmed = off & ~(spread >= confirm_bp).to_numpy()
        off = off & ~unconfirmed
    warn = (position <= caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[position.isna().to_numpy()] = np.nan
    return signal_frame(position, state, reserves=res, sofr_iorb_bp=spread)
