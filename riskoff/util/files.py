"""Names that become paths, and files written atomically without following links.

A config's names (``run.name``, a sweep's name, a ``[series.ID]`` id) become file and folder names:
:func:`path_name` refuses, with one error naming the key, any that would leave the folder it is
written into or that the file system cannot hold. :func:`atomic_write` writes a file through a
temporary file that ``tempfile.mkstemp`` creates beside it (an unpredictable name, opened with
``O_CREAT | O_EXCL``, so a link planted in its place is never followed) and renames it into place.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from riskoff.util.errors import ConfigError

#: the longest file name (in bytes) most file systems hold (ext4, APFS, NTFS in UTF-16 units)
NAME_MAX = 255
#: bytes a name leaves for what riskoff adds around it: the run folder's "YYYYmmdd-HHMMSS-sweep-"
#: prefix and the temporary folder's "." + ".tmp-<pid>-<random>" (see riskoff.run.folder)
NAME_ROOM = 64
#: mode of the files riskoff writes (mkstemp creates 0600): results and data others may read
FILE_MODE = 0o644


def path_name(value: Any, key: str) -> str:
    """``value`` when it can be used as one file or folder name, else a ConfigError naming ``key``.

    Refused: anything but text, an empty or blank name, ``.`` and ``..``, a path separator (``/``,
    ``\\``), a control character, and a name longer than ``NAME_MAX - NAME_ROOM`` bytes (UTF-8).
    """
    if not isinstance(value, str):
        raise ConfigError(f"{key} = {value!r}; expected a name (text)")
    problem = None
    if not value.strip():
        problem = "is empty"
    elif value in (".", ".."):
        problem = "is a relative folder reference"
    elif any(sep in value for sep in ("/", "\\", os.sep, os.altsep or "/")):
        problem = "contains a path separator"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        problem = "contains a control character"
    elif len(value.encode("utf-8")) > NAME_MAX - NAME_ROOM:
        problem = (f"is {len(value.encode('utf-8'))} bytes long; at most {NAME_MAX - NAME_ROOM} "
                   f"(file names hold {NAME_MAX} bytes)")
    if problem:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ConfigError(f"{key} = {shown!r} {problem}; it names a file or folder, so use letters, digits, "
                          "'-', '_' and '.' (not a path)")
    return value


def atomic_write(path: str | Path, write: Callable[[IO[Any]], Any], *, binary: bool = False,
                 durable: bool = False) -> Path:
    """Write ``path`` by calling ``write(file)`` on a fresh temporary file beside it, then rename.

    The temporary file comes from ``tempfile.mkstemp(dir=path's folder)``: its name is random and
    it is created exclusively, so nothing planted beside ``path`` is followed or overwritten. It gets
    mode 0644 and replaces ``path`` with ``os.replace``; on any failure it is removed and ``path``
    is left as it was. ``durable`` fsyncs the file and its folder (data files others build on).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as fh:
            write(fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of one string (UTF-8)."""
    return atomic_write(path, lambda fh: fh.write(text))


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
