"""Plug-in discovery shared by signals and strategies.

A plug-in is one Python module: a file in a declared folder (``signals/``, ``strategies/`` or a
folder a config lists) or a module exposed by an installed package under the entry-point group
``riskoff.signals`` / ``riskoff.strategies``. Nothing else is imported: configs name plug-ins,
they never carry code. A module that fails to import is recorded as a :class:`PluginError`
naming the module, and the other plug-ins still load.

Plug-in code cannot end riskoff or fake its success: ``sys.exit`` (any code) and a
``KeyboardInterrupt`` it raises itself, at import or inside a call, become a :class:`PluginError`
naming the file. A real Ctrl-C (SIGINT, or SIGTERM under the command line) that arrives while
plug-in code runs still interrupts. Exits that bypass Python (``os._exit``, a signal that kills the
process) cannot be caught in-process: the command ends with that status and leaves no results folder.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from riskoff.util.errors import ConfigError, PluginError, RiskoffError, did_you_mean

#: seconds one call into a plug-in (a signal's compute, a rule's target) may take
DEFAULT_TIME_LIMIT = 300.0
_time_limit: ContextVar[float | None] = ContextVar("riskoff_plugin_time_limit", default=None)


class PluginExit(Exception):
    """Plug-in code called ``sys.exit`` or raised ``KeyboardInterrupt`` itself (no signal arrived)."""


#: interrupt signals that arrived while plug-in code ran, counted by :func:`no_plugin_exit`'s handlers
_interrupts: list[int] = []


@contextmanager
def no_plugin_exit() -> Iterator[None]:
    """Run plug-in code in this block: ``SystemExit`` becomes :class:`PluginExit`, and so does a
    ``KeyboardInterrupt`` unless SIGINT or SIGTERM arrived meanwhile. In the main thread the current
    Python handlers of those signals are wrapped to note an arrival (then called as before); in
    another thread no signal is ever delivered, so a KeyboardInterrupt there is always the plug-in's."""
    watched = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if callable(previous):
                def _noted(num, frame, _previous=previous):
                    _interrupts.append(num)
                    return _previous(num, frame)
                signal.signal(signum, _noted)
                watched.append((signum, previous))
    seen = len(_interrupts)
    try:
        yield
    except SystemExit as exc:
        raise PluginExit(f"the plug-in called sys.exit({exc.code!r}); a plug-in must return or raise an "
                         "exception, never end riskoff") from None
    except KeyboardInterrupt:
        if len(_interrupts) > seen:
            raise
        raise PluginExit("the plug-in raised KeyboardInterrupt itself (no Ctrl-C arrived); a plug-in must "
                         "return or raise an exception, never interrupt riskoff") from None
    finally:
        for signum, previous in watched:
            signal.signal(signum, previous)


class _PluginTimeout(BaseException):
    """Raised by the alarm inside a plug-in call (a BaseException so ``except Exception`` in the
    plug-in cannot swallow it)."""


@contextmanager
def plugin_time_limit(seconds: float | None) -> Iterator[None]:
    """Calls through :func:`call_plugin` inside this block get ``seconds`` each (None = default)."""
    token = _time_limit.set(seconds)
    try:
        yield
    finally:
        _time_limit.reset(token)


def current_time_limit() -> float:
    """The limit in force: the innermost :func:`plugin_time_limit`, else ``RISKOFF_PLUGIN_TIME_LIMIT``,
    else DEFAULT_TIME_LIMIT (0 = no limit)."""
    limit = _time_limit.get()
    if limit is None:
        text = os.environ.get("RISKOFF_PLUGIN_TIME_LIMIT", "")
        try:
            limit = float(text) if text else DEFAULT_TIME_LIMIT
        except ValueError:
            raise ConfigError(f"RISKOFF_PLUGIN_TIME_LIMIT = {text!r}; expected seconds, e.g. 60") from None
    return float(limit)


def call_plugin(what: str, origin: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a plug-in's function and turn its failures into a PluginError naming ``what`` and the
    plug-in file ``origin``: an exception it raises, or running past the time limit. In the main
    thread an alarm stops the call at the limit (pure-Python code; a long C call is stopped when
    it returns); elsewhere the call is rejected once it returns late."""
    limit = current_time_limit()
    alarm = bool(limit) and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if alarm:
        def _ring(signum, frame):
            raise _PluginTimeout
        previous = signal.signal(signal.SIGALRM, _ring)
        signal.setitimer(signal.ITIMER_REAL, limit)
    t0 = time.perf_counter()
    late = PluginError(f"{what} ({origin}): {getattr(fn, '__name__', 'call')} ran longer than the plug-in time "
                       f"limit of {limit:g} s; speed it up or raise run.plugin_time_limit")
    try:
        with no_plugin_exit():
            out = fn(*args, **kwargs)
    except _PluginTimeout:
        raise late from None
    except RiskoffError:
        raise
    except Exception as exc:
        raise PluginError(f"{what} ({origin}): {getattr(fn, '__name__', 'call')} failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if limit and time.perf_counter() - t0 > limit:
        raise late
    return out


def import_plugin_file(path: Path, namespace: str) -> ModuleType:
    """Import one plug-in file under a private module name unique to its path."""
    name = f"riskoff_plugins.{namespace}.{path.stem}_{abs(hash(str(path.resolve()))) & 0xFFFFFF:x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and numba need the module registered while it executes
    try:
        with no_plugin_exit():
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def discover_modules(dirs: Iterable[Path], group: str, namespace: str
                     ) -> tuple[list[tuple[ModuleType, str]], dict[str, PluginError]]:
    """Import every plug-in module; return ([(module, origin)], {origin: error})."""
    found: list[tuple[ModuleType, str]] = []
    errors: dict[str, PluginError] = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                found.append((import_plugin_file(path, namespace), str(path)))
            except Exception as exc:  # a broken plug-in must not take the others down
                errors[path.stem] = PluginError(f"{namespace} plug-in {path} failed to import: "
                                                f"{type(exc).__name__}: {exc}\n{_last_frame(exc)}")
    for ep in entry_points(group=group):
        try:
            with no_plugin_exit():
                loaded = ep.load()
            found.append((loaded, f"entry point {ep.name} ({ep.value})"))
        except Exception as exc:
            errors[ep.name] = PluginError(f"{namespace} entry point {ep.name} ({ep.value}) failed to load: "
                                          f"{type(exc).__name__}: {exc}")
    return found, errors


def _last_frame(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    return f"  at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""


class Registry:
    """Plug-ins of one kind found by :func:`discover_registry`, plus the ones that failed to load.

    Subclasses name their kind (``KIND``) and expose the specs under a readable attribute.
    """

    KIND = "plug-in"

    def __init__(self, items: dict[str, Any], errors: dict[str, Exception]) -> None:
        self.items, self.errors = items, errors

    def get(self, name: str) -> Any:
        """The spec called ``name``; a broken one re-raises its load error; unknown names suggest."""
        if name in self.items:
            return self.items[name]
        if name in self.errors:
            raise self.errors[name]
        raise PluginError(f"unknown {self.KIND} '{name}'{did_you_mean(name, self.items)}; "
                          f"available: {', '.join(sorted(self.items))}")


def same_source(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are two plug-in files with identical contents."""
    try:
        return Path(str(a)).read_bytes() == Path(str(b)).read_bytes()
    except OSError:  # an entry point, or a file gone: not provably the same code
        return False


def discover_registry(dirs: Iterable[Path], group: str, namespace: str,
                      from_module: Callable[[ModuleType, str], Any], kind: str
                      ) -> tuple[dict[str, Any], dict[str, Exception]]:
    """Import plug-in modules and turn each into a spec with ``from_module``.

    A name declared twice (a user plug-in named like a built-in, two user files, an entry point)
    is an error naming both origins, and neither is usable under that name: silently preferring
    one would run code the user did not mean to run. Two files with the same bytes are one plug-in
    (the first found is kept): a source checkout used as a project next to an installed wheel
    holds copies of the built-ins.
    """
    modules, errors = discover_modules(dirs, group, namespace)
    found: dict[str, Any] = {}
    clashes: dict[str, list[str]] = {}
    for module, origin in modules:
        try:
            spec = from_module(module, origin)
        except PluginError as exc:
            errors[Path(origin).stem] = exc
            continue
        if spec is None:  # a plug-in of the other kind in a shared folder (plugin_dirs hold both)
            continue
        if spec.name in found and same_source(found[spec.name].origin, origin):
            continue  # the same code twice (a checkout's signals/ beside the installed built-ins): no doubt
        if spec.name in found or spec.name in clashes:
            clashes.setdefault(spec.name, [str(found.pop(spec.name).origin)] if spec.name in found else [])
            clashes[spec.name].append(str(origin))
            continue
        found[spec.name] = spec
    for name, origins in clashes.items():
        errors[name] = PluginError(f"{kind} name '{name}' is declared {len(origins)} times: "
                                   f"{' and '.join(origins)}; rename one of them (built-in names are "
                                   f"listed by `riskoff {namespace} list`)")
    return found, dict(errors)
