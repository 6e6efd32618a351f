"""The named mutations of riskoff's core that the suite must kill (see run_mutations.py).

Each mutation is one text patch: a file, the exact original snippet (it must occur exactly once,
otherwise the check fails loudly: re-point the snippet after code moves), its replacement, and the
test files that defend that behaviour. ``why`` says what breaking it would mean for a user; an
``equivalent`` reason marks a mutant that cannot change any output (none at the moment).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    why: str
    equivalent: str = ""


DATA = ("tests/data/test_align.py", "tests/data/test_load.py", "tests/data/test_point_in_time.py")
ENGINE = ("tests/engine/test_engine.py", "tests/engine/test_costs.py")
OVERLAYS = ("tests/strategies/test_strategy_overlays.py",)
EVALUATION = ("tests/test_evaluation.py",)
METRICS = ("tests/test_metrics.py", "tests/test_evaluation.py")

MUTATIONS: list[Mutation] = [
    # ---------------------------------------------------------------- the six named in issue 17
    Mutation("us_signal_one_day_early_on_utc_bars", "riskoff/signals/evaluate.py",
             "    src_t = decision_times(frame.index, src_calendar)\n",
             "    src_t = decision_times(frame.index, src_calendar) - 86_400 * 10**9\n",
             ("tests/signals/test_map_to_calendar.py",),
             "a BTC bar sees the next US session's VIX / breadth / yields (look-ahead)"),
    Mutation("crypto_default_costs_1_plus_2", "riskoff/engine/account.py",
             '    "crypto": Costs(10.0, 5.0),\n', '    "crypto": Costs(1.0, 2.0),\n',
             ("tests/engine/test_costs.py",),
             "every BTC backtest silently 12 bps cheaper per trade"),
    Mutation("no_effr_fallback_before_sofr", "riskoff/engine/cash.py",
             'CASH_SERIES = ("SOFR", "EFFR")\n', 'CASH_SERIES = ("SOFR",)\n',
             ("tests/test_cash.py",),
             "cash earns nothing before 2018-04"),
    Mutation("crypto_false_alarm_threshold_ignored", "riskoff/evaluation/evaluate.py",
             'return FALSE_ALARM_DRAWDOWN.get(asset_class, FALSE_ALARM_DRAWDOWN["default"])',
             'return FALSE_ALARM_DRAWDOWN["default"]',
             EVALUATION, "crypto false alarms judged against the 7% equity threshold"),
    Mutation("turnover_not_annualised", "riskoff/evaluation/evaluate.py",
             '"turnover": float(tgt.diff().abs().sum() / years)',
             '"turnover": float(tgt.diff().abs().sum())',
             EVALUATION, "turnover reported per history instead of per year"),
    Mutation("staleness_bound_one_day_looser", "riskoff/data/align.py",
             "ok &= age_ns <= spec.max_stale_days * _DAY_NS",
             "ok &= age_ns <= (spec.max_stale_days + 1) * _DAY_NS",
             DATA, "a dead series carried a day longer than declared"),
    Mutation("coverage_check_one_day_looser", "riskoff/data/align.py",
             "if age_days > spec.max_stale_days + 1:", "if age_days > spec.max_stale_days + 2:",
             DATA, "a run span past the staleness bound accepted"),
    Mutation("sofr_publication_lag_dropped", "data/catalog.toml",
             '[series.SOFR]\nfamily = "fred"\npublish_time = "08:00"\n',
             '[series.SOFR]\nfamily = "fred"\npublish_time = "08:00"\nlag_days = 0\n',
             ("tests/data/test_align.py", "tests/test_cash.py"),
             "SOFR used on the morning of the day it measures, a day before it is published"),
    # ---------------------------------------------------------------- data alignment and lags
    Mutation("nfci_weekly_lag_dropped", "data/catalog.toml",
             'units = "index (weekly, dated Friday, released the next Wednesday)"\nlag_days = 5\n',
             'units = "index (weekly, dated Friday, released the next Wednesday)"\nlag_days = 0\n',
             ("tests/data/test_align.py",), "NFCI used five days before its release"),
    Mutation("cpi_monthly_lag_shortened", "data/catalog.toml",
             '[series.CPIAUCSL]\nfamily = "fred"\nunits = "index 1982-84=100 (monthly)"\nlag_days = 45\n',
             '[series.CPIAUCSL]\nfamily = "fred"\nunits = "index 1982-84=100 (monthly)"\nlag_days = 30\n',
             ("tests/data/test_align.py",), "CPI used before BLS publishes it"),
    Mutation("business_day_lag_ignores_holidays", "riskoff/data/calendars.py",
             'days = np.busday_offset(days, spec.lag_days, roll="forward", holidays=_us_holidays())',
             'days = np.busday_offset(days, spec.lag_days, roll="forward")',
             DATA, "Friday's SOFR used on a Monday holiday before it is published"),
    Mutation("funding_day_usable_when_it_starts", "riskoff/data/calendars.py",
             "return obs.to_numpy(dtype=\"datetime64[ns]\").astype(np.int64) + _DAY_NS * (1 + spec.lag_days)",
             "return obs.to_numpy(dtype=\"datetime64[ns]\").astype(np.int64) + _DAY_NS * spec.lag_days",
             DATA, "a day's funding sum used before the day's prints settle"),
    Mutation("asof_join_misses_values_published_at_the_decision_instant", "riskoff/data/align.py",
             'pos = np.searchsorted(avail, when, side="right") - 1',
             'pos = np.searchsorted(avail, when, side="left") - 1',
             DATA, "BTC's UTC close (published at 00:00, the UTC decision instant) lagged a day"),
    Mutation("utc_bar_decided_a_day_late", "riskoff/data/calendars.py",
             'return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + _DAY_NS\n',
             'return index.to_numpy(dtype="datetime64[ns]").astype(np.int64) + 2 * _DAY_NS\n',
             DATA, "a UTC bar sees the next day's close (look-ahead)"),
    Mutation("us_decision_before_the_vix_print", "riskoff/data/calendars.py",
             'US_DECISION_TIME = "17:00"', 'US_DECISION_TIME = "16:10"',
             (*DATA, "tests/signals/test_map_to_calendar.py"), "US rules lose the same-day VIX and breadth"),
    # ---------------------------------------------------------------- signal mapping
    Mutation("cross_calendar_carry_unbounded", "riskoff/signals/evaluate.py",
             "CROSS_CALENDAR_STALE_DAYS = 5\n", "CROSS_CALENDAR_STALE_DAYS = 50\n",
             ("tests/signals/test_map_to_calendar.py",), "a dead US signal keeps steering BTC for weeks"),
    # ---------------------------------------------------------------- engine fills, costs, cash
    Mutation("buy_fee_dropped", "riskoff/engine/account.py",
             "return spend, spend / (price * (1.0 + slip) * (1.0 + fee))", "return spend, spend / (price * (1.0 + slip))",
             ENGINE, "buys free of commission"),
    Mutation("sell_fee_dropped", "riskoff/engine/account.py",
             "    return notional - notional * fee\n", "    return notional\n",
             ENGINE, "sells free of commission"),
    Mutation("sell_slippage_in_the_sellers_favour", "riskoff/engine/account.py",
             "    notional = -gap * price * (1.0 - slip)\n", "    notional = -gap * price * (1.0 + slip)\n",
             ENGINE, "sells fill above the close"),
    Mutation("cash_act_365", "riskoff/engine/account.py",
             "growth[1:] = 1.0 + rate[1:] / 100.0 * days / 360.0",
             "growth[1:] = 1.0 + rate[1:] / 100.0 * days / 365.0",
             ENGINE, "cash interest 1.4% too low (money-market rates are ACT/360)"),
    Mutation("cash_interest_per_bar_not_per_day", "riskoff/engine/account.py",
             "growth[1:] = 1.0 + rate[1:] / 100.0 * days / 360.0",
             "growth[1:] = 1.0 + rate[1:] / 100.0 / 360.0",
             ENGINE, "weekends earn no interest"),
    Mutation("fill_on_the_decision_bar", "riskoff/engine/account.py",
             "    filled = 0.0\n    if pending and not (np.isnan(close) or np.isnan(price)):\n",
             "    filled = 0.0\n    if target != decided:  # mutant: take bar t's decision before its fill\n"
             "        decided = target\n        pending = True\n"
             "    if pending and not (np.isnan(close) or np.isnan(price)):\n",
             ENGINE, "an order fills on the bar that decided it (look-ahead fill)"),
    Mutation("leverage_cap_ignored", "riskoff/engine/account.py",
             "floor = cash_floor * value", "floor = -1e9 * value",
             ENGINE, "buys in a multi-asset account borrow without limit"),
    # ---------------------------------------------------------------- overlays
    Mutation("hysteresis_moves_at_the_band_edge", "riskoff/strategies/overlays.py",
             "    if abs(v - prev) > settings.hysteresis:\n",
             "    if abs(v - prev) >= settings.hysteresis:\n",
             OVERLAYS, "a move of exactly the band re-trades"),
    Mutation("min_time_out_one_bar_longer", "riskoff/strategies/overlays.py",
             "if t - last_down >= settings.min_bars_out:", "if t - last_down > settings.min_bars_out:",
             OVERLAYS, "re-entry a bar later than configured"),
    Mutation("cooldown_one_bar_shorter", "riskoff/strategies/overlays.py",
             "if t - last_up > settings.cooldown_bars:", "if t - last_up >= settings.cooldown_bars:",
             OVERLAYS, "a cut allowed one bar inside the cooldown"),
    Mutation("trailing_stop_needs_a_deeper_fall", "riskoff/strategies/overlays.py",
             "if close <= peak * (1.0 - settings.trailing_stop):", "if close < peak * (1.0 - settings.trailing_stop):",
             OVERLAYS, "a fall of exactly the stop width does not stop"),
    Mutation("trailing_stop_peak_not_reset_on_entry", "riskoff/strategies/overlays.py",
             "        if state.prev == 0.0 or peak != peak:\n",
             "        if peak != peak:\n",
             OVERLAYS, "the stop measures from a peak set before the current position"),
    # ---------------------------------------------------------------- evaluation metrics
    Mutation("sharpe_annualised_as_equity_for_crypto", "riskoff/evaluation/evaluate.py",
             "    ppy = periods_per_year(calendar, bar)\n", "    ppy = 252\n",
             EVALUATION, "crypto volatility and Sharpe annualised over 252 days"),
    Mutation("drawdown_avoided_sign_flipped", "riskoff/evaluation/evaluate.py",
             'row["drawdown_avoided"] = row["strategy_max_dd"] - row["bh_max_dd"]',
             'row["drawdown_avoided"] = row["bh_max_dd"] - row["strategy_max_dd"]',
             EVALUATION, "protection reported as damage"),
    Mutation("false_alarm_horizon_ignored", "riskoff/evaluation/evaluate.py",
             'np.searchsorted(days, t0 + horizon_ns, "right")',
             "len(days)",
             EVALUATION, "any later crash, years on, justifies a de-risk"),
    Mutation("reentry_lag_counted_from_window_start", "riskoff/evaluation/evaluate.py",
             'row["reentry_lag_days"] = float((back.index[0] - trough).days)',
             'row["reentry_lag_days"] = float((back.index[0] - window.start).days)',
             EVALUATION, "re-entry lag includes the fall itself"),
    Mutation("sharpe_ignores_the_cash_rate", "riskoff/engine/metrics.py",
             "        sx += r - (g[t] - 1.0)\n", "        sx += r\n",
             METRICS, "Sharpe and Sortino credit the money-market return as skill"),
    Mutation("volatility_not_annualised", "riskoff/engine/metrics.py",
             "    out[Metric.VOLATILITY] = std * sq\n", "    out[Metric.VOLATILITY] = std\n",
             METRICS, "volatility per bar reported as annual"),
    Mutation("max_drawdown_from_the_first_bar", "riskoff/engine/metrics.py",
             "        peak = max(peak, e)\n", "        peak = peak\n",
             METRICS, "drawdowns measured from the start, not from the running peak"),
    Mutation("cagr_counts_one_bar_too_many", "riskoff/engine/metrics.py",
             "abs(wealth) ** (1.0 / (cnt / ppy)) - 1.0", "abs(wealth) ** (1.0 / ((cnt + 1) / ppy)) - 1.0",
             METRICS, "CAGR annualised over one bar too many"),
    # ---------------------------------------------------------------- issue 24 (A): event path, intraday evaluation, BarView, durations, sanity
    # (end of issue 24 A)
    # ---------------------------------------------------------------- issue 24 (B): scorecard, sweep statistics, reports, run folder
    # (end of issue 24 B)
]
