"""The time grid: NYSE sessions, bar clocks, and the instants values are decided and published.

Every instant the data layer compares lives here: the decision instant of a bar
(:func:`decision_times`: 17:00 New York for NYSE sessions, 00:00 UTC after the day for UTC days,
the close for intraday bars) and the publication instant of an observation
(:func:`availability_times`, from the catalog's lag, time and time zone). The NYSE calendar is
exchange_calendars' XNYS from :data:`NYSE_START` (cached on disk per library version).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from riskoff.data.catalog import SeriesSpec
from riskoff.data.sources import cached_array
from riskoff.util.durations import span
from riskoff.util.errors import ConfigError

US_DECISION_TIME = "17:00"
US_TZ = "America/New_York"
NYSE_START, NYSE_END = "1990-01-01", "2040-12-31"
_DAY_NS = 86_400 * 10**9


@lru_cache(maxsize=1)
def _us_holidays() -> np.ndarray:
    """US federal holidays: the settlement calendar of SOFR, EFFR and Treasury yields."""
    from pandas.tseries.holiday import USFederalHolidayCalendar
    return USFederalHolidayCalendar().holidays("1950-01-01", "2040-12-31").to_numpy(dtype="datetime64[D]")


@lru_cache(maxsize=1)
def nyse_sessions() -> pd.DatetimeIndex:
    """Every NYSE session from :data:`NYSE_START` to :data:`NYSE_END` (exchange_calendars' XNYS).

    XNYS is built with an explicit start because its default window begins only 20 years back.
    The library carries the holiday rules and the unscheduled closures (9/11, Hurricane Sandy,
    national days of mourning); between 1995 and 2026-06-05 its sessions are exactly SPY's dates.
    """
    from importlib.metadata import version

    def build() -> np.ndarray:
        import exchange_calendars as xcals
        cal = xcals.get_calendar("XNYS", start=NYSE_START, end=NYSE_END)
        sessions = cal.sessions.tz_localize(None) if cal.sessions.tz is not None else cal.sessions
        return sessions.as_unit("ns").to_numpy()

    # kept on disk per library version: importing exchange_calendars and building the sessions
    # costs ~0.6 s in every process, reading them back ~1 ms
    key = f"nyse-sessions-{version('exchange_calendars')}-{NYSE_START}-{NYSE_END}"
    return pd.DatetimeIndex(cached_array(key, build), name="date").as_unit("ns")


@lru_cache(maxsize=1)
def nyse_holidays() -> np.ndarray:
    """Weekdays the NYSE is closed between NYSE_START and NYSE_END (from :func:`nyse_sessions`), as
    datetime64[D] for numpy's ``busday_*`` functions (the sanity rules count sessions with them)."""
    weekdays = pd.bdate_range(NYSE_START, NYSE_END)
    return np.asarray(weekdays.difference(nyse_sessions()).to_numpy().astype("datetime64[D]"))


def us_business_days(start, end) -> pd.DatetimeIndex:
    """NYSE sessions between ``start`` and ``end`` inclusive (see :func:`nyse_sessions`)."""
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if lo < pd.Timestamp(NYSE_START) or hi > pd.Timestamp(NYSE_END):
        raise ConfigError(f"US calendar requested for {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}; NYSE sessions are built "
                          f"for {NYSE_START} .. {NYSE_END}")
    sessions = nyse_sessions()
    return sessions[(sessions >= lo) & (sessions <= hi)]


def bar_clock(calendar: str | pd.DatetimeIndex) -> pd.Timedelta | None:
    """The bar length of an intraday clock ("1h" -> 1 hour), None for "us", "utc" and explicit indexes."""
    if not isinstance(calendar, str) or calendar in ("us", "utc"):
        return None
    try:
        return span(calendar)
    except ConfigError:
        raise ConfigError(f"calendar = {calendar!r}; expected 'us', 'utc', a bar clock such as '1h' or '5m', "
                          "or a DatetimeIndex") from None


def clock_of(spec: SeriesSpec) -> str:
    """The decision clock an asset trades on: its bar ("1h") for intraday bar series, else its calendar."""
    return spec.bar if spec.is_bar_series else spec.calendar


def clock_parts(clock: str) -> tuple[str, str]:
    """(calendar, bar) of a clock for ``riskoff.engine.annualisation``: "us" -> ("us", "1d"), "1h" -> ("utc", "1h")."""
    return (clock, "1d") if clock in ("us", "utc") else ("utc", clock)


def last_bar(end, step: pd.Timedelta) -> pd.Timestamp:
    """The last bar (open time) a run ending at ``end`` has on a clock of ``step``: a date-only
    ``end`` (midnight) means that whole UTC day."""
    hi = pd.Timestamp(end)
    return hi.normalize() + pd.Timedelta(days=1) - step if hi == hi.normalize() else hi.floor(step)


def bar_range(start, end, step: pd.Timedelta) -> pd.DatetimeIndex:
    """Bar open times on a 24/7 UTC clock of ``step`` from ``start`` to ``end`` (see :func:`last_bar`)."""
    return pd.date_range(pd.Timestamp(start).floor(step), last_bar(end, step), freq=step, name="time")


def decision_times(index: pd.DatetimeIndex, calendar: str | pd.DatetimeIndex) -> np.ndarray:
    """UTC nanosecond timestamps at which each bar's decision is taken."""
    if isinstance(calendar, str) and calendar == "utc":
        return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS
    step = bar_clock(calendar)
    if step is not None:
        return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + step.value
    return _localize(index.to_numpy(dtype="datetime64[D]"), US_DECISION_TIME, US_TZ)


def _localize(days: np.ndarray, hhmm: str, tz: str) -> np.ndarray:
    h, m = (int(x) for x in hhmm.split(":"))
    naive = days.astype("datetime64[ns]") + np.timedelta64(h * 60 + m, "m")
    if tz == "UTC":
        return naive.astype(np.int64)
    local = pd.DatetimeIndex(naive).tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns").asi8


def availability_times(obs: pd.DatetimeIndex, spec: SeriesSpec, *, prints: bool = False) -> np.ndarray:
    """UTC nanosecond timestamps at which each observation becomes usable.

    ``prints``: ``obs`` are a funding series' own settlement stamps (usable at settlement), not
    its daily aggregates.
    """
    if spec.is_bar_series:  # an intraday bar is known when it closes
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + spec.bar_delta.value
    if spec.calendar == "intraday" and prints:
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS * spec.lag_days
    if spec.calendar == "intraday":  # daily aggregates: usable when the UTC day is over
        return obs.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS * (1 + spec.lag_days)
    days = obs.to_numpy(dtype="datetime64[D]")
    if spec.lag_days:
        if spec.lag_unit == "bday":
            days = np.busday_offset(days, spec.lag_days, roll="forward", holidays=_us_holidays())
        else:
            days = days + np.timedelta64(spec.lag_days, "D")
    return _localize(days, spec.publish_time, spec.publish_tz)
