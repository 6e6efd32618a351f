"""Bad intraday input through `riskoff run`: one clear message naming file, series and row, and
nothing written (no results folder, no temp folder)."""
from __future__ import annotations

from pathlib import Path

import pytest

from riskoff.cli import main

H1 = "BINANCE-BTCUSDT-1H"
CONFIG = """
[run]
name = "bad_intraday"
start = 2021-01-01
end = 2021-01-02
assets = ["BINANCE-BTCUSDT-1H"]
cash = "none"
tearsheets = "none"
[baselines]
rules = ["buy_and_hold"]
"""


def real_lines(data_dir: Path, n: int) -> list[str]:
    with open(data_dir / "series" / "intraday" / f"{H1}.csv") as fh:
        return [next(fh) for _ in range(n)]


def case(lines: list[str], name: str) -> list[str]:
    """Break the first rows of the real file the way a bad export would."""
    head, rows = lines[0], lines[1:]
    if name == "gap":          # 7 bars missing: a 8 h step
        return [head, *rows[:10], *rows[17:]]
    if name == "duplicate":
        return [head, *rows[:5], rows[4], *rows[5:]]
    if name == "unsorted":
        return [head, *rows[:5], rows[6], rows[5], *rows[7:]]
    if name == "off_grid":
        return [head, *rows[:5], rows[5].replace(":00:00Z", ":30:00Z", 1), *rows[6:]]
    if name == "not_utc":
        return [head, *rows[:5], rows[5].replace("Z,", "+01:00,", 1), *rows[6:]]
    raise ValueError(name)


@pytest.mark.parametrize("name, expected", [
    ("gap", ["line 12", "gap of 0 days 08:00:00", "max_gap 6h"]),
    ("duplicate", ["line 7", "duplicate time 2021-01-01T04:00:00Z"]),
    ("unsorted", ["line 8", "not ascending: 2021-01-01T05:00:00Z comes after 2021-01-01T06:00:00Z"]),
    ("off_grid", ["line 7", "off the 1h bar grid"]),
    ("not_utc", ["line 7", "carries a UTC offset"]),
])
def test_bad_intraday_file_stops_the_run_before_anything_is_written(tmp_path, data_dir, capsys, name, expected):
    data = tmp_path / "data" / "series" / "intraday"
    data.mkdir(parents=True)
    (data / f"{H1}.csv").write_text("".join(case(real_lines(data_dir, 60), name)))
    cfg = tmp_path / "bad.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "results" / "run"
    rc = main(["run", str(cfg), "--data-dir", str(tmp_path / "data"), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert str(data / f"{H1}.csv") in err and f"series {H1}" in err, err
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err
    assert not out.exists()
    leftovers = list((tmp_path / "results").iterdir()) if (tmp_path / "results").exists() else []
    assert not leftovers, leftovers
