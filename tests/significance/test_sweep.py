"""Skill or luck for a sweep: trials, DSR of the selected cell and SPA, in the sweep's outputs."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskoff.significance.overfitting import expected_max_sharpe
from riskoff.significance.sweep import SWEEP_COLUMNS, sweep_overfitting
from riskoff.sweep import (
    asset_context,
    parse_sweep_config,
    plan_sweep,
    run_sweep,
    sweep_equity,
    write_sweep,
)


@pytest.fixture(scope="module")
def swept(data_dir):
    doc = {"run": {"name": "t", "assets": ["SPY"], "start": "2018-01-01", "end": "2026-03-31"},
           "sweep": {"metric": "sharpe"}, "strategy": {"name": "ma", "rule": "ma_timing"},
           "grid": {"rule.window": [50, 100, 150, 200], "overlays.min_bars_out": [0, 5]}}
    return run_sweep(plan_sweep(parse_sweep_config(doc, "t.toml"), data_dir=data_dir))


def test_trials_selection_and_dsr_inputs(swept):
    ovf = sweep_overfitting(swept, reps=200)
    assert list(ovf.columns) == SWEEP_COLUMNS and list(ovf.asset) == ["SPY"]
    row, res = ovf.iloc[0], swept.results
    assert row.n_trials == 8 and row.selected == int(res.loc[res["rank"] == 1, "combo"].iloc[0])
    # the re-simulated selected cell has the Sharpe ratio the sweep reported (in excess of cash)
    assert row.sharpe == pytest.approx(res.loc[res["rank"] == 1, "sharpe"].iloc[0], rel=1e-9)
    ppy = asset_context(swept.plan, "SPY").ppy
    trial = res["sharpe"].to_numpy() / np.sqrt(ppy)
    assert row.sr0 == pytest.approx(expected_max_sharpe(8, float(np.var(trial, ddof=1))) * np.sqrt(ppy))
    assert 0 < row.dsr < 1 and row.spa_models == 8
    assert row.spa_p_lower <= row.spa_p_consistent <= row.spa_p_upper
    eq, _, _ = sweep_equity(swept.plan, "SPY", [int(row.selected)])
    assert len(eq) > 1000
    assert 0.0 <= row.pbo <= 1.0 and row.pbo_blocks == 16


def test_kernel_block_sums_equal_the_full_return_matrix(swept):
    """PBO's inputs, accumulated by the sweep kernel as it ran, equal numpy's block_stats of the whole
    (bars x cells) excess-return matrix of the same cells re-simulated afterwards."""
    from riskoff.significance.overfitting import block_stats
    from riskoff.significance.sweep import sweep_block_stats

    combos = [int(c) for c in swept.results["combo"]][::-1]  # any order
    got = sweep_block_stats(swept, "SPY", combos)
    eq, _, _ = sweep_equity(swept.plan, "SPY", combos)
    ctx = asset_context(swept.plan, "SPY")
    excess = eq.pct_change().iloc[1:].to_numpy() - (ctx.growth[1:] - 1.0)[:, None]
    ref = block_stats(excess, 16)
    np.testing.assert_allclose(got.sums, ref.sums, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sumsq, ref.sumsq, rtol=1e-12, atol=1e-15)
    assert got.count.sum() == len(excess)


def test_written_to_summary_csv_and_html(swept, tmp_path):
    out = write_sweep(swept, tmp_path / "s")
    summary = json.loads((out / "summary.json").read_text())["overfitting"]
    assert "Deflated Sharpe" in summary["method"] and summary["assets"][0]["n_trials"] == 8
    assert pd.read_csv(out / "overfitting.csv").shape == (1, len(SWEEP_COLUMNS))
    page = (out / "sweep.html").read_text()
    assert "Skill or luck: overfitting statistics" in page and page.rstrip().endswith("</html>")
