"""What is alive, read from /proc (Linux): the journeys check that nothing they started survives."""
from __future__ import annotations

import signal
from pathlib import Path

HAS_PROC = Path("/proc/self/stat").exists()


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first); None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def living(field: int, value: int) -> list[int]:
    """Pids of the processes (not zombies) whose stat field ``field`` equals ``value``:
    1 = parent pid, 4 = session id (0-based, after the command name)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            f = stat_fields(d.name)
            if f is not None and f[0] != "Z" and int(f[field]) == value:
                out.append(int(d.name))
    return out


def alive(pid: int) -> bool:
    f = stat_fields(pid)
    return f is not None and f[0] != "Z"


def interruptible() -> None:
    """``preexec_fn`` of a child the test will Ctrl-C: SIGINT back to its default, as in a terminal.

    A shell starts a background job (``make test &``, a CI runner's step) with SIGINT ignored, and a
    child inherits that: Python then installs no KeyboardInterrupt handler and the interrupt is lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
