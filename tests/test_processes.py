"""Clean processes: a run's worker processes end with it, even when it is killed, and stay quiet.

Journeys run `riskoff run` as a user does (a child process, Ctrl-C to its process group, SIGKILL
of the run itself) and then look at what is left alive, through /proc.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_helpers import HAS_PROC, alive, interruptible, living

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "fixtures" / "configs" / "small.toml"
pytestmark = pytest.mark.skipif(not HAS_PROC, reason="reads /proc (Linux)")


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    return living(1, pid)


def start_run(tmp_path: Path, data_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, RISKOFF_DATA_DIR=str(data_dir), MPLBACKEND="Agg")
    return subprocess.Popen([sys.executable, "-m", "riskoff", "run", str(SMALL), "--all-tearsheets",
                             "--out", str(tmp_path / "run")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=interruptible)


def wait_for_workers(proc: subprocess.Popen, n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = [p for p in children(proc.pid) if alive(p)]
        if len(kids) >= n:
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError(f"the run did not start {n} worker processes in {timeout} s")


def test_workers_exit_when_the_run_is_killed(tmp_path, data_dir):
    # SIGKILL cannot be caught: the run's workers must notice their parent is gone and exit
    proc = start_run(tmp_path, data_dir)
    workers = wait_for_workers(proc, 2)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)], "worker processes outlived a killed run"
    assert not (tmp_path / "run").exists()


def test_ctrl_c_ends_a_run_with_one_line_and_quiet_workers(tmp_path, data_dir):
    proc = start_run(tmp_path, data_dir)
    workers = wait_for_workers(proc, 3)  # the resource tracker and the two workers
    time.sleep(0.5)  # past start_pool's spawn window (SIGINT ignored while the workers are forked)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends: the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "riskoff: interrupted" in err
    assert "Traceback" not in err and "Exception in initializer" not in err and "KeyboardInterrupt" not in err, \
        err[-3000:]
    assert not (tmp_path / "run").exists()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)]
