"""The plan step shared by run and sweep: required series, the run end and the coverage check."""
from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path

import pandas as pd
import pytest

from riskoff.data.context import DataContext
from riskoff.run.config import load_config
from riskoff.run.plan import plan_run
from riskoff.util.errors import ConfigError, DataError

SMALL = Path(__file__).parent / "fixtures" / "configs" / "small.toml"


def last_csv_date(path: Path) -> pd.Timestamp:
    """The last date column value of a series file, read with the csv module (not riskoff's reader)."""
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    return pd.Timestamp(rows[-1][0][:10])


def test_auto_end_is_the_last_date_every_required_series_covers(data_dir):
    cfg = load_config(SMALL)
    data = DataContext.create(data_dir)
    plan = plan_run(cfg, data)
    assert plan.required[:2] == ("SPY", "BTC-USD") and "VIX" in plan.required
    assert not set(plan.optional) & set(plan.required)
    lasts = {sid: last_csv_date(data_dir / data.catalog[sid].relpath()) for sid in plan.required}
    assert plan.end == min(lasts.values())
    assert lasts[plan.end_limited_by] == plan.end
    assert plan.span_text(cfg.start).endswith(f"(end limited by {plan.end_limited_by})")


def test_config_end_is_used_as_given(data_dir):
    cfg = load_config(SMALL)
    cfg = dataclasses.replace(cfg, end=pd.Timestamp("2020-06-30"))
    plan = plan_run(cfg, DataContext.create(data_dir))
    assert (plan.end, plan.end_limited_by) == (pd.Timestamp("2020-06-30"), "config")


def short_spy_data_dir(data_dir: Path, tmp: Path, last: str) -> Path:
    """A data dir of links to the real files, except SPY cut after ``last``."""
    for src in (data_dir / "series").rglob("*"):
        dst = tmp / "series" / src.relative_to(data_dir / "series")
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif src.name != "SPY.csv":
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src, dst)
    spy = data_dir / "series" / "prices" / "SPY.csv"
    lines = spy.read_text().splitlines(keepends=True)
    keep = [ln for ln in lines[1:] if ln[:10] <= last]
    (tmp / "series" / "prices" / "SPY.csv").write_text(lines[0] + "".join(keep))
    return tmp


def test_a_short_series_limits_the_auto_end_and_fails_an_explicit_end(data_dir, tmp_path):
    short = short_spy_data_dir(data_dir, tmp_path, "2021-03-31")
    cfg = load_config(SMALL)
    plan = plan_run(cfg, DataContext.create(short))
    assert (plan.end, plan.end_limited_by) == (pd.Timestamp("2021-03-31"), "SPY")
    later = dataclasses.replace(cfg, end=pd.Timestamp("2022-01-03"))
    with pytest.raises(DataError, match=r"SPY\.csv.*series SPY"):
        plan_run(later, DataContext.create(short))
    early = dataclasses.replace(cfg, start=pd.Timestamp("2021-06-01"))
    with pytest.raises(ConfigError, match=r"the data ends 2021-03-31 \(limited by SPY\), before run.start 2021-06-01"):
        plan_run(early, DataContext.create(short))
