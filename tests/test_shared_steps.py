"""One implementation per mechanism: the run path (apply_overlays, simulate(engine="numba"),
evaluation) and the sweep kernels call the SAME per-bar step functions, not copies that agree.

The check runs in a subprocess with numba's JIT disabled, where every ``*_nb`` function is plain
Python: each shared step is wrapped with a call counter in its home module, and each entry point
must drive the counter up. A copied step (a kernel with its own loop body) would leave it at 0.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r'''
import json, sys
import numpy as np, pandas as pd
import riskoff.engine.account as engine, riskoff.engine.metrics as metrics, riskoff.strategies.overlays as overlays

calls = {}
def counted(module, name):
    inner = getattr(module, name)
    def wrapper(*a, **k):
        calls[name] = calls.get(name, 0) + 1
        return inner(*a, **k)
    setattr(module, name, wrapper)
for module, name in [(overlays, "overlay_step_nb"), (engine, "account_bar_nb"), (metrics, "segment_stats_nb")]:
    counted(module, name)

def delta(fn):
    before = dict(calls); fn(); return {k: calls.get(k, 0) - before.get(k, 0) for k in
                                        ("overlay_step_nb", "account_bar_nb", "segment_stats_nb")}

idx = pd.bdate_range("2024-01-01", periods=60)
close = pd.Series(np.linspace(100, 130, 60), idx)
target = pd.Series(np.r_[np.ones(30), np.zeros(30)], idx)
out = {}
out["apply_overlays"] = delta(lambda: overlays.apply_overlays(target, close, overlays.Overlays(min_bars_out=3)))
out["simulate"] = delta(lambda: engine.simulate(close, target, engine="numba"))
from riskoff.evaluation.evaluate import full_period_stats
out["evaluation"] = delta(lambda: full_period_stats(close, target, target, close, "equity", "us"))

from riskoff import sweep
from tests.sweep.conftest import make_config
cfg = make_config({"rule.window": [50], "overlays.min_bars_out": [0, 5]}, assets=["SPY"], start="2025-06-01",
                  end="2025-09-30")
plan = sweep.plan_sweep(cfg, data_dir=sys.argv[1])
out["sweep"] = delta(lambda: sweep.run_sweep(plan))
print(json.dumps(out))
'''


def test_run_path_and_sweep_call_the_same_step_functions(data_dir):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(data_dir)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counts["apply_overlays"]["overlay_step_nb"] == 60
    assert counts["simulate"]["account_bar_nb"] == 60
    assert counts["evaluation"]["segment_stats_nb"] == 1
    assert counts["sweep"]["overlay_step_nb"] > 0
    assert counts["sweep"]["account_bar_nb"] > 0
    assert counts["sweep"]["segment_stats_nb"] > 0
