"""Evaluation: full-period statistics and per-window sell-off metrics.

Full-period statistics (CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, time in market)
come from :mod:`riskoff.engine.metrics`, the numba implementation sweeps use too (tests hold it to
quantstats' formulas), annualised by :func:`riskoff.engine.annualisation.periods_per_year` of the asset's
clock (365 bars a year for crypto on UTC days, 252 for US sessions). Sharpe and Sortino are on
returns in excess of the money-market rate the run's cash earns (a strategy sitting in cash at 5%
earns no risk premium). Turnover is the sum of absolute target changes per year; an episode is a
false alarm when buy & hold does not fall the class's threshold within the horizon.

Window metrics (one row per strategy x asset x window), all on the asset's own bars:
    strategy_return, bh_return   equity at ``end`` / equity at ``start`` - 1
    strategy_max_dd, bh_max_dd   worst peak-to-trough fall inside start..end (negative fraction)
    drawdown_avoided             strategy_max_dd - bh_max_dd (positive = protection)
    exposure_at_trough           actual exposure held at the close of the trough bar
    lead_time_days               trough - start of the de-risk episode that covers the trough
                                 (first bar with target below full); empty if not de-risked by then
    reentry_lag_days             days from the trough until the target is back to full
    return_given_up_60d          buy & hold return minus strategy return over the 60 days after ``end``
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from riskoff.engine.annualisation import periods_per_year
from riskoff.engine.metrics import max_drawdown_nb, segment_stats
from riskoff.evaluation.windows import SellOffWindow

FULL = 0.999  # a target at or above this is "fully invested" (floating point tolerance)
AFTER_WINDOW_DAYS = 60
LEAD_LOOKBACK_DAYS = 90
#: a de-risk episode is a false alarm when buy & hold does not fall this much within the horizon
FALSE_ALARM_DRAWDOWN = {"crypto": 0.15, "default": 0.07}
FALSE_ALARM_HORIZON_DAYS = 60


def max_drawdown(equity: pd.Series) -> float:
    """Worst fall from the running peak (a negative fraction; NaN for an empty curve)."""
    eq = equity.dropna()
    if eq.empty:
        return float("nan")
    return float(max_drawdown_nb(np.ascontiguousarray(eq.to_numpy(dtype=float)), 0, len(eq) - 1))


def derisk_episodes(target: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    """(first bar, last bar) of each run of bars with the target below full; last is None if open."""
    below = (target.fillna(1.0) < FULL).to_numpy()
    idx = target.index
    edges = np.flatnonzero(np.diff(np.concatenate([[False], below, [False]]).astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]  # a run covers bars starts[k] .. stops[k] - 1
    return [(idx[a], idx[b - 1] if b < len(below) else None) for a, b in zip(starts, stops)]


def false_alarm_drawdown(asset_class: str) -> float:
    """The buy & hold fall that makes a de-risk episode a real alarm (15% crypto, 7% otherwise)."""
    return FALSE_ALARM_DRAWDOWN.get(asset_class, FALSE_ALARM_DRAWDOWN["default"])


def false_alarms_of(episodes: list[tuple[pd.Timestamp, pd.Timestamp | None]], bh_equity: pd.Series,
                    asset_class: str) -> list[pd.Timestamp]:
    """First bars of the de-risk episodes that were false alarms: buy & hold did not fall
    ``false_alarm_drawdown(asset_class)`` within ``FALSE_ALARM_HORIZON_DAYS`` of the episode's first bar
    (measured from that bar's value to the lowest value in the horizon)."""
    alarm_dd = false_alarm_drawdown(asset_class)
    days, values = bh_equity.index.to_numpy(dtype="datetime64[ns]"), bh_equity.to_numpy(dtype="float64")
    horizon_ns = np.timedelta64(FALSE_ALARM_HORIZON_DAYS, "D")
    out = []
    for first, _ in episodes:  # positions, not label slices: the scorecard calls this thousands of times
        t0 = np.datetime64(first, "ns")
        lo, hi = np.searchsorted(days, t0, "left"), np.searchsorted(days, t0 + horizon_ns, "right")
        horizon = values[lo:hi]
        if len(horizon) and not np.isnan(horizon).all() and (np.nanmin(horizon) / horizon[0] - 1.0) > -alarm_dd:
            out.append(first)
    return out


def derisk_start(target: pd.Series, trough: pd.Timestamp, upto: pd.Timestamp | None = None,
                 lookback_days: int = LEAD_LOOKBACK_DAYS) -> pd.Timestamp | None:
    """First bar of the de-risk run that covers ``trough``; None when not de-risked by then.

    ``target`` is the decided exposure (NaN already filled by the caller); the run starts at the
    first bar below full after the last fully invested bar within ``lookback_days`` before the
    trough (or at the look-back's first bar if it never was fully invested there). Bars after
    ``upto`` (default: the trough bar) do not count: on an intraday clock only bars decided by the
    trough instant do.
    """
    idx = target.index
    days, t = idx.to_numpy(dtype="datetime64[ns]"), np.datetime64(trough, "ns")
    last = np.datetime64(upto if upto is not None else trough, "ns")
    lo, hi = np.searchsorted(days, t - np.timedelta64(lookback_days, "D"), "left"), np.searchsorted(days, last, "right")
    recent = target.to_numpy(dtype="float64")[lo:hi]
    if not len(recent) or not recent[-1] < FULL:
        return None
    full = np.flatnonzero(recent >= FULL)
    return idx[lo + full[-1] + 1] if len(full) else idx[lo]


def lead_time(target: pd.Series, trough: pd.Timestamp, lookback_days: int = LEAD_LOOKBACK_DAYS,
              upto: pd.Timestamp | None = None) -> float:
    """Days from the start of the de-risk run that covers ``trough`` to the trough (see
    :func:`derisk_start`); NaN when the target is at full on the trough bar (not de-risked by then)."""
    first_off = derisk_start(target, trough, upto, lookback_days)
    return float("nan") if first_off is None else float((trough - first_off).days)


def false_alarms(target: pd.Series, bh_equity: pd.Series, asset_class: str) -> int:
    """De-risk episodes of ``target`` not followed, within the horizon, by a buy & hold fall of the
    asset class's false-alarm drawdown (7%, 15% for crypto): see :func:`false_alarms_of`."""
    return len(false_alarms_of(derisk_episodes(target), bh_equity, asset_class))


def full_period_stats(equity: pd.Series, exposure: pd.Series, target: pd.Series, bh_equity: pd.Series,
                      asset_class: str, calendar: str, bar: str = "1d",
                      cash_growth: pd.Series | None = None) -> dict[str, float]:
    """Headline statistics of one strategy on one asset (see the module docstring).

    The return and risk figures come from :func:`riskoff.engine.metrics.segment_stats` (the numba
    implementation the sweeps use); ``calendar`` and ``bar`` give the annualisation
    (:func:`riskoff.engine.annualisation.periods_per_year`); ``cash_growth`` (1 + the cash return of each
    bar, default: no cash return) is what Sharpe and Sortino are measured against; ``asset_class``
    picks the false-alarm threshold.
    """
    ppy = periods_per_year(calendar, bar)
    eq = equity.dropna()
    held = exposure.reindex(eq.index).fillna(0.0)
    growth = (cash_growth.reindex(eq.index).fillna(1.0).to_numpy(dtype=float) if cash_growth is not None
              else np.ones(len(eq)))
    m = segment_stats(eq.to_numpy(dtype=float), (held * eq).to_numpy(dtype=float), np.zeros(len(eq), np.int64),
                      growth, ppy)
    years = (len(eq) - 1) / ppy
    tgt = target.reindex(eq.index).fillna(0.0)
    episodes = derisk_episodes(target.reindex(eq.index))
    return {
        "periods_per_year": ppy,
        **{k: m[k] for k in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                             "time_in_market")},
        "avg_exposure": float(held.mean()),
        "turnover": float(tgt.diff().abs().sum() / years) if years > 0 else float("nan"),
        "derisk_episodes": len(episodes),
        "false_alarms": false_alarms(target.reindex(eq.index), bh_equity.reindex(eq.index), asset_class),
        "false_alarm_drawdown": FALSE_ALARM_DRAWDOWN.get(asset_class, FALSE_ALARM_DRAWDOWN["default"]),
    }


def _at_or_before(series: pd.Series, day: pd.Timestamp) -> float:
    """The last non-NaN value at or before ``day`` (``series.loc[:day].dropna().iloc[-1]``), NaN if none."""
    # a binary search and a backward scan: this runs ~10 times per pair x window, and slicing plus
    # dropna copied the whole history each time
    values = series.to_numpy(dtype=float)
    for i in range(series.index.searchsorted(day, side="right") - 1, -1, -1):
        if values[i] == values[i]:  # not NaN
            return float(values[i])
    return float("nan")


def window_metrics(window: SellOffWindow, asset: str, equity: pd.Series, bh_equity: pd.Series,
                   exposure: pd.Series, target: pd.Series, clock: str = "utc") -> dict[str, float] | None:
    """Metrics of one strategy on one asset in one window; None if the data does not cover it.

    On an intraday ``clock`` ("1h", "5m") the row also has ``lead_time_hours`` (hours from the
    decision instant of the first bar out, its close, to the trough instant; negative when the
    rule cut only after the trough) and ``reentry_lag_hours`` (trough to the decision instant of
    the first bar back at full exposure).
    """
    eq, bh = equity.dropna(), bh_equity.dropna()
    if eq.empty or eq.index[0] > window.start or eq.index[-1] < window.end:
        return None
    trough = window.trough_for(asset)
    span = slice(window.start, window.end)
    row: dict[str, float] = {
        "strategy_return": _at_or_before(eq, window.end) / _at_or_before(eq, window.start) - 1.0,
        "bh_return": _at_or_before(bh, window.end) / _at_or_before(bh, window.start) - 1.0,
        "strategy_max_dd": max_drawdown(eq.loc[span]),
        "bh_max_dd": max_drawdown(bh.loc[span]),
    }
    row["drawdown_avoided"] = row["strategy_max_dd"] - row["bh_max_dd"]
    row["exposure_at_trough"] = _at_or_before(exposure, trough)
    tgt = target.fillna(0.0)
    from riskoff.data.calendars import bar_clock
    step = bar_clock(clock)
    # on an intraday clock only bars decided (closed) by the trough instant count as "out before it"
    first_off = derisk_start(tgt, trough, upto=trough if step is None else trough - step)
    lead = np.nan if first_off is None else float((trough - first_off).days)
    row["lead_time_days"] = lead
    # re-entry: the first bar decided after the trough that is back at full. On an intraday clock
    # that includes the bar holding an off-grid trough (21:20 sits in the 21:00 bar, decided 22:00).
    after = tgt.loc[trough:] if step is None else tgt[tgt.index > trough - step]
    back = after[after >= FULL]
    # counted to the bar's close on an intraday clock (it may open before an off-grid trough)
    back_close = back.index[0] + step if len(back) and step is not None else (back.index[0] if len(back) else None)
    row["reentry_lag_days"] = float((back_close - trough).days) if len(back) else np.nan
    if step is not None:
        from riskoff.data.calendars import decision_times

        def hours_to(bar: pd.Timestamp) -> float:
            return float((decision_times(pd.DatetimeIndex([bar]), clock)[0] - trough.value) / 3.6e12)
        row["lead_time_hours"] = -hours_to(first_off) if not np.isnan(lead) else np.nan
        out_at_trough = first_off is not None
        row["reentry_lag_hours"] = hours_to(back.index[0]) if len(back) and out_at_trough else np.nan
    post = slice(window.end, window.end + pd.Timedelta(days=AFTER_WINDOW_DAYS))
    if eq.index[-1] >= window.end + pd.Timedelta(days=AFTER_WINDOW_DAYS):
        s_post = _at_or_before(eq, post.stop) / _at_or_before(eq, window.end) - 1.0
        b_post = _at_or_before(bh, post.stop) / _at_or_before(bh, window.end) - 1.0
        row["return_given_up_60d"] = b_post - s_post
    else:
        row["return_given_up_60d"] = np.nan
    return row


WINDOW_COLUMNS = ["strategy", "asset", "window", "start", "trough", "end", "strategy_return", "bh_return",
                  "strategy_max_dd", "bh_max_dd", "drawdown_avoided", "exposure_at_trough", "lead_time_days",
                  "reentry_lag_days", "return_given_up_60d"]


HOUR_COLUMNS = ["lead_time_hours", "reentry_lag_hours"]


def windows_table(rows: list[dict]) -> pd.DataFrame:
    """One row per pair x window; the hour columns only when some pair ran on an intraday clock."""
    hours = any(k in r for r in rows for k in HOUR_COLUMNS)
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS + (HOUR_COLUMNS if hours else []))
