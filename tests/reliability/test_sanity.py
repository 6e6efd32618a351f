"""Data sanity rules (riskoff.data.sanity): damaged real files stop a run with a named error; the
snapshot passes apart from the rows listed in data/exceptions.toml and the caught filler rows."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest
from reliability_helpers import CATALOG, damaged_dir, line_of, run_cli, valid_config

from riskoff.data import load, load_catalog, read_series, sanity
from riskoff.data.sanity import check_table
from riskoff.util.errors import ConfigError, DataError, RiskoffWarning

FILLERS = {(s, d) for s in ("NEW-HIGHS", "NEW-LOWS") for d in ("2025-05-26", "2025-06-19", "2025-07-04")}


BARS = {"BINANCE-BTCUSDT-1H": "6h", "BINANCE-BTCUSDT-5M": "1h", "CRYPTOCOMPARE-BTCUSD-1H": "6h"}


def snapshot_catalog():
    """The catalog plus the snapshot's intraday bar files, declared here (as time-stamped OHLCV,
    max_gap as in the intraday-bars issue) while the catalog does not declare them yet."""
    if all(sid in CATALOG for sid in BARS):
        return CATALOG
    family = {"columns": ["open", "high", "low", "close", "volume"], "calendar": "intraday", "units": "USD per BTC",
              "lag_days": 0, "lag_unit": "day", "publish_time": "00:00", "publish_tz": "UTC", "max_stale_days": 2,
              "positive": True, "asset_class": "crypto"}
    return load_catalog(extra={"families": {"intraday": family},
                               "series": {sid: {"family": "intraday", "max_gap": gap} for sid, gap in BARS.items()
                                          if sid not in CATALOG}})


@pytest.fixture(scope="module")
def snapshot_table(data_dir):
    specs = [s for s in snapshot_catalog().values() if (data_dir / s.relpath()).exists()]
    assert {s.id for s in specs} >= set(BARS)
    return check_table(specs, data_dir)


def test_whole_snapshot_breaks_no_rule_but_the_listed_rows(snapshot_table):
    bad = snapshot_table[snapshot_table["status"] == "VIOLATION"]
    # the filler rows are caught (not excepted); nothing else breaks a rule
    assert set(zip(bad["series"], bad["stamp"])) == FILLERS
    assert set(bad["rule"]) == {"session"}
    vix = snapshot_table[(snapshot_table["series"] == "VIX") & (snapshot_table["rule"] == "ohlc")]
    assert len(vix) == 47 and "2004-11-08" in set(vix["stamp"])  # the count the issue reports
    bars = snapshot_table[snapshot_table["series"].isin(list(BARS))]
    assert list(zip(bars["series"], bars["stamp"], bars["status"])) == [
        ("CRYPTOCOMPARE-BTCUSD-1H", "2021-01-04T05:00:00Z", "excepted")]
    assert (snapshot_table.loc[snapshot_table["status"] == "excepted", "detail"].str.contains("excepted: ")).all()


@pytest.mark.parametrize("series_id, day, prev_day, lo, hi", [
    ("BTC-USD", "2020-03-12", "2020-03-11", 0.55, 0.70),   # -37% on the day (snapshot README)
    ("BTC-USD", "2026-02-05", "2026-02-04", 0.80, 0.90),
    ("SLV", "2026-01-30", "2026-01-29", 0.65, 0.78),       # -28%
    ("VIXY", "2018-02-05", "2018-02-02", 1.3, 1.4),        # Volmageddon: +34%
    ("UVXY", "2018-02-05", "2018-02-02", 1.6, 1.7),        # +66%
])
def test_genuine_extreme_moves_pass(series_id, day, prev_day, lo, hi, data_dir, snapshot_table):
    close = read_series(CATALOG[series_id], data_dir)["close"]
    assert lo < close[day] / close[prev_day] < hi  # the move really is extreme in the file
    hits = snapshot_table[(snapshot_table["series"] == series_id) & (snapshot_table["stamp"] == day)]
    assert hits.empty


def test_data_check_command_prints_the_table(data_dir, capsys):
    rc, out, _ = run_cli(["data", "check", "NEW-HIGHS", "VIX", "--data-dir", str(data_dir)], capsys)
    assert rc == 1
    row = next(ln for ln in out.splitlines() if "2025-06-19" in ln)
    assert "NEW-HIGHS" in row and "5128" in row and "session" in row and "VIOLATION" in row
    assert "2004-11-08" in out and "excepted" in out
    assert "3 violation(s), 47 excepted" in out
    rc, out, _ = run_cli(["data", "check", "SPY", "--data-dir", str(data_dir)], capsys)
    assert rc == 0 and "0 violation(s), 1 excepted" in out


def _scale_row(day: str, factor: float):
    def damage(lines):
        out = []
        for ln in lines:
            if ln.startswith(day):
                d, *vals = ln.split(",")
                vals = [f"{float(v) * factor:.4f}" for v in vals[:4]] + vals[4:]
                ln = ",".join([d, *vals])
            out.append(ln)
        return out
    return damage


def _cases():
    def gap(lines):  # ten NYSE sessions, Mon 2015-06-01 .. Fri 2015-06-12, lost
        return [ln for ln in lines if not "2015-06-01" <= ln[:10] <= "2015-06-12"]

    def ohlc(lines):
        return [ln.replace(ln.split(",")[1], "999.0", 1) if ln.startswith("2015-03-10") else ln for ln in lines]
    return {
        "gap": (gap, "2015-06-15", "10 NYSE sessions missing between 2015-05-29 and 2015-06-15 (max_gap 5)"),
        "move": (_scale_row("2015-09-15", 100.0), "2015-09-15", "x101.2 from the previous close 164.289 and x99.1 from the next"),
        "ohlc": (ohlc, "2015-03-10", "open 999 high"),
    }


@pytest.mark.parametrize("rule", sorted(_cases()))
def test_damaged_spy_file_stops_the_run(rule, data_dir, tmp_path, run_base):
    damage, stamp, detail = _cases()[rule]
    root, path = damaged_dir(data_dir, tmp_path, "SPY", damage)
    rc, err, out = run_base(root)
    assert rc == 2, err
    line = line_of(path.read_text().splitlines(), stamp)
    assert f"{path}, series SPY, line {line}: {stamp} breaks the {rule} rule" in err
    assert detail in err and err.count("riskoff: error:") == 1 and "Traceback" not in err
    assert not out.exists() and not out.parent.exists()


def test_stamps_after_now_stop_the_run(data_dir, tmp_path, run_base, monkeypatch):
    root, path = damaged_dir(data_dir, tmp_path, "SPY", lambda lines: lines)
    monkeypatch.setenv("RISKOFF_NOW", "2016-03-01T00:00:00Z")  # rows from 2016-03-01 on are "future"
    rc, err, out = run_base(root)
    assert rc == 2, err
    line = line_of(path.read_text().splitlines(), "2016-03-01")
    assert f"series SPY, line {line}: 2016-03-01 breaks the future rule" in err
    assert "becomes public 2016-03-01 21:00 UTC, after the current time 2016-03-01 00:00 UTC" in err
    assert not out.parent.exists()


def test_rules_are_overridable_per_series_in_a_config(data_dir, tmp_path):
    root, _ = damaged_dir(data_dir, tmp_path, "SPY", _cases()["gap"][0])
    with pytest.raises(DataError, match="gap rule"):
        load(["SPY"], "2015-01-01", "2015-12-31", data_dir=root)
    relaxed = load_catalog(extra={"series": {"SPY": {"family": "prices", "max_gap": 10}}})
    frame = load(["SPY"], "2015-01-01", "2015-12-31", data_dir=root, catalog=relaxed)
    assert frame.loc["2015-06-15", "SPY.close"] > 0
    root2, _ = damaged_dir(data_dir, tmp_path / "b", "SPY", _scale_row("2015-09-15", 100.0))
    with pytest.raises(DataError, match="move rule"):
        load(["SPY"], "2015-01-01", "2015-12-31", data_dir=root2)
    off = load_catalog(extra={"series": {"SPY": {"family": "prices", "max_move": 0}}})
    assert len(load(["SPY"], "2015-01-01", "2015-12-31", data_dir=root2, catalog=off))


def test_a_run_span_avoiding_the_bad_row_is_unaffected(data_dir, tmp_path):
    root, _ = damaged_dir(data_dir, tmp_path, "SPY", _cases()["gap"][0])
    assert len(load(["SPY"], "2016-01-01", "2016-12-31", data_dir=root)) == 252


def test_exceptions_file_is_what_lets_the_vix_rows_through(data_dir, tmp_path, monkeypatch):
    frame = load(["VIX"], "2004-11-01", "2004-11-30", data_dir=data_dir)
    assert frame.loc["2004-11-08", "VIX.open"] == 2.58
    empty = tmp_path / "exceptions.toml"
    empty.write_text("# nothing excepted\n")
    monkeypatch.setattr(sanity, "EXCEPTIONS_FILE", empty)
    with pytest.raises(DataError) as info:
        load(["VIX"], "2004-11-01", "2004-11-30", data_dir=data_dir)
    msg = str(info.value)
    assert "VIX.csv, series VIX, line 3745: 2004-11-08 breaks the ohlc rule: open 2.58 high 14.48 low 13.68" in msg


def test_intraday_gap_is_a_declared_duration(data_dir, tmp_path):
    def lose_three_days(lines):
        return [ln for ln in lines if not "2021-03-10" <= ln[:10] <= "2021-03-12"]
    root, path = damaged_dir(data_dir, tmp_path, "BINANCE-BTCUSDT", lose_three_days, "2020-06-01", "2021-12-31")
    with pytest.raises(DataError) as info:
        load(["BINANCE-BTCUSDT"], "2021-01-01", "2021-06-30", calendar="utc", data_dir=root)
    line = line_of(path.read_text().splitlines(), "2021-03-13")
    assert f"line {line}: 2021-03-13T00:00:00Z breaks the gap rule: a step of 3 days 08:00:00 from 2021-03-09T16:00Z to 2021-03-13T00:00Z" in str(info.value)
    assert "(max_gap 2d: the longest step allowed between two stamps)" in str(info.value)


def test_filler_rows_are_left_out_of_a_run_with_a_warning(data_dir, monkeypatch):
    monkeypatch.setattr(sanity, "_filler_warned", set())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame = load(["NEW-HIGHS", "SPY"], "2025-06-01", "2025-07-31", data_dir=data_dir)
        again = load(["NEW-HIGHS"], "2025-05-01", "2025-07-31", calendar="utc", data_dir=data_dir)
    texts = [str(w.message) for w in seen if issubclass(w.category, RiskoffWarning)]
    assert any("NEW-HIGHS.csv, series NEW-HIGHS, line 5128: 2025-06-19 breaks the session rule" in t for t in texts)
    # a run loads a series several times (plan, each calendar): each filler row is named once
    assert len(texts) == len(set(texts)) == 3 and len(again)
    assert pd.Timestamp("2025-06-19") not in frame.index
    # the day after the holiday sees its own print, never the 0.01 filler
    assert frame.loc["2025-06-20", "NEW-HIGHS"] == 41 and frame.loc["2025-07-07", "NEW-HIGHS"] == 101
    assert (frame["NEW-HIGHS"].dropna() >= 1).all()


@pytest.mark.parametrize("field, value, expected", [
    ("max_gap", "6x", "not a time span"),
    ("max_gap", -1, "count of missed periods"),
    ("max_move", 0.5, "a factor > 1"),
    ("frequency", "hourly", "expected one of"),
    ("sessions", "lse", "expected one of"),
])
def test_rule_fields_are_validated(field, value, expected):
    with pytest.raises(ConfigError, match=expected):
        load_catalog(extra={"series": {"SPY": {"family": "prices", field: value}}})


def test_exceptions_need_a_reason(tmp_path):
    bad = tmp_path / "exceptions.toml"
    bad.write_text('[[exception]]\nseries = "VIX"\nrule = "ohlc"\nstamps = ["2004-11-08"]\n')
    with pytest.raises(ConfigError, match="needs a reason"):
        sanity.load_exceptions(bad)


def test_a_run_over_the_filler_rows_warns_and_leaves_them_out(data_dir, tmp_path, run_base):
    cfg = valid_config(tmp_path, tail='\n[[strategies]]\nname = "breadth"\nrule = "any_off"\n'
                                      'signals = ["breadth_collapse"]\n')
    cfg.write_text(cfg.read_text().replace("2015-01-01", "2025-06-02").replace("2015-06-30", "2025-07-31"))
    rc, err, out = run_base(data_dir, config=cfg)
    assert rc == 0, err
    warned = [ln for ln in err.splitlines() if ln.startswith("riskoff: warning:")]
    for series, line in (("NEW-HIGHS", 5128), ("NEW-HIGHS", 5139), ("NEW-LOWS", 5085), ("NEW-LOWS", 5096)):
        assert any(f"{series}.csv, series {series}, line {line}:" in w and "left out" in w for w in warned), warned
    assert (out / "summary.json").exists()
