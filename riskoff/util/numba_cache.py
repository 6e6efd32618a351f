"""Keeping numba's on-disk cache honest across modules.

numba caches a compiled function under its own source file and checks only that file's
timestamp. A kernel that calls (and inlines) a shared step from another module, such as the sweep
kernels calling ``riskoff.engine.account.account_bar_nb``, would keep running the old step after that
module changes. :func:`drop_stale` records a digest of the modules a cached kernel depends on and
deletes the kernel module's cache entries when the digest changes, so the next call recompiles.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

__all__ = ["drop_stale"]


def _digest(modules: Iterable[ModuleType]) -> str:
    h = hashlib.sha256()
    for m in modules:
        h.update(Path(m.__file__).read_bytes())
    return h.hexdigest()


def drop_stale(kernel_module: ModuleType, depends_on: Iterable[ModuleType]) -> bool:
    """Delete ``kernel_module``'s numba cache files if a module in ``depends_on`` changed since they
    were written; return True when something was deleted. Unwritable caches are left alone (numba
    then compiles in memory anyway)."""
    source = Path(kernel_module.__file__)
    cache_dir = source.parent / "__pycache__"
    stamp = cache_dir / f"{source.stem}.riskoff-deps"
    digest = _digest(depends_on)
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return False
        dropped = False
        for f in cache_dir.glob(f"{source.stem}.*.nb[ic]"):
            f.unlink(missing_ok=True)
            dropped = True
        cache_dir.mkdir(exist_ok=True)
        stamp.write_text(digest)
        return dropped
    except OSError:
        return False
