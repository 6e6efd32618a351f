"""Loading the real snapshot: every series, sanity anchors, publication lags, funding aggregation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load, load_catalog, read_series
from riskoff.data.align import daily_funding
from riskoff.util.errors import ConfigError

CATALOG = load_catalog()


@pytest.mark.parametrize("series_id", sorted(CATALOG))
def test_every_catalog_series_loads(series_id, data_dir):
    spec = CATALOG[series_id]
    obs = read_series(spec, data_dir)
    assert len(obs) > 100
    assert obs.index.is_monotonic_increasing and obs.index.is_unique
    assert set(obs.columns) >= set(spec.required_columns)
    frame = load([series_id], calendar="utc" if spec.calendar != "us" else "us", data_dir=data_dir)
    assert list(frame.columns) == spec.frame_columns() or set(frame.columns) <= set(spec.frame_columns())
    assert frame.notna().any().all()


@pytest.mark.parametrize("series_id, column, day, value", [
    ("BTC-USD", "close", "2020-03-12", 4970.79),
    ("VIX", "close", "2020-03-16", 82.69),
    ("BTC-USD", "close", "2025-10-06", 124752.53),
    ("SPX", "close", "2026-01-29", 6969.01),
    ("BTC-USD", "close", "2026-02-05", 62702.10),
    ("BTC-MVRV", "value", "2026-02-05", 1.16),
])
def test_sanity_anchors_from_data_readme(series_id, column, day, value, data_dir):
    obs = read_series(CATALOG[series_id], data_dir)
    assert obs.loc[day, column] == pytest.approx(value, abs=0.006)


def test_sanity_anchor_silver_minus_28pct(data_dir):
    slv = read_series(CATALOG["SLV"], data_dir)["close"]
    assert slv.pct_change().loc["2026-01-30"] == pytest.approx(-0.28, abs=0.01)


def test_btc_crash_day_is_minus_37pct(data_dir):
    btc = read_series(CATALOG["BTC-USD"], data_dir)["close"]
    assert btc.pct_change().loc["2020-03-12"] == pytest.approx(-0.37, abs=0.01)


def test_sofr_for_day_d_is_visible_only_from_the_next_business_day(data_dir):
    sofr = read_series(CATALOG["SOFR"], data_dir)["value"]
    frame = load(["SOFR"], "2020-03-09", "2020-03-20", calendar="us", data_dir=data_dir)
    # Friday 2020-03-13's print reaches Monday's bar, not Friday's.
    assert frame.loc["2020-03-16", "SOFR"] == sofr.loc["2020-03-13"]
    assert frame.loc["2020-03-13", "SOFR"] == sofr.loc["2020-03-12"]
    for d in frame.index[1:]:
        prev = frame.index[frame.index.get_loc(d) - 1]
        assert frame.loc[d, "SOFR"] == sofr.loc[prev]
    # On the 7-day UTC calendar the weekend bars still see Thursday's print (Friday's is published Monday).
    utc = load(["SOFR"], "2020-03-13", "2020-03-16", calendar="utc", data_dir=data_dir)
    assert utc.loc["2020-03-14", "SOFR"] == sofr.loc["2020-03-12"]
    assert utc.loc["2020-03-16", "SOFR"] == sofr.loc["2020-03-13"]


def test_mvrv_for_utc_day_d_is_visible_only_from_d_plus_1(data_dir):
    mvrv = read_series(CATALOG["BTC-MVRV"], data_dir)["value"]
    utc = load(["BTC-MVRV"], "2020-03-01", "2020-03-31", calendar="utc", data_dir=data_dir)
    for d in utc.index[1:]:
        assert utc.loc[d, "BTC-MVRV"] == mvrv.loc[d - pd.Timedelta(days=1)]
    # On the US calendar, a US bar at 17:00 New York is before the UTC day ends: it sees d-1.
    us = load(["BTC-MVRV"], "2020-03-16", "2020-03-16", calendar="us", data_dir=data_dir)
    assert us.loc["2020-03-16", "BTC-MVRV"] == mvrv.loc["2020-03-15"]


def test_btc_close_same_utc_bar_but_previous_day_on_us_bars(data_dir):
    btc = read_series(CATALOG["BTC-USD"], data_dir)["close"]
    utc = load(["BTC-USD"], "2020-03-12", "2020-03-12", calendar="utc", data_dir=data_dir)
    us = load(["BTC-USD"], "2020-03-12", "2020-03-12", calendar="us", data_dir=data_dir)
    assert utc.loc["2020-03-12", "BTC-USD.close"] == btc.loc["2020-03-12"]
    assert us.loc["2020-03-12", "BTC-USD.close"] == btc.loc["2020-03-11"]


def test_funding_daily_sum_and_mean_use_only_that_utc_days_prints(data_dir):
    prints = read_series(CATALOG["BINANCE-BTCUSDT"], data_dir)
    day = prints.loc["2020-03-12":"2020-03-12 23:59:59", "rate"]
    utc = load(["BINANCE-BTCUSDT"], "2020-03-12", "2020-03-14", calendar="utc", data_dir=data_dir)
    assert utc.loc["2020-03-12", "BINANCE-BTCUSDT.sum"] == pytest.approx(day.sum(), abs=1e-15)
    assert utc.loc["2020-03-12", "BINANCE-BTCUSDT.mean"] == pytest.approx(day.mean(), abs=1e-15)
    assert utc.loc["2020-03-12", "BINANCE-BTCUSDT.count"] == len(day)
    # A US bar on 2020-03-12 is decided before the UTC day ends: it sees 2020-03-11's aggregate.
    us = load(["BINANCE-BTCUSDT"], "2020-03-12", "2020-03-12", calendar="us", data_dir=data_dir)
    prev = prints.loc["2020-03-11":"2020-03-11 23:59:59", "rate"]
    assert us.loc["2020-03-12", "BINANCE-BTCUSDT.sum"] == pytest.approx(prev.sum(), abs=1e-15)


def test_daily_funding_puts_a_midnight_print_in_the_day_it_opens():
    idx = pd.to_datetime(["2021-01-01 08:00", "2021-01-01 16:00", "2021-01-02 00:00"])
    out = daily_funding(pd.DataFrame({"rate": [1e-4, 2e-4, 4e-4]}, index=idx))
    assert out.loc["2021-01-01", "sum"] == pytest.approx(3e-4)
    assert out.loc["2021-01-02", "count"] == 1


def test_forward_fill_is_bounded_by_max_staleness(data_dir):
    # Funding venues other than Binance end 2023-12-31: two days later the cells are empty.
    frame = load(["BYBIT-BTCUSDT"], "2023-12-28", "2024-01-10", calendar="utc", data_dir=data_dir, stale="allow")
    assert frame.loc["2023-12-31", "BYBIT-BTCUSDT.mean"] == frame.loc["2023-12-31", "BYBIT-BTCUSDT.mean"]
    last_ok = frame["BYBIT-BTCUSDT.mean"].last_valid_index()
    assert last_ok <= pd.Timestamp("2024-01-03")
    assert frame.loc["2024-01-05":, "BYBIT-BTCUSDT.mean"].isna().all()


def test_values_are_never_backfilled(data_dir):
    frame = load(["VIX3M", "SPY"], "2009-09-01", "2009-10-01", calendar="us", data_dir=data_dir)
    first = frame["VIX3M.close"].first_valid_index()
    assert first == pd.Timestamp("2009-09-18")  # first print, usable at that evening's decision
    assert frame.loc[:"2009-09-17", "VIX3M.close"].isna().all()
    assert len(frame.loc[:"2009-09-17"]) > 5


def test_us_calendar_extends_past_the_reference_prices_with_business_days(data_dir):
    frame = load(["DGS10"], "2026-07-20", "2026-08-20", calendar="us", data_dir=data_dir)
    assert pd.Timestamp("2026-08-19") in frame.index
    assert not any(d.weekday() >= 5 for d in frame.index)


def test_unknown_series_name_suggests_the_close_match(data_dir):
    with pytest.raises(ConfigError, match="did you mean 'BTC-MVRV'"):
        load(["BTC-MVRVV"], data_dir=data_dir)


def test_user_series_from_config_extends_the_catalog(tmp_path):
    (tmp_path / "series" / "prices").mkdir(parents=True)
    (tmp_path / "series" / "prices" / "MYETF.csv").write_text(
        "date,open,high,low,close\n2024-01-02,1,1,1,1\n2024-01-03,1,2,1,2\n")
    cat = load_catalog(extra={"series": {"MYETF": {"family": "prices", "columns": ["open", "high", "low", "close"]}}})
    frame = load(["MYETF"], calendar="us", data_dir=tmp_path, catalog=cat)
    assert frame["MYETF.close"].tolist() == [1.0, 2.0]
    assert np.isfinite(frame.to_numpy()).all()


def test_nyse_holiday_rules_reproduce_the_trading_days_in_the_data(data_dir):
    from riskoff.data.calendars import us_business_days
    ref = read_series(CATALOG["SPY"], data_dir).index.union(read_series(CATALOG["SPX"], data_dir).index)
    ref = ref[ref >= "1995-01-01"]
    rule = us_business_days("1995-01-01", ref[-1])
    assert ref.difference(rule).empty and rule.difference(ref).empty
