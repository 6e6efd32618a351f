"""Truncation invariance of the loader: data cut at t gives the same frame up to t."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskoff.data import load, load_catalog
from riskoff.testing import truncated_data_copy

CATALOG = load_catalog()
IDS = sorted(CATALOG)
CUT_LO, CUT_HI = pd.Timestamp("2012-01-01"), pd.Timestamp("2026-06-01")


def truncated_copy(src: Path, dst: Path, ids: list[str], cut: pd.Timestamp) -> list[str]:
    """Each series cut after ``cut`` (see riskoff.testing.truncated_data_copy)."""
    return truncated_data_copy(src, dst, ids, cut, CATALOG)


def compare(src: Path, dst: Path, ids: list[str], cut: pd.Timestamp, calendar: str) -> None:
    # the US calendar comes from SPY/SPX: cut them too, so the calendar itself is point-in-time
    present = truncated_copy(src, dst, sorted(set(ids) | {"SPY", "SPX"}), cut)
    kept = [i for i in ids if i in present]
    full = load(ids, "2010-01-01", None, calendar=calendar, data_dir=src, stale="allow")
    absent = [c for i in ids if i not in present for c in CATALOG[i].frame_columns() if c in full.columns]
    # a series with no observation by the cut must be invisible up to the cut in the full frame too
    assert full.loc[:cut, absent].isna().all().all()
    if kept:
        cut_frame = load(kept, "2010-01-01", cut, calendar=calendar, data_dir=dst, stale="allow")
        assert_same_up_to(full.drop(columns=absent), cut_frame, cut)


def assert_same_up_to(full: pd.DataFrame, cut_frame: pd.DataFrame, cut: pd.Timestamp) -> None:
    a = full.loc[:cut]
    b = cut_frame.loc[:cut].reindex(columns=a.columns)
    assert a.index.equals(b.index)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut_days=st.integers(0, (CUT_HI - CUT_LO).days),
       picks=st.lists(st.sampled_from(IDS), min_size=1, max_size=6, unique=True),
       calendar=st.sampled_from(["us", "utc"]))
def test_loading_data_cut_at_t_gives_identical_values_up_to_t(tmp_path_factory, data_dir, cut_days, picks, calendar):
    cut = CUT_LO + pd.Timedelta(days=cut_days)
    compare(data_dir, tmp_path_factory.mktemp("cut"), picks, cut, calendar)


def test_every_series_is_truncation_invariant_at_the_documented_selloffs(tmp_path_factory, data_dir):
    for cut in ["2020-03-12", "2026-01-30"]:
        cut = pd.Timestamp(cut)
        for calendar in ("us", "utc"):
            compare(data_dir, tmp_path_factory.mktemp("cut_all"), IDS, cut, calendar)


def test_a_leaky_loader_would_fail_this_check(data_dir, tmp_path):
    """The comparison above is sharp: a one-bar look-ahead shows up as a difference."""
    cut = pd.Timestamp("2020-03-12")
    truncated_copy(data_dir, tmp_path, ["SPY", "SPX", "VIX"], cut)
    full = load(["VIX"], "2020-01-01", None, data_dir=data_dir, stale="allow")
    leaky = full.shift(-1)  # tomorrow's value today
    cut_frame = load(["VIX"], "2020-01-01", cut, data_dir=tmp_path, stale="allow")
    try:
        assert_same_up_to(leaky, cut_frame, cut)
    except AssertionError:
        return
    raise AssertionError("a look-ahead frame passed the truncation check")
