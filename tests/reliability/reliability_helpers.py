"""Helpers for the reliability tests (imported by the tests and conftest.py): real files from the snapshot, copied and damaged.

A damaged data dir symlinks every snapshot file except the one under test, which is a slice of
the real file (header + the rows in a date range) written into tmp_path and then damaged by the
test: the cases look like a user's messy file, not a synthetic frame.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from riskoff.cli import main
from riskoff.data import load_catalog

BASE = Path(__file__).parents[1] / "fixtures" / "bad" / "configs" / "base.toml"  # SPY + BTC-USD, 2015-01..2016-06
CATALOG = load_catalog()


def damaged_dir(snapshot: Path, tmp: Path, series_id: str, damage: Callable[[list[str]], list[str]],
                first: str = "2013-01-01", last: str = "2017-12-31") -> tuple[Path, Path]:
    """(data dir, the damaged file): ``series_id``'s real rows between first and last, then ``damage``
    applied to the list of lines (line 0 = header, so file line n is ``lines[n - 1]``)."""
    root = tmp / "data"
    rel = CATALOG[series_id].relpath()
    for src in (snapshot / "series").rglob("*.csv"):
        r = src.relative_to(snapshot)
        (root / r).parent.mkdir(parents=True, exist_ok=True)
        if r != rel:
            os.symlink(src, root / r)
    lines = (snapshot / rel).read_text().splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if first <= ln[:10] <= last]
    target = root / rel
    target.write_text("\n".join(damage(kept)) + "\n")
    return root, target


def line_of(lines: list[str], stamp: str) -> int:
    """The file line number (header = 1) of the row starting with ``stamp``."""
    return next(i for i, ln in enumerate(lines) if ln.startswith(stamp)) + 1


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


VALID_CONFIG = """\
[run]
name = "io-probe"
start = 2015-01-01
end = 2015-06-30
assets = ["SPY"]
engine = "numba"
tearsheets = "none"
workers = 1               # no helper process: a failing run would wait for its spawn (~1.7 s a test)

[baselines]
rules = ["buy_and_hold"]

[signals_alone]
signals = ["vix_mean_reversion"]
"""


def valid_config(folder: Path, run_lines: str = "", tail: str = "") -> Path:
    """A small valid run config (SPY, six months, one signal) that runs on the real snapshot;
    ``run_lines`` are added to its [run] table and ``tail`` (more tables) at the end."""
    path = folder / "io_probe.toml"
    path.write_text(VALID_CONFIG.replace('tearsheets = "none"\n', f'tearsheets = "none"\n{run_lines}') + tail)
    return path
