"""Per-phase timing and progress for long commands (``riskoff run``).

A :class:`Phases` object times named phases (a phase entered several times accumulates) and shows
progress while one runs: a live tqdm bar when stderr is a terminal, otherwise a log line at most
every ``every`` seconds and a closing line for any phase that took longer than a second (so CI and
piped output still show that work is moving). :meth:`Phases.summary` is the one-line breakdown the
run prints at the end.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Phases", "Progress"]


class Progress:
    """Progress of one phase; call :meth:`update` as units of work finish (thread-safe)."""

    def __init__(self, name: str, total: int | None, say: Callable[[str], None], live: bool, every: float):
        self.name, self.total, self.done = name, total, 0
        self._say, self._every = say, every
        self._t0 = self._last = time.perf_counter()
        self._lock = threading.Lock()
        self._bar = None
        if live and total:
            import sys

            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit="step", file=sys.stderr, leave=False)

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
                return
            now = time.perf_counter()
            if now - self._last >= self._every:
                self._last = now
                of = f"/{self.total}" if self.total else ""
                self._say(f"{self.name}: {self.done}{of} ({now - self._t0:.1f} s)")

    def close(self) -> float:
        if self._bar is not None:
            self._bar.close()
        return time.perf_counter() - self._t0


class Phases:
    """Named phase timings plus progress display (see the module docstring)."""

    def __init__(self, say: Callable[[str], None] | None = None, live: bool = False, every: float = 2.0):
        self._say = say or (lambda _msg: None)
        self._live, self._every = live, every
        self.seconds: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._lock = threading.Lock()

    @contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[Progress]:
        """Time the block as phase ``name``; ``total`` units of work for the progress display."""
        progress = Progress(name, total, self._say, self._live, self._every)
        try:
            yield progress
        finally:
            took = progress.close()
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + took
            if took > 1.0 and not self._live:
                self._say(f"{name}: done in {took:.1f} s")

    def record(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to phase ``name`` (for work timed by the caller, without progress)."""
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def summary(self) -> str:
        """``timing: a 1.2 s | b 0.4 s | total 3.0 s`` (phases that overlap in time are each counted)."""
        parts = [f"{k} {v:.1f} s" for k, v in self.seconds.items()]
        return "timing: " + " | ".join(parts + [f"total {time.perf_counter() - self._t0:.1f} s"])
