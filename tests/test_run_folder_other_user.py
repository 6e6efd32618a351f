"""Orphan clean-up (riskoff.run.folder) when a temporary folder's owner runs as another user: signal 0
to that pid fails with EPERM (PermissionError), which means the process exists, so its folder is kept.
Only "no such process" (ESRCH, ProcessLookupError) makes an orphan. ``os.kill`` is patched, because a
test cannot start a process owned by another user (and as root it never gets EPERM)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from riskoff.run.folder import MARKER, RunFolder, is_orphan, remove_orphans


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _marked(folder: Path, pid: int) -> Path:
    folder.mkdir()
    (folder / MARKER).write_text(json.dumps({"pid": pid, "host": socket.gethostname(),
                                             "created": "2026-01-01T00:00:00+00:00"}))
    (folder / "equity.csv").write_text("another user's run, still writing")
    return folder


@pytest.fixture
def other_users_pid(monkeypatch) -> int:
    """A pid that ``os.kill(pid, 0)`` reports as owned by another user (EPERM); other pids unchanged."""
    pid = _dead_pid()  # unpatched, this pid would be gone: the patch alone keeps it "alive"
    real_kill = os.kill
    calls = []

    def kill(p, sig):
        calls.append((p, sig))
        if p == pid:
            raise PermissionError(1, "Operation not permitted")
        return real_kill(p, sig)

    monkeypatch.setattr(os, "kill", kill)
    yield pid
    assert (pid, 0) in calls  # the clean-up did ask


def test_a_folder_whose_owner_belongs_to_another_user_is_alive_and_kept(tmp_path, other_users_pid):
    theirs = _marked(tmp_path / f".run.tmp-{other_users_pid}", other_users_pid)
    gone = _dead_pid()
    orphan = _marked(tmp_path / f".old.tmp-{gone}", gone)
    assert not is_orphan(theirs) and is_orphan(orphan)
    assert remove_orphans(tmp_path) == [orphan]
    assert (theirs / "equity.csv").read_text() == "another user's run, still writing"
    assert not orphan.exists()


def test_a_new_run_beside_it_leaves_it_alone(tmp_path, other_users_pid):
    theirs = _marked(tmp_path / f".run.tmp-{other_users_pid}", other_users_pid)
    with RunFolder(tmp_path / "mine") as tmp:
        (tmp / "a.csv").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [theirs.name, "mine"]
    assert (theirs / MARKER).exists()
