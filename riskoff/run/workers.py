"""Worker processes shared by the stages that run work outside the main process.

``riskoff run`` renders its quantstats tearsheets in a pool (riskoff.reports.tearsheets) and, when
it renders none, computes its bootstrap intervals in a helper process (riskoff.run.runner): in both,
the slow imports happen in the workers while the main process is still loading data.
"""
from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

__all__ = ["start_pool", "main_hidden"]


#: seconds between a worker's checks that the process that started it is still alive
PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Exit this worker as soon as ``parent`` is gone (killed with SIGKILL, say): the orphan would
    otherwise wait on its task queue for ever, reparented to init."""
    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(0)
    threading.Thread(target=watch, name="riskoff-parent-watch", daemon=True).start()


def _import_all(modules: Sequence[str], parent: int) -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent ends the run (one line,
    # exit 130) and shuts the pool down, so a worker must not print a KeyboardInterrupt traceback.
    # (The worker was spawned with SIGINT already ignored, see start_pool: this keeps it so.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    for name in modules:
        importlib.import_module(name)


def _ready() -> bool:
    return True


def start_pool(workers: int, imports: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A process pool whose ``workers`` start now and import ``imports`` right away.

    The workers are spawned, not forked: the parent may hold threads (numba, BLAS) that a forked
    child would inherit in a locked state. (A fork server that imports once for every worker was
    measured slower here: it imports before it forks, and forked workers pay copy-on-write.)
    Shut the pool down when done.
    """
    pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn"),
                               initializer=_import_all, initargs=(list(imports), os.getpid()))
    # the workers are spawned here, so a plain script needs no __main__ guard; and with SIGINT
    # ignored, which a spawned child inherits: a Ctrl-C during its start-up imports (before the
    # initializer runs) must not print an "Exception in initializer" traceback per worker
    with main_hidden(), _sigint_ignored():
        for _ in range(max(1, workers)):
            pool.submit(_ready)  # makes the pool spawn its workers now
    return pool


@contextmanager
def _sigint_ignored():
    """SIGINT ignored in this block (main thread only; elsewhere signals cannot be changed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def main_hidden():
    """Start spawn workers without re-running the caller's ``__main__``.

    A spawned child normally re-imports the parent's main script so that functions defined there
    can be unpickled; run from an unguarded script that re-runs the whole script in every child
    (and multiprocessing then refuses to start). The workers only call functions of riskoff's
    modules, so the main module's ``__file__`` and ``__spec__`` are hidden while the workers start,
    which makes multiprocessing skip that step.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)
