"""The significance layer in a run: config tables, windows.csv columns, summary.json, reproducibility."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskoff.evaluation.evaluate import WINDOW_COLUMNS as EVAL_COLUMNS
from riskoff.run.config import load_config
from riskoff.run.runner import simulate_config, write_run
from riskoff.significance.run import PAIR_COLUMNS, WINDOW_COLUMNS
from riskoff.util.errors import ConfigError

SMALL = Path(__file__).parents[1] / "fixtures" / "configs" / "small.toml"


def _config(tmp_path: Path, extra: str, name: str = "cfg.toml") -> Path:
    text = SMALL.read_text().split("# skill or luck")[0]
    path = tmp_path / name
    path.write_text(text + extra)
    return path


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sig")
    on = simulate_config(load_config(SMALL), data_dir=data_dir)
    off = simulate_config(load_config(_config(tmp, "[null]\nenabled = false\n[bootstrap]\nenabled = false\n")),
                          data_dir=data_dir)
    folder = write_run(on, tmp / "run", tearsheets=False, report=False)
    return on, off, folder


def test_windows_csv_keeps_its_columns_and_values_and_appends_the_null(runs):
    on, off, folder = runs
    w = pd.read_csv(folder / "windows.csv")
    assert list(w.columns) == EVAL_COLUMNS + WINDOW_COLUMNS
    assert list(off.windows.columns) == EVAL_COLUMNS
    pd.testing.assert_frame_equal(on.windows[EVAL_COLUMNS], off.windows)
    risky = w[w.strategy != "buy_and_hold"]
    assert risky["null_p_drawdown_avoided"].between(1 / 100, 1).all()
    assert set(risky["null_kind"]) <= {"episodes", "shift"} and (risky["null_paths"] == 99).all()
    assert w.loc[w.strategy == "buy_and_hold", "null_kind"].eq("none").all()


def test_summary_carries_the_pair_table_and_the_settings(runs):
    on, _, folder = runs
    sig = json.loads((folder / "summary.json").read_text())["significance"]
    assert sig["null"] == {"enabled": True, "paths": 99, "seed": 0}
    assert sig["bootstrap"]["reps"] == 200 and "episodes" in sig["method"]
    pairs = pd.DataFrame(sig["pairs"])
    assert list(pairs.columns) == PAIR_COLUMNS and len(pairs) == len(on.pairs)
    # the null's observed mean drawdown avoided is the evaluation's mean over the same windows: those
    # where buy & hold fell at least 3% (written out here, not through riskoff's helper)
    fell = on.windows[on.windows["bh_max_dd"] <= -0.03]
    mean = fell.groupby(["strategy", "asset"])["drawdown_avoided"].mean()
    for _, r in pairs.iterrows():
        key = (r["strategy"], r["asset"])
        if key in mean.index:
            assert r["dd_avoided_mean"] == pytest.approx(mean[key], abs=1e-10)
        else:
            assert np.isnan(r["dd_avoided_mean"])
        assert r["n_windows"] == len(fell[(fell.strategy == r["strategy"]) & (fell.asset == r["asset"])])
    risky = pairs[pairs.strategy != "buy_and_hold"]
    assert (risky["cagr_diff_lo"] <= risky["cagr_diff"]).all() and (risky["cagr_diff"] <= risky["cagr_diff_hi"]).all()
    stats = on.stats.set_index(["strategy", "asset"])
    for _, r in risky.iterrows():  # the bootstrap's point estimate is the reported CAGR difference
        bh = stats.loc[("buy_and_hold", r["asset"]), "cagr"]
        assert r["cagr_diff"] == pytest.approx(stats.loc[(r["strategy"], r["asset"]), "cagr"] - bh, rel=1e-9)
        sh = stats.loc[(r["strategy"], r["asset"]), "sharpe"] - stats.loc[("buy_and_hold", r["asset"]), "sharpe"]
        assert r["sharpe_diff"] == pytest.approx(sh, rel=1e-9, abs=1e-12)  # Sharpe in excess of cash, as reported


def test_seeded_and_reproducible(runs, data_dir, tmp_path):
    on, _, _ = runs
    again = simulate_config(load_config(SMALL), data_dir=data_dir).significance
    pd.testing.assert_frame_equal(on.significance, again)
    other = simulate_config(load_config(_config(tmp_path, "[null]\npaths = 99\nseed = 5\n[bootstrap]\nreps = 200\n")),
                            data_dir=data_dir).significance
    assert not np.allclose(on.significance["dd_avoided_mean_pct"].dropna(), other["dd_avoided_mean_pct"].dropna())


@pytest.mark.parametrize("extra, message", [
    ("[null]\npaths = 'many'\n", "null.paths = 'many'; expected a whole number >= 19"),
    ("[null]\npath = 100\n", "unknown key 'path'"),
    ("[null]\nenabled = 1\n", "null.enabled = 1; expected true or false"),
    ("[bootstrap]\nconfidence = 95\n", "bootstrap.confidence = 95; expected a number in [0.5, 1)"),
])
def test_bad_tables_name_file_and_key(tmp_path, extra, message):
    path = _config(tmp_path, extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_bh_qvalues_equal_scipys_false_discovery_control():
    from scipy.stats import false_discovery_control

    from riskoff.significance.run import bh_qvalues

    rng = np.random.default_rng(4)
    for p in (rng.random(46), np.r_[rng.random(20) * 0.01, rng.random(30)], np.array([0.5]),
              np.array([0.01, 0.01, 0.2, 0.2, 1.0]), rng.random(7)[::-1]):
        np.testing.assert_allclose(bh_qvalues(p), false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)
