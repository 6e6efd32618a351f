"""Sweep folders: complete, escaped, written atomically; the CLI hook; bounded memory."""
from __future__ import annotations

import argparse
import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from riskoff import sweep as sweep_mod
from riskoff.cli import add_sweep_parser
from riskoff.sweep import (
    chunk_size_for,
    parse_sweep_config,
    plan_sweep,
    run_sweep,
    write_sweep,
)
from riskoff.sweep import output as sweep_output
from riskoff.util.errors import ConfigError
from tests.sweep.conftest import make_doc

EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def small(data_dir):
    doc = make_doc({"rule.window": [50, 100, 200], "overlays.trailing_stop": [0.0, 0.1],
                    "overlays.min_bars_out": [0, 5]}, name="t<script>alert('x')")  # a name holds no '/'
    doc["strategy"]["name"] = f"ma{EVIL}"
    doc["walk_forward"] = {}
    doc["windows"] = {f"evil{'x' * 3}": {"name": EVIL, "start": "2022-01-03",
                                         "trough": "2022-06-16", "end": "2022-10-12"}}
    return run_sweep(plan_sweep(parse_sweep_config(doc, "t.toml"), data_dir=data_dir))


def test_folder_has_every_output(small, tmp_path):
    out = write_sweep(small, tmp_path / "s")
    names = {p.name for p in out.iterdir()}
    assert {"results.parquet", "results.csv", "baseline.csv", "walkforward.csv", "summary.json", "sweep.html"} <= names
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == small.config.n_combos * 2
    pd.testing.assert_frame_equal(res, small.results.reset_index(drop=True), check_dtype=False)
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == list(res.columns)
    for col in ["combo", "asset", "rule.window", "sharpe", "cagr", "max_drawdown", "dd_avoided_mean",
                "w.covid_312.drawdown_avoided", "p.wf_test.cagr", "stability", "rank"]:
        assert col in res.columns
    assert set(res.groupby("asset")["rank"].min()) == {1}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sweep"]["combinations"] == small.config.n_combos
    assert [b["asset"] for b in summary["best"]] == ["SPY", "BTC-USD"]
    wf = pd.read_csv(out / "walkforward.csv")
    assert set(wf["asset"]) == {"SPY", "BTC-USD"} and "degradation" in wf


def test_html_is_self_contained_and_escaped(small, tmp_path):
    out = write_sweep(small, tmp_path / "s")
    page = (out / "sweep.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "src='http" not in page and 'src="http' not in page and "<link" not in page
    assert "Walk-forward" in page and "stability" in page and page.count("<table class='heat'>") >= 4


def test_no_partial_folder_on_failure(small, tmp_path, monkeypatch):
    def boom(_result):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(sweep_output, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_sweep(small, tmp_path / "s")
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_is_never_overwritten(small, tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(ConfigError, match="already exists"):
        write_sweep(small, tmp_path / "s")


def test_cli_hook(data_dir, tmp_path, capsys):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text("""
[run]
name = "cli"
assets = ["SPY"]
start = 2019-01-01
end = 2026-03-31
[sweep]
metric = "calmar"
[strategy]
name = "ma"
rule = "ma_timing"
[grid]
"rule.window" = { start = 50, stop = 250, step = 50 }
"overlays.min_bars_out" = [0, 5]
""")
    parser = argparse.ArgumentParser(prog="riskoff")
    add_sweep_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "out"
    args = parser.parse_args(["sweep", str(cfg), "--data-dir", str(data_dir), "--out", str(out), "--walk-forward"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "walk-forward" in printed and "results:" in printed
    assert (out / "walkforward.csv").exists() and (out / "sweep.html").exists()
    bad = parser.parse_args(["sweep", str(cfg), "--data-dir", str(data_dir), "--out", str(tmp_path / "o2"),
                             "--metric", "sharp"])
    with pytest.raises(ConfigError, match="did you mean 'sharpe'"):
        bad.func(bad)
    assert not (tmp_path / "o2").exists()


def test_chunk_size_from_memory_budget():
    assert chunk_size_for(5000, "fused", 512) == 512 * 2**20 // (5000 * 8 * 2)
    assert chunk_size_for(5000, "numba", 512) == 512 * 2**20 // (5000 * 8 * 8)
    assert chunk_size_for(10**9, "fused", 1) == 1


def test_100k_combinations_run_in_bounded_memory(data_dir):
    """100,000 combinations in chunks: peak traced memory stays far below one bars x combinations
    matrix (and grows with the result rows only)."""
    doc = make_doc({"rule.window": {"start": 20, "stop": 515, "step": 5},
                    "overlays.min_bars_out": {"start": 0, "stop": 99, "step": 1},
                    "overlays.cooldown_bars": {"start": 0, "stop": 9, "step": 1}},
                   assets=["BTC-USD"], start="2025-06-01", end="2026-03-31", memory_mb=16, cash="none")
    plan = plan_sweep(parse_sweep_config(doc, "mem.toml"), data_dir=data_dir)
    run_sweep(plan, combos=[0])  # load data, compile
    tracemalloc.start()
    try:
        res = run_sweep(plan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plan.config.n_combos == 100_000 and len(res.results) == 100_000
    bars = len(sweep_mod.asset_context(plan, "BTC-USD").index_full)
    assert res.chunk_size == chunk_size_for(bars, "fused", 16) < 1000
    one_matrix = bars * 100_000 * 8
    assert peak < one_matrix / 10
    assert peak < 400 * 2**20
    assert np.isfinite(res.results["sharpe"]).all()


def test_temp_folder_of_a_killed_sweep_is_swept(small, tmp_path):
    import subprocess
    import sys
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import json
    import socket

    from riskoff.run.folder import MARKER
    orphan = tmp_path / f".old.tmp-{dead.pid}"
    orphan.mkdir()
    (orphan / MARKER).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    (orphan / "results.csv").write_text("partial")
    foreign = tmp_path / ".mine.tmp-1"   # looks like a temp folder but riskoff did not make it
    foreign.mkdir()
    write_sweep(small, tmp_path / "s")
    assert not orphan.exists() and (tmp_path / "s" / "results.csv").exists()
    assert foreign.exists()
