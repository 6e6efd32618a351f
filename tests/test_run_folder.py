"""The run-folder service: atomic results folders, and orphan clean-up that never touches foreign folders."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riskoff.run.folder import MARKER, RunFolder, default_out, remove_orphans, versions
from riskoff.util.errors import ConfigError


def dead_pid() -> int:
    """The pid of a process that has already exited (not reused within a test, in practice)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def marked(folder: Path, pid: int, host: str | None = None) -> Path:
    folder.mkdir()
    (folder / MARKER).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                             "created": "2026-01-01T00:00:00+00:00"}))
    (folder / "equity.csv").write_text("partial")
    return folder


def test_success_renames_the_temp_folder_into_place_without_the_marker(tmp_path):
    out = tmp_path / "results" / "run"
    with RunFolder(out) as tmp:
        assert tmp.parent == out.parent and re.fullmatch(rf"\.run\.tmp-{os.getpid()}-[0-9a-f]{{8}}", tmp.name)
        assert json.loads((tmp / MARKER).read_text())["pid"] == os.getpid()
        assert not out.exists()
        (tmp / "a.csv").write_text("x")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]


@pytest.mark.parametrize("exc", [ValueError, KeyboardInterrupt, SystemExit])
def test_any_exception_removes_the_temp_folder_and_propagates(tmp_path, exc):
    out = tmp_path / "run"
    with pytest.raises(exc):
        with RunFolder(out) as tmp:
            (tmp / "a.csv").write_text("x")
            raise exc()
    assert list(tmp_path.iterdir()) == []


def test_existing_out_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.csv").write_text("mine")
    with pytest.raises(ConfigError, match=re.escape(str(out))):
        with RunFolder(out, what="sweep"):
            pytest.fail("the block must not run")
    with pytest.raises(ConfigError, match="sweeps are never overwritten"):
        RunFolder(out, what="sweep").check_free()
    assert [p.name for p in tmp_path.iterdir()] == ["run"] and (out / "keep.csv").read_text() == "mine"


@pytest.mark.parametrize("content", [True, False], ids=["non-empty", "empty"])
def test_out_appearing_meanwhile_is_an_error_naming_it_and_is_left_alone(tmp_path, content):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=re.escape(str(out))):
        with RunFolder(out) as tmp:
            (tmp / "a.csv").write_text("ours")
            out.mkdir()  # another process took the name while we were writing
            if content:
                (out / "b.csv").write_text("theirs")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert sorted(p.name for p in out.iterdir()) == (["b.csv"] if content else [])


def test_foreign_temp_like_folder_without_marker_is_never_deleted(tmp_path):
    pid = dead_pid()
    foreign = tmp_path / f".x.tmp-{pid}"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("the user's")
    also = tmp_path / ".y.tmp-123"
    also.mkdir()
    (also / MARKER).write_text("not json")  # a marker riskoff did not write
    assert remove_orphans(tmp_path) == []
    with RunFolder(tmp_path / "run"):
        pass
    assert (foreign / "notes.txt").read_text() == "the user's" and also.exists()


def test_marked_folder_of_a_dead_owner_is_removed_but_live_or_foreign_host_ones_are_kept(tmp_path):
    dead = marked(tmp_path / f".old.tmp-{dead_pid()}", dead_pid())
    live = marked(tmp_path / ".busy.tmp-1", os.getppid())        # the owner still runs
    mine = marked(tmp_path / ".self.tmp-2", os.getpid())         # this very process
    elsewhere = marked(tmp_path / ".far.tmp-3", dead_pid(), host="another-host.invalid")
    assert remove_orphans(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and mine.exists() and elsewhere.exists()


def test_temp_folder_of_a_killed_process_is_removed_by_the_next_one(tmp_path):
    out = tmp_path / "run"
    script = textwrap.dedent(f"""
        import os, signal
        from riskoff.run.folder import RunFolder
        with RunFolder({str(out)!r}) as tmp:
            (tmp / "equity.csv").write_text("partial")
            os.kill(os.getpid(), signal.SIGKILL)   # no chance to clean up
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert proc.wait(timeout=60) == -9, proc.stderr.read()
    (orphan,) = tmp_path.glob(f".run.tmp-{proc.pid}-*")
    assert orphan.is_dir() and not out.exists()
    with RunFolder(tmp_path / "next") as tmp:
        assert not orphan.exists()
        (tmp / "a.csv").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next"]


def test_default_out_is_a_timestamped_folder_under_the_results_dir(tmp_path):
    out = default_out("selloffs", results_dir=tmp_path)
    assert out.parent == tmp_path
    assert re.fullmatch(r"\d{8}-\d{6}-selloffs", out.name)
    assert default_out("x").parent.name == "results"


def test_versions_names_python_and_the_result_packages():
    v = versions()
    assert {"python", "riskoff", "pandas", "numpy", "numba", "vectorbt"} <= set(v)
    assert v["python"].count(".") == 2
