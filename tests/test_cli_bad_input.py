"""The bad-input corpus (tests/fixtures/bad): every case exits 2 with one clear message and no results.

Data cases overlay one broken file on the real snapshot (symlinks into a temp dir: nothing is
copied) and run ``riskoff run tests/fixtures/bad/configs/base.toml``; config cases run a broken
config against the snapshot. Each message must name the file or key, the row or value, and
what was expected.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskoff.cli import main

BAD = Path(__file__).parent / "fixtures" / "bad"
BASE = BAD / "configs" / "base.toml"


def overlay(snapshot: Path, case: str, tmp: Path) -> Path:
    """A data dir: the snapshot's files symlinked, with the case's files replacing theirs."""
    root = tmp / "data"
    case_dir = BAD / "data" / case
    broken = {p.relative_to(case_dir) for p in case_dir.rglob("*.csv")}
    for src in (snapshot / "series").rglob("*.csv"):
        rel = src.relative_to(snapshot)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel not in broken:
            os.symlink(src, root / rel)
    for rel in broken:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes((case_dir / rel).read_bytes())
    return root


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    rc = main(args)
    err = capsys.readouterr().err
    return rc, err


DATA_CASES = {
    "empty_file": ["SPY.csv", "file is empty", "expected a header line"],
    "header_only": ["SPY.csv", "header only, no data rows"],
    "missing_close_column": ["SPY.csv", "missing column(s) ['close']", "expected columns"],
    "wrong_columns": ["VIX.csv", "line 1", "first column is 'Date'; expected 'date'"],
    "unparsable_date": ["SPY.csv", "line 3", "'2015-13-45' is not a valid calendar date"],
    "mixed_date_formats": ["SPY.csv", "line 3", "'01/05/2015' is not YYYY-MM-DD"],
    "duplicate_stamps": ["SPY.csv", "line 4", "duplicate date 2015-01-05"],
    "unsorted_stamps": ["SPY.csv", "line 3", "not ascending", "expected oldest first"],
    "nan_run": ["SPY.csv", "line 3", "empty value in column 'open'"],
    "text_in_numeric": ["SPY.csv", "line 3", "value 'n/a' is not a number"],
    "zero_price": ["SPY.csv", "line 3", "close 0 on 2015-01-05 is not positive"],
    "negative_price": ["SPY.csv", "line 2", "close -100 on 2015-01-02 is not positive"],
    "funding_in_percent": ["BINANCE-BTCUSDT.csv", "looks like percent", "expected a fraction"],
    "timestamp_with_offset": ["BINANCE-BTCUSDT.csv", "line 2", "carries a UTC offset"],
    "series_ends_before_run": ["SPY.csv", "series ends 2014-12-31, before the run starts 2015-01-01"],
    "thousands_separator": ["SPY.csv", "line 2", "'1,000.5' is not a number (thousands separator?)"],
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_file_exits_2_with_a_clear_message(case, data_dir, tmp_path, capsys):
    root = overlay(data_dir, case, tmp_path)
    out = tmp_path / "results" / "run"
    rc, err = run_cli(["run", str(BASE), "--data-dir", str(root), "--out", str(out)], capsys)
    assert rc == 2, err
    assert err.count("riskoff: error:") == 1 and "Traceback" not in err
    for piece in DATA_CASES[case]:
        assert piece in err, (piece, err)
    assert not (tmp_path / "results").exists()


CONFIG_CASES = {
    "unknown_asset": ["run.assets", "unknown asset 'SPYY'", "did you mean 'SPY'"],
    "unknown_signal": ["strategies[0]", "vix_mean_reversoin", "did you mean 'vix_mean_reversion'"],
    "unknown_rule": ["strategies[0]", "any_of", "did you mean 'any_off'"],
    "out_of_range_param": ["bad_window", "window", "100000", "2 .. 1000"],
    "unknown_param": ["windw", "did you mean 'window'"],
    "trough_outside_window": ["windows.my_crash", "2020-05-23", "expected start <= trough <= end"],
    "not_toml": ["not_toml.toml", "not valid TOML"],
    "unknown_run_key": ["run: unknown key 'strat'", "did you mean 'start'"],
    "end_beyond_data": ["SPY.csv", "series is stale", "2027-12-31"],
    "missing_buy_and_hold": ["buy_and_hold baseline"],
    "bad_overlay": ["trailing_stop", "1.5", "out of range"],
    "not_a_price_asset": ["'SOFR' is a fred series, not a tradable price"],
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config_exits_2_with_a_clear_message(case, data_dir, tmp_path, capsys):
    config = BAD / "configs" / f"{case}.toml"
    out = tmp_path / "results" / "run"
    rc, err = run_cli(["run", str(config), "--data-dir", str(data_dir), "--out", str(out)], capsys)
    assert rc == 2, err
    assert err.count("riskoff: error:") == 1 and "Traceback" not in err
    for piece in CONFIG_CASES[case]:
        assert piece in err, (piece, err)
    assert not (tmp_path / "results").exists()


def test_the_real_command_prints_no_traceback(data_dir, tmp_path):
    """One case through the installed console entry point, as a user runs it."""
    config = BAD / "configs" / "unknown_signal.toml"
    proc = subprocess.run([sys.executable, "-m", "riskoff.cli", "run", str(config), "--data-dir", str(data_dir),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "did you mean 'vix_mean_reversion'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_corpus_has_at_least_twenty_cases():
    assert len(DATA_CASES) + len(CONFIG_CASES) >= 20
    assert {p.name for p in (BAD / "data").iterdir()} == set(DATA_CASES)
