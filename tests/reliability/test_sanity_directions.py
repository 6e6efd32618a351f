"""Sanity rules in the directions the first tests did not cover (riskoff.data.sanity).

- move: a close divided by a unit factor (a price in hundreds instead of units) is as much a unit
  error as one multiplied by it; a genuine fall that stays down is not.
- future: an intraday bar stamped at its open time T is public only at its close T + bar, so it
  is refused while "now" (``RISKOFF_NOW`` or the ``now`` argument) lies in [T, T + bar); a
  funding print is public at its stamp.

Files are slices of the real snapshot (header plus the rows of a few days), copied into a data
dir of their own and damaged by the test; expected lines and ratios are worked out by hand.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.data import load, load_catalog, read_series
from riskoff.data.sanity import check_frame, now_utc
from riskoff.util.errors import DataError

CAT = load_catalog()
H1, FUNDING = "BINANCE-BTCUSDT-1H", "BINANCE-BTCUSDT"


def slice_dir(snapshot: Path, tmp: Path, sid: str, first: str, last: str, damage=None) -> tuple[Path, list[str]]:
    """A data dir holding only ``sid``'s real rows with stamps in [first, last] (text order)."""
    rel = CAT[sid].relpath()
    lines = (snapshot / rel).read_text().splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if first <= ln[:len(first)] and ln[:len(last)] <= last]
    if damage is not None:
        kept = damage(kept)
    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp / rel).write_text("\n".join(kept) + "\n")
    return tmp, kept


def scale_close(day: str, factor: float):
    """Multiply the four prices of the row of ``day`` by ``factor`` (the volume is kept)."""
    def damage(lines):
        out = []
        for ln in lines:
            if ln.startswith(day):
                d, *vals = ln.split(",")
                ln = ",".join([d, *[f"{float(v) * factor:.6f}" for v in vals[:4]], *vals[4:]])
            out.append(ln)
        return out
    return damage


# ---------------------------------------------------------------- move rule, downward

def test_a_close_divided_by_a_hundred_stops_the_load(data_dir, tmp_path):
    root, lines = slice_dir(data_dir, tmp_path, "SPY", "2015-09-01", "2015-09-30", scale_close("2015-09-15", 0.01))
    line = next(i for i, ln in enumerate(lines) if ln.startswith("2015-09-15")) + 1
    real = read_series(CAT["SPY"], data_dir)["close"]
    prev, nxt = real["2015-09-14"], real["2015-09-16"]
    with pytest.raises(DataError) as info:
        load(["SPY"], "2015-09-01", "2015-09-30", data_dir=root)
    msg = str(info.value)
    assert f"series SPY, line {line}: 2015-09-15 breaks the move rule" in msg
    # the ratio is the larger of the two directions: previous / damaged close, about 100 here
    assert f"is x{prev / (real['2015-09-15'] * 0.01):.1f} from the previous close {prev:g}" in msg
    assert f"and x{nxt / (real['2015-09-15'] * 0.01):.1f} from the next {nxt:g}" in msg


def frame(closes) -> pd.DataFrame:
    idx = pd.bdate_range("2024-03-04", periods=len(closes))
    c = np.asarray(closes, dtype=float)
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c}, index=idx)


@pytest.mark.parametrize("closes, flagged", [
    ([100, 100, 100 / 5.5, 100, 100], [2]),      # down x5.5 and back: a unit error
    ([100, 100, 100 * 5.5, 100, 100], [2]),      # the same upward (the case tested before)
    ([100, 100, 100 / 4.5, 100, 100], []),       # x4.5: inside the default factor 5
    ([100, 100, 100 / 5.5, 100 / 5.5, 100 / 5.5], []),  # falls once and stays: a genuine crash
    ([100, 100, 100 / 6, 100 / 6 * 5.5, 100], [2]),  # down x6, then back up x5.5: both neighbours far
    ([100, 100 / 6, 100, 100, 100 / 7, 100], [1, 4]),  # two separate dips
])
def test_move_rule_is_symmetric(closes, flagged, tmp_path):
    hits = [v for v in check_frame(CAT["SPY"], frame(closes), tmp_path / "SPY.csv", now=pd.Timestamp("2030-01-01"),
                                   exceptions=None) if v.rule == "move"]
    assert [v.row - 2 for v in hits] == flagged


# ---------------------------------------------------------------- future rule on intraday stamps

@pytest.fixture
def bars_dir(data_dir, tmp_path):
    """The real 1h bars of 2025-10-10 from 00:00 to 21:00 (the crash bar is the last row)."""
    root, _ = slice_dir(data_dir, tmp_path, H1, "2025-10-10T00", "2025-10-10T21")
    return root


@pytest.mark.parametrize("now, refused", [
    ("2025-10-10 20:59", True),    # before the last bar opens (and the 20:00 bar closes at 21:00)
    ("2025-10-10 21:00", True),    # the 21:00 bar has just opened: its close is not known
    ("2025-10-10 21:30", True),
    ("2025-10-10 21:59:59", True),
    ("2025-10-10 22:00", False),   # it closes, and is public, at 22:00
    ("2025-10-11 09:00", False),
])
def test_an_hourly_bar_is_public_only_at_its_close(bars_dir, now, refused):
    spec = CAT[H1]
    bars = read_series(spec, bars_dir)
    assert bars.index[-1] == pd.Timestamp("2025-10-10 21:00") and len(bars) == 22
    hits = [v for v in check_frame(spec, bars, bars_dir / spec.relpath(), now=pd.Timestamp(now)) if v.rule == "future"]
    if not refused:
        assert hits == []
        return
    assert hits[-1].stamp == "2025-10-10T21:00:00Z" and hits[-1].row == 23
    assert "becomes public 2025-10-10 22:00 UTC" in hits[-1].detail
    # the 20:00 bar is refused too while 21:00 has not come (it closes then)
    assert [v.stamp for v in hits] == (["2025-10-10T20:00:00Z"] if pd.Timestamp(now) < pd.Timestamp("2025-10-10 21:00")
                                       else []) + ["2025-10-10T21:00:00Z"]


@pytest.mark.parametrize("now, refused", [
    ("2025-10-10T21:30:00Z", True),
    ("2025-10-10T23:30:00+02:00", True),    # 21:30 UTC, written in Paris summer time
    ("2025-10-10T17:59:00-04:00", True),    # 21:59 UTC, written in New York summer time
    ("2025-10-11T00:00:00+02:00", False),   # 22:00 UTC: the bar has closed
    ("2025-10-10T22:00:00Z", False),
])
def test_riskoff_now_stops_a_run_on_an_unclosed_bar(bars_dir, monkeypatch, now, refused):
    monkeypatch.setenv("RISKOFF_NOW", now)
    utc = pd.Timestamp(now).tz_convert("UTC").tz_localize(None)
    assert now_utc() == utc
    if refused:
        with pytest.raises(DataError) as info:
            load([H1], "2025-10-10", "2025-10-10", calendar="1h", data_dir=bars_dir)
        assert ("series BINANCE-BTCUSDT-1H, line 23: 2025-10-10T21:00:00Z breaks the future rule: becomes public "
                f"2025-10-10 22:00 UTC, after the current time {utc:%Y-%m-%d %H:%M} UTC") in str(info.value)
    else:
        got = load([H1], "2025-10-10", "2025-10-10", calendar="1h", data_dir=bars_dir)
        # the crash bar, known at its close: the low of 102,000 seen by the bar decided at 22:00
        assert got.loc["2025-10-10 21:00", f"{H1}.low"] == 102000.0


@pytest.mark.parametrize("now, refused", [
    ("2025-10-10 15:59", True),    # the 16:00 print settles at 16:00
    ("2025-10-10 16:00", False),   # public at its stamp: no bar length to wait for
    ("2025-10-10 16:01", False),
])
def test_a_funding_print_is_public_at_its_stamp(data_dir, tmp_path, now, refused):
    root, _ = slice_dir(data_dir, tmp_path, FUNDING, "2025-10-08", "2025-10-10T16")
    spec = CAT[FUNDING]
    prints = read_series(spec, root)
    assert prints.index[-1] == pd.Timestamp("2025-10-10 16:00")
    hits = [v for v in check_frame(spec, prints, root / spec.relpath(), now=pd.Timestamp(now)) if v.rule == "future"]
    assert [v.stamp for v in hits] == (["2025-10-10T16:00:00Z"] if refused else [])


@pytest.mark.parametrize("rows, now, refused", [
    (1, "2025-10-10 21:30", True),     # one row: no spacing to measure, the catalog's 1h bar decides
    (1, "2025-10-10 22:00", False),
    (3, "2025-10-10 22:30", False),    # rows 4 h apart: still a 1h bar, public at 22:00
])
def test_the_future_rule_takes_the_bar_from_the_catalog_not_the_rows(bars_dir, rows, now, refused):
    spec = CAT[H1]
    bars = read_series(spec, bars_dir).iloc[::-4].iloc[:rows].sort_index()  # ..., 13:00, 17:00, 21:00
    assert bars.index[-1] == pd.Timestamp("2025-10-10 21:00")
    hits = [v for v in check_frame(spec, bars, bars_dir / spec.relpath(), now=pd.Timestamp(now), exceptions=None)
            if v.rule == "future"]
    assert [v.stamp for v in hits] == (["2025-10-10T21:00:00Z"] if refused else [])
