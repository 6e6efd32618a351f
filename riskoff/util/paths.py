"""Where things live: the built-ins, the user's project, plug-in folders, results and the data dir.

Built-ins (the shipped signals, rules and catalogs) sit inside the installed package as
``riskoff.builtins.signals``, ``riskoff.builtins.strategies`` and ``riskoff.builtins.data``; the
wheel (and an editable install) maps the checkout's top-level ``signals/``, ``strategies/`` and
``data/*.toml`` there. Run from a plain checkout on ``PYTHONPATH`` they are read from the
checkout's folders directly.

A *project* is the nearest folder, from the working directory upward, holding a ``riskoff.toml``
or a ``pyproject.toml`` with a ``[tool.riskoff]`` table. Its ``signals/`` and ``strategies/`` and
the folders its ``plugin_dirs`` key lists are scanned for plug-ins, and results default to its
``results/``. Keys of that table (all optional, paths relative to the project folder)::

    data_dir = "data"          # where series/<family>/<ID>.csv live
    plugin_dirs = ["lib"]      # extra folders of signal and strategy modules
    results_dir = "results"    # default parent of run folders

The data dir is resolved in this order: an explicit ``--data-dir``, the ``RISKOFF_DATA_DIR``
environment variable, the project's ``data_dir``, ``../shared/data`` beside the project (or the
working directory) when it exists, else the live cache in the user's cache dir, which is where
``riskoff data fetch`` writes.
"""
from __future__ import annotations

import importlib.util
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # riskoff/ (this module lives in riskoff/util/)
#: the source checkout's root when riskoff runs from one (tests and benchmarks use it)
PROJECT_ROOT = PACKAGE_DIR.parent
PROJECT_FILE = "riskoff.toml"


def _builtin(name: str) -> Path:
    """The folder of the built-in subpackage ``riskoff.builtins.<name>``.

    An installed wheel holds it as a real folder; an editable install maps it to the checkout's
    top-level folder (its finder reports that location); a checkout on PYTHONPATH has neither, so
    the top-level folder beside the package is used.
    """
    try:
        spec = importlib.util.find_spec(f"riskoff.builtins.{name}")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if Path(loc).is_dir():
                return Path(loc).resolve()
    return PACKAGE_DIR.parent / name


SIGNALS_DIR = _builtin("signals")
STRATEGIES_DIR = _builtin("strategies")
BUILTIN_DATA_DIR = _builtin("data")
CATALOG_FILE = BUILTIN_DATA_DIR / "catalog.toml"
WINDOWS_FILE = BUILTIN_DATA_DIR / "windows.toml"
#: per-user cache: parsed-series parquet files and the live data dir
CACHE_DIR = Path(os.environ.get("RISKOFF_CACHE_DIR") or platformdirs.user_cache_dir("riskoff"))
LIVE_DATA_DIR = CACHE_DIR / "data"


@dataclass(frozen=True)
class Project:
    """A user project: its folder, the file that marks it and its ``riskoff`` settings."""

    root: Path
    marker: Path
    settings: dict[str, Any] = field(default_factory=dict)

    def path(self, key: str, default: str | None = None) -> Path | None:
        """A path setting resolved against the project folder (None when unset and no default)."""
        value = self.settings.get(key, default)
        return None if value is None else (self.root / str(value)).resolve()

    def plugin_dirs(self, kind: str) -> list[Path]:
        """``signals/`` or ``strategies/`` of the project, then every folder of ``plugin_dirs``."""
        extra = [(self.root / str(p)).resolve() for p in self.settings.get("plugin_dirs", ())]
        return [self.root / kind, *extra]

    @property
    def results_dir(self) -> Path:
        return self.path("results_dir", "results")  # type: ignore[return-value]


def _read_settings(marker: Path) -> dict[str, Any] | None:
    try:
        doc = tomllib.loads(marker.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        from riskoff.util.errors import ConfigError
        raise ConfigError(f"{marker}: cannot read the project settings: {exc}") from None
    if marker.name == PROJECT_FILE:
        return doc
    tool = doc.get("tool", {})
    return tool["riskoff"] if isinstance(tool, dict) and isinstance(tool.get("riskoff"), dict) else None


#: where a command looks for its project when no folder is given: the folder of the config file it
#: runs (see :func:`anchor_project`), else the working directory
_anchor: Path | None = None


def anchor_project(config_file: str | os.PathLike | None) -> None:
    """Make the project holding ``config_file`` this process's project (None: back to the working
    directory). A command that runs a config calls it first, so ``cd ~ && riskoff run
    ~/proj/backtests/x.toml`` scans ``~/proj``'s plug-ins, reads its ``riskoff.toml`` and writes to
    its ``results/``, exactly as when started inside the project."""
    global _anchor
    _anchor = Path(config_file).expanduser().resolve().parent if config_file is not None else None


def find_project(start: str | os.PathLike | None = None) -> Project | None:
    """The project holding ``start`` (default: the anchored config's folder, else the working
    directory), or None outside any."""
    start = Path(start or _anchor or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        for name in (PROJECT_FILE, "pyproject.toml"):
            marker = folder / name
            if marker.is_file():
                settings = _read_settings(marker)
                if settings is not None:
                    return Project(folder, marker, dict(settings))
    return None


def plugin_folders(kind: str, extra: list[Path] | tuple[Path, ...] | None = None) -> list[Path]:
    """Folders scanned for ``kind`` ("signals" or "strategies"): built-ins first, then the project's
    folders, then ``extra``; a folder listed twice (the checkout as its own project) counts once."""
    builtin = SIGNALS_DIR if kind == "signals" else STRATEGIES_DIR
    project = find_project()
    dirs = [builtin, *(project.plugin_dirs(kind) if project else []), *(Path(d) for d in extra or ())]
    seen: set[Path] = set()
    out = []
    for d in dirs:
        key = Path(d).resolve()
        if key not in seen:
            seen.add(key)
            out.append(Path(d))
    return out


def results_dir() -> Path:
    """Where run folders go by default: the project's ``results/``, else ``./results``."""
    project = find_project()
    return project.results_dir if project else Path.cwd() / "results"


def data_dir_candidates(explicit: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """Every data dir riskoff would consider, in order, each with how it was chosen."""
    out: list[tuple[Path, str]] = []
    if explicit:
        out.append((Path(explicit).expanduser().resolve(), "--data-dir"))
    env = os.environ.get("RISKOFF_DATA_DIR")
    if env:
        out.append((Path(env).expanduser().resolve(), "RISKOFF_DATA_DIR"))
    project = find_project()
    if project and project.settings.get("data_dir"):
        out.append((project.path("data_dir"), f"data_dir in {project.marker}"))  # type: ignore[arg-type]
    shared = (project.root if project else Path.cwd()).parent / "shared" / "data"
    if shared.is_dir():
        out.append((shared.resolve(), "../shared/data beside the project"))
    out.append((LIVE_DATA_DIR, "the live cache (where `riskoff data fetch` writes)"))
    return out


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Return (data dir, how it was chosen) following the documented order."""
    return data_dir_candidates(explicit)[0]
