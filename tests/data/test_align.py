"""Point-in-time rules of ``riskoff.data.align``, pinned on dates worked out by hand.

1. Availability: a table of EVERY catalog series (observation date -> first instant the value is
   usable), written from the publishers' release schedules (data README, "Publication lags"; the
   agencies' release calendars), not from the code. Where the catalog uses a conservative lag
   (monthly macro), the row also gives the publisher's actual release for that observation, and
   the usable instant must not precede it.
2. Staleness: the exact last bar on which a series whose file ends still has a value, per decision
   calendar. The bound is measured from when the last value became available (not from its
   observation date: a monthly CPI print is usable from day 45 after the month it measures starts,
   so 70 days from the observation date would leave gaps between releases).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from riskoff.data import load, load_catalog
from riskoff.data.calendars import availability_times
from riskoff.util.errors import DataError

CATALOG = load_catalog()
NY, UTC = "America/New_York", "UTC"


def rows(ids: str, obs: str, usable: str, tz: str, published: str | None = None) -> list[tuple]:
    return [(sid, obs, usable, tz, published) for sid in ids.split()]


# (series, observation date, first usable instant, its time zone, the publisher's release if earlier)
AVAILABILITY = [
    # US closes: the 16:00 New York close of the day itself
    *rows("SPY QQQ DIA IWM RSP QQQE SMH XLK TLT HYG GLD SLV UUP VIXY UVXY SPX NDX",
          "2020-03-13", "2020-03-13 16:00", NY),
    # crypto daily closes: final when the UTC day ends
    *rows("BTC-USD ETH-USD", "2020-03-12", "2020-03-13 00:00", UTC),
    # CBOE: VIX family after the 16:15 index close; put/call ratios at 16:45
    *rows("VIX VIX3M VIX9D VVIX SKEW", "2020-03-16", "2020-03-16 16:15", NY),
    *rows("PUTCALL", "2020-03-16", "2020-03-16 16:45", NY),
    # money-market rates: the next business day (MLK day 2019-01-21 is not one), SOFR ~08:00, EFFR ~09:00
    *rows("SOFR", "2019-01-18", "2019-01-22 08:00", NY),
    *rows("EFFR", "2019-01-18", "2019-01-22 09:00", NY),
    *rows("SOFR30DAYAVG", "2020-03-16", "2020-03-16 08:00", NY),  # dated by its publication day
    # policy rates: set at the FOMC meeting (2022-03-16), effective and known from the next day
    *rows("IORB DFEDTARU DFEDTARL", "2022-03-17", "2022-03-17 00:00", NY),
    # H.15 yields, breakevens, VIXCLS, ICE high-yield OAS: posted the next business day
    *rows("DGS10 DGS2 T10Y2Y T10YIE T5YIE VIXCLS BAMLH0A0HYM2", "2019-01-18", "2019-01-22 16:30", NY),
    # overnight reverse repo: NY Fed results ~13:15 the same business day
    *rows("RRPONTSYD", "2022-06-30", "2022-06-30 13:30", NY),
    # H.4.1: the week ending Wednesday, released Thursday 16:30 (Friday in Thanksgiving week)
    *rows("WALCL WRESBAL WSHOMCB TREAST WTREGEN", "2020-03-11", "2020-03-12 16:30", NY),
    *rows("WALCL WTREGEN", "2019-11-27", "2019-11-29 16:30", NY),
    # weekly: NFCI dated Friday, out Wednesday 08:30; claims for the week ending Saturday, initial
    # out the next Thursday, continuing a week later (the 3.3M-claims week of March 2020)
    *rows("NFCI", "2020-03-13", "2020-03-18 08:30", NY),
    *rows("ICSA", "2020-03-14", "2020-03-19 08:30", NY),
    *rows("CCSA", "2020-03-14", "2020-03-26 08:30", NY),
    # monthly, dated the 1st of the month measured (February 2020); usable after a conservative lag,
    # never before the actual release (BLS, BEA, Fed G.17, Census, University of Michigan, FRED)
    *rows("CPIAUCSL CPILFESL", "2020-02-01", "2020-03-17 08:30", NY, "2020-03-11 08:30"),
    *rows("PCEPILFE", "2020-02-01", "2020-04-01 08:30", NY, "2020-03-27 08:30"),
    *rows("PPIACO PPIFES", "2020-02-01", "2020-03-18 08:30", NY, "2020-03-12 08:30"),
    *rows("PAYEMS UNRATE", "2020-02-01", "2020-03-10 08:30", NY, "2020-03-06 08:30"),
    *rows("JTSJOL", "2020-02-01", "2020-04-09 10:00", NY, "2020-04-07 10:00"),
    *rows("INDPRO", "2020-02-01", "2020-03-19 09:15", NY, "2020-03-17 09:15"),
    *rows("RSAFS", "2020-02-01", "2020-03-18 08:30", NY, "2020-03-17 08:30"),
    *rows("UMCSENT", "2020-02-01", "2020-03-02 10:00", NY, "2020-02-28 10:00"),
    *rows("FEDFUNDS", "2020-02-01", "2020-03-04 16:00", NY, "2020-03-02 16:00"),
    # on-chain: a UTC day's value after the day ends (vendor batch ~01:00 UTC); ETF flows next
    # business morning; the fear & greed index is dated by the day it is published (~00:00 UTC)
    *rows("BTC-MVRV BTC-NUPL BTC-REALIZED-PRICE", "2020-03-12", "2020-03-13 01:00", UTC),
    *rows("BTC-ETF-FLOW-USDMN", "2024-03-15", "2024-03-18 08:00", NY),
    *rows("CRYPTO-FEAR-GREED", "2020-03-12", "2020-03-12 01:00", UTC),
    # funding: a UTC day's prints (sum, mean, count) are complete when that day ends
    *rows("BINANCE-BTCUSDT BYBIT-BTCUSDT GATE-BTCUSDT HTX-BTCUSDT KUCOIN-BTCUSDT MEXC-BTCUSDT DYDX-BTCUSDT",
          "2022-03-12", "2022-03-13 00:00", UTC),
    # intraday bars: stamped at their open, known when they close (open + bar)
    *rows("BINANCE-BTCUSDT-1H", "2025-10-10 21:00", "2025-10-10 22:00", UTC),
    *rows("CRYPTOCOMPARE-BTCUSD-1H", "2020-03-13 02:00", "2020-03-13 03:00", UTC),
    *rows("BINANCE-BTCUSDT-5M", "2025-10-10 21:20", "2025-10-10 21:25", UTC),
    # breadth: computed after the US close
    *rows("S5TH S5OH S5FI MMTH NYSE-ADV NYSE-DECL NYSE-UNCH NEW-HIGHS NEW-LOWS",
          "2020-03-13", "2020-03-13 16:30", NY),
]


def utc_ns(local: str, tz: str) -> int:
    return int(datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).timestamp()) * 10**9


def test_the_table_covers_every_catalog_series():
    assert {r[0] for r in AVAILABILITY} == set(CATALOG)


@pytest.mark.parametrize("sid,obs,usable,tz,published", AVAILABILITY, ids=[f"{r[0]}@{r[1]}" for r in AVAILABILITY])
def test_first_usable_instant_follows_the_publisher(sid, obs, usable, tz, published):
    got = availability_times(pd.DatetimeIndex([obs]), CATALOG[sid])[0]
    assert got == utc_ns(usable, tz), (sid, pd.Timestamp(got, tz="UTC").tz_convert(tz))
    if published is not None:
        assert utc_ns(usable, tz) >= utc_ns(published, tz)


# (series, calendar, last bar with a value) for files ending on (last observation in the snapshot):
STALE = [
    # RSP ends Tue 2026-03-03, usable 16:00 EST = 21:00 UTC, 7 days. US bar t is decided 17:00 New
    # York: after the DST switch of 2026-03-08 that is 21:00 UTC, so Tue 03-10 is exactly 7 days old.
    ("RSP", "us", "2026-03-10"),
    ("RSP", "utc", "2026-03-09"),      # UTC bar t ends 00:00 on t+1: 03-10 ends 03-11 00:00 > 03-10 21:00
    # BTC-USD ends 2026-08-21, usable 08-22 00:00 UTC, 3 days: to 08-25 00:00
    ("BTC-USD", "utc", "2026-08-24"),
    ("BTC-USD", "us", "2026-08-24"),   # Mon 08-24 17:00 New York = 21:00 UTC
    # Binance funding ends with a print on 2026-04-22; that day's aggregate is usable 04-23 00:00, 2 days
    ("BINANCE-BTCUSDT", "utc", "2026-04-24"),
    ("BINANCE-BTCUSDT", "us", "2026-04-24"),
    # WALCL ends Wed 2026-08-19, released Thu 08-20 16:30 New York, 14 days: to Thu 09-03 16:30
    ("WALCL", "us", "2026-09-02"),
    ("WALCL", "utc", "2026-09-02"),
    # CPI ends with the July 2026 observation (dated 07-01), usable 45 days later (Sat 08-15 08:30
    # New York), 70 days: to Sat 10-24 08:30. From the observation date it would end on 09-09.
    ("CPIAUCSL", "us", "2026-10-23"),
    ("CPIAUCSL", "utc", "2026-10-23"),
    # S5TH ends Thu 2026-07-23 16:30 New York, 10 days: to Sun 08-02 16:30 (20:30 UTC)
    ("S5TH", "us", "2026-07-31"),      # the last US session before it
    ("S5TH", "utc", "2026-08-01"),     # Saturday ends 08-02 00:00 UTC, in time; Sunday ends too late
]


@pytest.mark.parametrize("sid,calendar,last_valid", STALE)
def test_a_stale_series_ends_on_the_exact_bar(data_dir, sid, calendar, last_valid):
    last_valid = pd.Timestamp(last_valid)
    frame = load([sid], last_valid - pd.Timedelta(days=20), last_valid + pd.Timedelta(days=20), calendar=calendar,
                 data_dir=data_dir, stale="allow")
    values = frame.iloc[:, 0]
    assert values.last_valid_index() == last_valid
    assert values.loc[:last_valid].iloc[-1] == values.dropna().iloc[-1]  # the last value, carried


@pytest.mark.parametrize("calendar", ["us", "utc"])
def test_a_run_span_past_the_staleness_bound_is_refused(data_dir, calendar):
    """The up-front coverage check (stale="raise") accepts RSP through 2026-03-10, refuses 03-11.

    It measures the age at the end of the last UTC day with one day of grace, so on the UTC
    calendar a run ending 03-10 passes although its last bar is already NaN (see the test above).
    """
    load(["RSP"], "2026-01-05", "2026-03-10", calendar=calendar, data_dir=data_dir)
    with pytest.raises(DataError, match=r"RSP.*stale: last value 2026-03-03"):
        load(["RSP"], "2026-01-05", "2026-03-11", calendar=calendar, data_dir=data_dir)
