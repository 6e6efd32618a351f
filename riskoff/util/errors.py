"""Errors a user can act on.

Every error riskoff raises on bad input is a :class:`RiskoffError`: the CLI prints its message and
exits with code 2, without a traceback and before anything is written to a results folder. The
message names the file (or config key), the series, the row and what was expected.
"""
from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from pathlib import Path


class RiskoffError(Exception):
    """Base class: a problem with the user's data, config or plug-ins (exit code 2)."""


class DataError(RiskoffError):
    """A data file is missing, malformed, implausible or too stale for the run.

    Args:
        problem: what is wrong and what was expected.
        file: the file that holds the problem.
        series: the catalog ID of the series.
        row: 1-based line number in the file (the header is line 1), when one row is at fault.
    """

    def __init__(self, problem: str, *, file: str | Path | None = None, series: str | None = None,
                 row: int | None = None) -> None:
        self.problem, self.file, self.series, self.row = problem, file, series, row
        parts = [str(file) if file is not None else "data"]
        if series:
            parts.append(f"series {series}")
        if row is not None:
            parts.append(f"line {row}")
        super().__init__(f"{', '.join(parts)}: {problem}")


class RiskoffWarning(UserWarning):
    """Something a run worked around and the user should know about (the CLI prints
    ``riskoff: warning: ...`` on stderr): a filler row left out, a faulty plug-in skipped."""


class ConfigError(RiskoffError):
    """A config value, parameter or name is invalid. The message names the key and the value."""


class FileSystemError(RiskoffError):
    """A file or folder cannot be read or written: permissions, a full disk, a read-only file
    system, a folder where a file is expected. The message names the path and what to do."""


_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space or choose a folder on another disk",
    errno.EDQUOT: "the disk quota is exhausted; free some space or choose a folder on another disk",
    errno.EACCES: "permission denied; fix the permissions or choose a path you can use",
    errno.EPERM: "operation not permitted; fix the permissions or choose a path you can use",
    errno.EROFS: "the file system is read-only; choose a writable folder (e.g. --out ~/riskoff-results/NAME)",
    errno.EISDIR: "this is a folder; expected a file",
    errno.ENOTDIR: "a part of this path is a file, not a folder; fix the path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter name",
    errno.ELOOP: "the path is a symbolic-link loop; fix the link",
}


def os_advice(exc: OSError) -> str:
    """What happened and what to do, for an OSError, ending with its errno name ("[ENOSPC]")."""
    advice = _OS_ADVICE.get(exc.errno or -1, f"{exc.strerror or exc}; check the path and try again")
    return f"{advice} [{errno.errorcode.get(exc.errno or -1, 'OSError')}]"


def os_error(exc: OSError, path: str | Path | None, doing: str) -> FileSystemError:
    """One line for an OSError: ``<path>: cannot <doing>: <what happened; what to do>``."""
    where = path if path is not None else (exc.filename or "?")
    return FileSystemError(f"{where}: cannot {doing}: {os_advice(exc)}")


class PluginError(RiskoffError):
    """A signal or strategy plug-in failed to import or declares an invalid contract."""


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(value: object) -> str:
    """A value as a user would write it in a message: numbers plainly (7, 0.5, inf; no numpy
    wrapper), anything else quoted (``'full'``)."""
    import numbers
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):g}"
    return repr(value)
