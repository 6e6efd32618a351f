"""Packages whose public names load their modules on first use (PEP 562).

``riskoff.sweep`` and ``riskoff.reports`` export names from heavy modules (numba kernels, plotly
reports); a command that needs none of them (``riskoff run``, a tearsheet worker) must not pay for
their imports just because it imports a sibling module of the package.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, namespace: dict[str, Any], homes: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``homes`` maps each exported name to the
    module it lives in; a name is imported on first access and kept in ``namespace`` (the
    package's globals) so the next access is a plain lookup."""
    def getattr_(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return getattr_, dir_
