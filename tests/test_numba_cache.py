"""drop_stale: a kernel module's numba cache goes when a module it inlines changes."""
import types

from riskoff.util.numba_cache import drop_stale


def test_cache_entries_are_dropped_when_a_dependency_changes(tmp_path):
    kernel = tmp_path / "kernels.py"
    dep = tmp_path / "steps.py"
    kernel.write_text("x = 1\n")
    dep.write_text("y = 1\n")
    km, dm = types.ModuleType("kernels"), types.ModuleType("steps")
    km.__file__, dm.__file__ = str(kernel), str(dep)
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    entry = cache / "kernels.k-10.py311.nbi"
    entry.write_text("compiled")
    other = cache / "steps.f-3.py311.nbi"
    other.write_text("compiled")
    drop_stale(km, [dm])                     # first call: no stamp yet, so the entry cannot be trusted
    assert not entry.exists() and other.exists()
    entry.write_text("compiled")
    assert drop_stale(km, [dm]) is False and entry.exists()   # unchanged dependency: kept
    dep.write_text("y = 2\n")
    assert drop_stale(km, [dm]) is True and not entry.exists()  # changed: dropped
    assert other.exists()                    # only the kernel module's entries
