"""I/O faults end with one line naming the path and what to do, exit 2, and nothing left behind.

Permissions cannot be taken away from root (these tests may run as root), and a full disk or a
read-only file system cannot be made on demand, so those faults are raised by monkeypatching the
call that would hit them, in-process, exactly as the OS raises them (errno, filename)."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from reliability_helpers import damaged_dir, run_cli, valid_config

from riskoff.data import sources
from riskoff.run.folder import MARKER, RunFolder


def assert_clean_failure(rc: int, err: str, out: Path, *pieces: str) -> None:
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("riskoff: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for piece in pieces:
        assert piece in lines[0], (piece, lines[0])
    assert not out.exists()
    leftovers = list(out.parent.iterdir()) if out.parent.exists() else []
    assert leftovers == [], leftovers  # no temporary folder either


def test_data_file_that_is_a_folder(data_dir, tmp_path, run_base):
    root, path = damaged_dir(data_dir, tmp_path, "SPY", lambda lines: lines)
    path.unlink()
    path.mkdir()  # e.g. an unzip that made SPY.csv/ a folder
    rc, err, out = run_base(root)
    assert_clean_failure(rc, err, out, f"{path}, series SPY: cannot read the file: this is a folder; "
                                       "expected a file [EISDIR]")


def test_data_file_without_read_permission(data_dir, tmp_path, run_base, monkeypatch):
    root, path = damaged_dir(data_dir, tmp_path, "SPY", lambda lines: lines)
    real_open = open

    def guarded(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(sources, "open", guarded, raising=False)
    monkeypatch.setenv("RISKOFF_PARQUET_CACHE", "0")
    rc, err, out = run_base(root)
    assert_clean_failure(rc, err, out, f"{path}, series SPY: cannot read the file: permission denied; "
                                       "fix the permissions", "[EACCES]")


def test_config_path_that_is_a_folder(tmp_path, capsys, data_dir):
    folder = tmp_path / "myconfig.toml"
    folder.mkdir()
    out = tmp_path / "results" / "run"
    rc, _, err = run_cli(["run", str(folder), "--data-dir", str(data_dir), "--out", str(out)], capsys)
    assert_clean_failure(rc, err, out, f"{folder}: cannot read the config file: this is a folder", "[EISDIR]")


def test_disk_full_while_writing_results(data_dir, run_base, monkeypatch, tmp_path):
    real = pd.DataFrame.to_csv

    def full_disk(self, path_or_buf=None, *args, **kwargs):
        if isinstance(path_or_buf, (str, os.PathLike)) and Path(path_or_buf).name == "windows.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path_or_buf))
        return real(self, path_or_buf, *args, **kwargs)
    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    rc, err, out = run_base(data_dir, config=valid_config(tmp_path))
    assert_clean_failure(rc, err, out, "windows.csv: cannot write the run folder", "the disk is full", "[ENOSPC]",
                         "(nothing was kept)")


def test_read_only_output_location(data_dir, run_base, monkeypatch, tmp_path):
    real = Path.mkdir

    def read_only(self, *args, **kwargs):
        if "results" in self.parts:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Path, "mkdir", read_only)
    rc, err, out = run_base(data_dir, config=valid_config(tmp_path))
    assert_clean_failure(rc, err, out, f"{out.parent}: cannot create the folder for --out {out}",
                         "read-only; choose a writable folder", "[EROFS]")


def test_two_runs_racing_for_one_out_folder(data_dir, run_base, monkeypatch, tmp_path):
    out = tmp_path / "results" / "run"
    real = pd.DataFrame.to_csv

    def other_run_finishes_first(self, path_or_buf=None, *args, **kwargs):
        if not out.exists():  # the other run renames its folder into place while we write
            out.mkdir(parents=True)
            (out / "summary.json").write_text('{"run": "the other one"}\n')
        return real(self, path_or_buf, *args, **kwargs)
    monkeypatch.setattr(pd.DataFrame, "to_csv", other_run_finishes_first)
    rc, err, _ = run_base(data_dir, config=valid_config(tmp_path))
    assert rc == 2 and "Traceback" not in err, err
    assert f"--out {out} was created by another command while this run was writing" in err
    assert "run it again with a new --out" in err
    # the winner's folder is untouched and the loser left nothing beside it
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_orphan_clean_up_never_touches_the_users_own_folders(tmp_path):
    import socket
    parent = tmp_path / "results"
    parent.mkdir()
    dead = _dead_pid()
    users = parent / f".photos.tmp-{dead}"          # looks like ours, no marker: the user's
    users.mkdir()
    (users / "holiday.jpg").write_text("x")
    users_file = parent / f".notes.tmp-{dead}"       # a file with a temp-like name
    users_file.write_text("keep me")
    foreign = parent / f".other.tmp-{dead}"          # a marker from another host: its pid means nothing here
    foreign.mkdir()
    (foreign / MARKER).write_text(json.dumps({"pid": dead, "host": "elsewhere"}))
    alive = parent / f".running.tmp-{os.getppid()}"   # a riskoff run still in progress
    alive.mkdir()
    (alive / MARKER).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    orphan = parent / f".killed.tmp-{dead}"          # a killed riskoff run: the only thing removed
    orphan.mkdir()
    (orphan / MARKER).write_text(json.dumps({"pid": dead, "host": socket.gethostname()}))
    with RunFolder(parent / "new") as tmp:
        (tmp / "x.csv").write_text("1\n")
    assert (parent / "new" / "x.csv").exists() and not (parent / "new" / MARKER).exists()
    assert not orphan.exists()
    assert (users / "holiday.jpg").exists() and users_file.read_text() == "keep me"
    assert foreign.exists() and alive.exists()
