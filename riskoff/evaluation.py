"""Evaluation: full-period statistics and per-window sell-off metrics.

Full-period statistics (CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, time in market)
come from :mod:`riskoff.metrics`, the numba implementation sweeps use too (tests hold it to
quantstats' formulas), annualised by :func:`riskoff.annualisation.periods_per_year` of the asset's
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

from riskoff.annualisation import periods_per_year
from riskoff.metrics import max_drawdown_nb, segment_stats
from riskoff.windows import SellOffWindow

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
    out, start = [], None
    for i, b in enumerate(below):
        if b and start is None:
            start = i
        elif not b and start is not None:
            out.append((idx[start], idx[i - 1]))
            start = None
    if start is not None:
        out.append((idx[start], None))
    return out


def false_alarms(target: pd.Series, bh_equity: pd.Series, asset_class: str) -> int:
    """De-risk episodes of ``target`` not followed, within the horizon, by a buy & hold fall of the
    asset class's false-alarm drawdown (7%, 15% for crypto)."""
    alarm_dd = FALSE_ALARM_DRAWDOWN.get(asset_class, FALSE_ALARM_DRAWDOWN["default"])
    count = 0
    for first, _ in derisk_episodes(target):
        horizon = bh_equity.loc[first:first + pd.Timedelta(days=FALSE_ALARM_HORIZON_DAYS)]
        if len(horizon) and (horizon.min() / horizon.iloc[0] - 1.0) > -alarm_dd:
            count += 1
    return count


def full_period_stats(equity: pd.Series, exposure: pd.Series, target: pd.Series, bh_equity: pd.Series,
                      asset_class: str, calendar: str, bar: str = "1d",
                      cash_growth: pd.Series | None = None) -> dict[str, float]:
    """Headline statistics of one strategy on one asset (see the module docstring).

    The return and risk figures come from :func:`riskoff.metrics.segment_stats` (the numba
    implementation the sweeps use); ``calendar`` and ``bar`` give the annualisation
    (:func:`riskoff.annualisation.periods_per_year`); ``cash_growth`` (1 + the cash return of each
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
    s = series.loc[:day].dropna()
    return float(s.iloc[-1]) if len(s) else float("nan")


def window_metrics(window: SellOffWindow, asset: str, equity: pd.Series, bh_equity: pd.Series,
                   exposure: pd.Series, target: pd.Series) -> dict[str, float] | None:
    """Metrics of one strategy on one asset in one window; None if the data does not cover it."""
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
    lead = np.nan
    recent = tgt.loc[trough - pd.Timedelta(days=LEAD_LOOKBACK_DAYS):trough]
    if len(recent) and recent.iloc[-1] < FULL:
        full_bars = recent[recent >= FULL]
        first_off = recent.loc[full_bars.index[-1]:].index[1] if len(full_bars) else recent.index[0]
        lead = float((trough - first_off).days)
    row["lead_time_days"] = lead
    after = tgt.loc[trough:]
    back = after[after >= FULL]
    row["reentry_lag_days"] = float((back.index[0] - trough).days) if len(back) else np.nan
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


def windows_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)
