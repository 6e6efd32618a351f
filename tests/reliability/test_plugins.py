"""Faulty plug-ins: every failure of a signal's compute or a rule's target is one error naming the
plug-in file, exit 2 and no results folder; ``--keep-going`` skips the faulty strategies instead."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability_helpers import valid_config

from riskoff.reports.sections import skipped_note

SIGNAL_HEAD = '''"""A faulty test signal."""
import time
import numpy as np
import pandas as pd
from riskoff import RISK_OFF, RISK_ON, signal_frame

INPUTS = ["VIX.close"]
'''
GOOD_STATE = "signal_frame(reading=v, state=(v > 30).map({True: RISK_OFF, False: RISK_ON}))"

SIGNAL_FAULTS = {
    "raises": ("def compute(data):\n    return 1 / 0\n", "compute failed: ZeroDivisionError: division by zero"),
    "wrong_index": ("def compute(data):\n    v = data['VIX.close'].iloc[5:]\n    return " + GOOD_STATE + "\n",
                    "output index differs from the input calendar"),
    "bad_state": ("def compute(data):\n    v = data['VIX.close']\n    return signal_frame(reading=v, state=v * 0 + 7)\n",
                  "state 7 on 1990-01-02 is not RISK_ON (0), CAUTION (1), RISK_OFF (2) or NaN"),
    "inf_reading": ("def compute(data):\n    v = data['VIX.close'] / 0.0\n    return " + GOOD_STATE + "\n",
                    "reading inf on 1990-01-02 is infinite"),
    "all_nan": ("def compute(data):\n    v = data['VIX.close'] * np.nan\n"
                "    return signal_frame(reading=v, state=v)\n", "compute returned NaN on all"),
    "not_a_frame": ("def compute(data):\n    return data['VIX.close']\n", "not Series"),
    "too_slow": ("def compute(data):\n    t = time.time()\n    while time.time() < t + 30:\n        pass\n",
                 "compute ran longer than the plug-in time limit of 0.5 s"),
}

RULE_HEAD = '''"""A faulty test rule."""
import pandas as pd
PARAMS = []
'''
RULE_FAULTS = {
    "raises": ("def target(ctx):\n    raise KeyError('no such column')\n", "target failed: KeyError: 'no such column'"),
    "wrong_index": ("def target(ctx):\n    return pd.Series(1.0, index=ctx.close.index[:-3])\n",
                    "target's index differs from ctx.close.index"),
    "text_values": ("def target(ctx):\n    return pd.Series('full', index=ctx.close.index)\n",
                    "exposure 'full' on 1993-01-29 is not a number"),
    "negative": ("def target(ctx):\n    return pd.Series(-1.0, index=ctx.close.index)\n",
                 "exposure -1 on 1993-01-29 is not in 0 .. max_leverage"),
    "all_nan": ("def target(ctx):\n    return pd.Series(float('nan'), index=ctx.close.index)\n",
                "target returned NaN on all"),
}


def plugin_config(tmp_path: Path, signal_code: str | None = None, rule_code: str | None = None,
                  time_limit: float = 60) -> Path:
    """A run config on SPY (2015-01..2015-06) with one good strategy and one using the faulty plug-in."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    if signal_code is not None:
        (plugins / "faulty_signal.py").write_text(SIGNAL_HEAD + signal_code)
    if rule_code is not None:
        (plugins / "faulty_rule.py").write_text(RULE_HEAD + rule_code)
    faulty = (f'[[strategies]]\nname = "uses_faulty"\nrule = "{"faulty_rule" if rule_code else "any_off"}"\n'
              f'signals = ["{"faulty_signal" if signal_code else "vix_mean_reversion"}"]\n')
    return valid_config(tmp_path, f'plugin_dirs = ["{plugins}"]\nplugin_time_limit = {time_limit}\n', "\n" + faulty)


@pytest.mark.parametrize("fault", sorted(SIGNAL_FAULTS))
def test_faulty_signal_is_one_error_naming_its_file(fault, tmp_path, run_base):
    code, expected = SIGNAL_FAULTS[fault]
    cfg = plugin_config(tmp_path, signal_code=code, time_limit=0.5 if fault == "too_slow" else 60)
    rc, err, out = run_base(_data(), config=cfg)
    assert rc == 2, err
    assert f"signal faulty_signal ({tmp_path / 'plugins' / 'faulty_signal.py'})" in err
    assert expected in err and err.count("riskoff: error:") == 1 and "Traceback" not in err
    assert not out.parent.exists()


@pytest.mark.parametrize("fault", sorted(RULE_FAULTS))
def test_faulty_rule_is_one_error_naming_its_file(fault, tmp_path, run_base):
    code, expected = RULE_FAULTS[fault]
    cfg = plugin_config(tmp_path, rule_code=code)
    rc, err, out = run_base(_data(), config=cfg)
    assert rc == 2, err
    assert f"strategy uses_faulty (rule faulty_rule) ({tmp_path / 'plugins' / 'faulty_rule.py'})" in err
    assert expected in err and err.count("riskoff: error:") == 1 and "Traceback" not in err
    assert not out.parent.exists()


def test_keep_going_skips_the_faulty_strategy_and_says_so(tmp_path, run_base):
    cfg = plugin_config(tmp_path, signal_code=SIGNAL_FAULTS["raises"][0])
    rc, err, out = run_base(_data(), "--keep-going", config=cfg)
    assert rc == 0, err
    assert "riskoff: warning: --keep-going: strategy uses_faulty skipped on SPY: signal faulty_signal" in err
    summary = json.loads((out / "summary.json").read_text())
    assert [(s["strategy"], s["asset"]) for s in summary["skipped"]] == [("uses_faulty", "SPY")]
    assert "ZeroDivisionError" in summary["skipped"][0]["error"]
    ran = {row["strategy"] for row in summary["stats"]}
    assert ran == {"buy_and_hold", "vix_mean_reversion"}
    html = skipped_note(summary)  # the box report.html shows (rendering the whole page here costs ~20 s)
    assert "Skipped by --keep-going" in html and "<b>uses_faulty</b> on SPY: signal faulty_signal" in html
    assert skipped_note({**summary, "skipped": []}) == ""


def _data() -> Path:
    from riskoff.util.paths import resolve_data_dir
    return resolve_data_dir()[0]
