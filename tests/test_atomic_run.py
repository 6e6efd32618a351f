"""A run interrupted midway leaves no results folder (subprocesses killed while rendering)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_helpers import interruptible

SMALL = Path(__file__).parent / "fixtures" / "configs" / "small.toml"


def start_run(out: Path, data_dir: Path) -> subprocess.Popen:
    # tearsheets make the run long enough to be caught while its temp folder exists
    return subprocess.Popen([sys.executable, "-m", "riskoff.cli", "run", str(SMALL), "--data-dir", str(data_dir),
                             "--out", str(out), "--all-tearsheets"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)


def wait_for_temp_folder(parent: Path, proc: subprocess.Popen, timeout: float = 240.0) -> Path:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        found = list(parent.glob(".*.tmp-*")) if parent.exists() else []
        if found and any(found[0].iterdir()):
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"run ended before it could be interrupted: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the run never created its temporary folder")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_terminated_run_cleans_up_and_leaves_no_results_folder(sig, data_dir, tmp_path):
    out = tmp_path / "results" / "run"
    proc = start_run(out, data_dir)
    wait_for_temp_folder(out.parent, proc)
    proc.send_signal(sig)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert not out.exists()
    assert list(out.parent.iterdir()) == []   # the temp folder was removed too


def test_killed_run_leaves_no_results_folder_and_the_next_run_sweeps_its_temp(data_dir, tmp_path):
    out = tmp_path / "results" / "run"
    proc = start_run(out, data_dir)
    orphan = wait_for_temp_folder(out.parent, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert not out.exists()
    assert orphan.exists()                     # SIGKILL gives no chance to clean up ...
    from riskoff.run.config import load_config
    from riskoff.run.runner import simulate_config, write_run
    write_run(simulate_config(load_config(SMALL), data_dir=data_dir), out.parent / "next",
              tearsheets=False, report=False)
    assert not orphan.exists()                 # ... the next run in the folder removes it
    assert sorted(p.name for p in out.parent.iterdir()) == ["next"]
