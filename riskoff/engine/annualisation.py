"""Annualisation: how many bars make a year, decided in one place.

A year is counted in the bars an asset actually trades on its decision clock: 252 sessions for
US-listed assets (NYSE calendar), 365 days for crypto on UTC days, and for intraday crypto clocks
the number of bars in 365 x 24 hours (8,760 hourly bars, 105,120 five-minute bars). Every
statistic that annualises (CAGR, volatility, Sharpe, Sortino, turnover) and every sentence that
states the annualisation in an output is derived from :func:`periods_per_year`.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from riskoff.util.errors import ConfigError

__all__ = ["CALENDARS", "periods_per_year", "bar_timedelta", "annualisation_note"]

#: trading clocks: "us" = NYSE sessions (daily bars only), "utc" = 24/7 crypto (any bar size)
CALENDARS = ("us", "utc")
US_SESSIONS_PER_YEAR = 252
CRYPTO_DAYS_PER_YEAR = 365


def bar_timedelta(bar: str) -> pd.Timedelta:
    """The length of one bar ("1d", "1h", "5m", ...) as a Timedelta; ConfigError when unreadable."""
    try:
        td = pd.Timedelta(bar.replace("m", "min") if bar.endswith("m") and not bar.endswith("min") else bar)
    except (ValueError, TypeError, AttributeError):
        raise ConfigError(f"bar = {bar!r}: expected a bar length such as '1d', '1h' or '5m'") from None
    if td <= pd.Timedelta(0) or pd.Timedelta(days=1) % td != pd.Timedelta(0):
        raise ConfigError(f"bar = {bar!r}: expected a positive bar length that divides one day")
    return td


def periods_per_year(calendar: str, bar: str = "1d") -> int:
    """Bars per year on a clock: ("us", "1d") 252; ("utc", "1d") 365; ("utc", "1h") 8,760; ("utc", "5m") 105,120.

    US assets trade one bar per NYSE session, so only daily bars are defined for them.
    """
    if calendar not in CALENDARS:
        raise ConfigError(f"calendar {calendar!r}: expected one of {list(CALENDARS)}")
    per_day = pd.Timedelta(days=1) // bar_timedelta(bar)
    if calendar == "us":
        if per_day != 1:
            raise ConfigError(f"calendar 'us' trades daily sessions only, not bar = {bar!r}")
        return US_SESSIONS_PER_YEAR
    return CRYPTO_DAYS_PER_YEAR * int(per_day)


def _describe(calendar: str, bar: str) -> str:
    ppy = periods_per_year(calendar, bar)
    if calendar == "us":
        return f"{ppy:,} bars/year for US-listed assets (NYSE sessions)"
    unit = {"1d": "UTC days"}.get(bar, f"{bar} bars, 365 x 24 h")
    return f"{ppy:,} bars/year for crypto ({unit})"


def annualisation_note(clocks: Iterable[tuple[str, str]] = (("utc", "1d"), ("us", "1d"))) -> str:
    """The sentence every output states: one clause per distinct (calendar, bar) clock used."""
    seen = list(dict.fromkeys((c, b) for c, b in clocks))
    if not seen:
        return "no annualised figures"
    return "Annualised over " + "; ".join(_describe(c, b) for c, b in seen)
