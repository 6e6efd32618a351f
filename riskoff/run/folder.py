"""The run-folder service: every command that writes a results folder goes through it.

A results folder is written into a hidden temporary folder beside its destination,
``.<name>.tmp-<pid>-<random>``, created with one ``mkdir`` (atomic: an existing folder or a link
planted under that name makes it fail, and the random part makes the name unpredictable), and
renamed into place only when everything was written, so an
interrupted or failed command never leaves a half-written results folder. The temporary folder
carries a marker file (:data:`MARKER`: owner pid, host, creation time); a later command removes
temporary folders of commands that were killed (SIGKILL, power loss) only when they carry that
marker and their owner process is gone, so nothing else in the user's folder is ever deleted.

Used by ``riskoff run`` (:func:`riskoff.run.runner.write_run`) and ``riskoff sweep``; later
commands extend this module rather than copy it.
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import platform
import secrets
import shutil
import socket
from pathlib import Path
from types import TracebackType

from riskoff.util.errors import ConfigError, os_error

MARKER = ".riskoff-tmp"
"""Name of the marker file inside a temporary run folder (JSON: pid, host, created, out)."""

TEMP_GLOB = ".*.tmp-*"


def make_temp_folder(out: Path) -> Path:
    """Create the temporary folder this process writes ``out`` into: ``.<name>.tmp-<pid>-<random>``
    beside ``out``, made by ``mkdir``, which neither follows nor reuses anything already there; a name
    taken meanwhile is drawn again."""
    for _ in range(100):
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary folder name", str(out.parent))


def read_marker(folder: Path) -> dict | None:
    """The marker of a temporary folder, or None when it has none (or an unreadable one)."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or not isinstance(marker.get("pid"), int):
        return None
    return marker


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def is_orphan(folder: Path) -> bool:
    """True when ``folder`` is a riskoff temporary folder whose owner process on this host is gone.

    Folders without a marker, made on another host (their pid means nothing here) or owned by this
    process are never orphans.
    """
    marker = read_marker(folder)
    if marker is None or marker.get("host") != socket.gethostname():
        return False
    pid = marker["pid"]
    return pid != os.getpid() and not _pid_alive(pid)


def remove_orphans(parent: str | Path) -> list[Path]:
    """Remove the temporary folders under ``parent`` left by killed commands; return what was removed.

    Only folders named like a temporary run folder that carry riskoff's marker and whose owner pid
    is dead are removed (see :func:`is_orphan`); anything else is left alone.
    """
    removed = []
    for tmp in sorted(Path(parent).glob(TEMP_GLOB)):
        if tmp.is_dir() and not tmp.is_symlink() and is_orphan(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


class RunFolder:
    """Context manager that writes a results folder atomically.

    ``with RunFolder(out) as tmp:`` checks that ``out`` does not exist (results are never
    overwritten), removes orphaned temporary folders beside it, creates the marked temporary folder
    and yields it. When the block ends normally the marker is removed and the folder renamed to
    ``out`` (``os.replace``); when ``out`` appeared meanwhile, a ConfigError names it and the
    temporary folder is removed. On any exception (including KeyboardInterrupt and SystemExit) the
    temporary folder is removed and the exception propagates.

    Args:
        out: the results folder to create.
        what: the noun used in messages ("run", "sweep").
    """

    def __init__(self, out: str | Path, *, what: str = "run") -> None:
        self.out = Path(out)
        self.what = what
        self.tmp: Path | None = None  # made by __enter__

    def _exists_error(self) -> ConfigError:
        return ConfigError(f"--out {self.out} already exists; choose a new folder "
                           f"({self.what}s are never overwritten)")

    def check_free(self) -> None:
        """Raise the ConfigError ``__enter__`` would raise when ``out`` exists (to fail before long work)."""
        if os.path.lexists(self.out):  # a dangling symlink too: renaming onto it would replace the link
            raise self._exists_error()

    def __enter__(self) -> Path:
        self.check_free()
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise os_error(err, self.out.parent, f"create the folder for --out {self.out}") from None
        remove_orphans(self.out.parent)
        marker = {"pid": os.getpid(), "host": socket.gethostname(),
                  "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "out": str(self.out)}
        try:
            self.tmp = make_temp_folder(self.out)
            # the marker is what lets a later command remove this folder if this one is killed;
            # O_EXCL: the folder is new and ours, nothing in it is followed
            fd = os.open(self.tmp / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(marker) + "\n")
        except OSError as err:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise os_error(err, self.out.parent, f"write the {self.what} folder {self.out.name}") from None
        return self.tmp

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, (BrokenPipeError, InterruptedError)):
                # a writer failed (disk full, permissions lost, file system gone read-only): one line
                # naming the file, and the temporary folder is already gone
                where = exc.filename if exc.filename else self.out
                raise os_error(exc, where, f"write the {self.what} folder {self.out} (nothing was kept)") from None
            return False
        try:
            (self.tmp / MARKER).unlink(missing_ok=True)
            # os.replace would silently replace an empty folder that appeared meanwhile: check first.
            if self.out.exists():
                raise ConfigError(f"--out {self.out} was created by another command while this {self.what} "
                                  f"was writing (two commands on one --out); nothing of this {self.what} "
                                  "was kept: run it again with a new --out")
            try:
                os.replace(self.tmp, self.out)
            except OSError as err:  # a non-empty folder appeared between the check and the rename
                if self.out.exists():
                    raise ConfigError(f"--out {self.out} was created by another command while this {self.what} "
                                      f"was writing (two commands on one --out); nothing of this {self.what} "
                                      "was kept: run it again with a new --out") from None
                raise os_error(err, self.out, f"move the finished {self.what} folder into place") from None
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return False


def default_out(name: str, results_dir: str | Path | None = None) -> Path:
    """The default results folder for a command named ``name``: ``<results dir>/<YYYYmmdd-HHMMSS>-<name>``.

    The results dir defaults to the ``results/`` of the project the command runs in (the nearest
    folder upward with a ``riskoff.toml`` or a ``[tool.riskoff]`` table; its ``results_dir`` key
    may move it), else ``./results`` (see :func:`riskoff.util.paths.results_dir`).
    """
    from riskoff.util.files import path_name
    from riskoff.util.paths import results_dir as project_results
    path_name(name, "the results folder name")  # the config parsers check it first, naming its key
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(results_dir if results_dir is not None else project_results()) / f"{stamp}-{name}"


def versions() -> dict[str, str]:
    """Python and the versions of the packages a result depends on ("not installed" when absent)."""
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version()}
    for pkg in ("riskoff", "vectorbt", "pandas", "numpy", "numba", "quantstats", "ta"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
