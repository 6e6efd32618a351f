"""One-release aliases for modules that moved when ``riskoff/`` was laid out by stage.

A moved module's old path (``riskoff.signal``, ``riskoff.strategy``, ...) stays importable for one
release: importing it warns once with a DeprecationWarning naming the new home, and every name is
looked up in the new modules on first access. The aliases are listed in the README (Layout).
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["REMOVED_IN", "moved_module"]

REMOVED_IN = "0.3"


def moved_module(old: str, homes: Sequence[str], namespace: dict[str, Any]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Warn that ``old`` moved to ``homes`` and return the alias module's ``__getattr__`` and
    ``__dir__``: a name resolves to the first home module that defines it."""
    warnings.warn(f"{old} moved to {', '.join(homes)}; the old path goes in riskoff {REMOVED_IN}",
                  DeprecationWarning, stacklevel=3)
    modules = [importlib.import_module(h) for h in homes]

    def getattr_(name: str) -> Any:
        for m in modules:
            if hasattr(m, name):
                value = getattr(m, name)
                namespace[name] = value
                return value
        raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved to {', '.join(homes)})")

    def dir_() -> list[str]:
        return sorted({n for m in modules for n in dir(m) if not n.startswith("_")})

    return getattr_, dir_
