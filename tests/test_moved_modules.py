"""The one-release aliases of moved modules, and that nothing shipped still uses them.

The built-in signals and strategies and ``riskoff init``'s template import only the new paths.
The check runs in a fresh interpreter with riskoff's DeprecationWarnings turned into errors, so
that neither pytest's own warning filters (pyproject.toml ignores DeprecationWarning) nor a module
already imported by another test can hide an old import.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALIASES = {"riskoff.signal": "hysteresis", "riskoff.strategy": "off_votes", "riskoff.event_rules": "EventRule",
           "riskoff.event_engine": "simulate_events", "riskoff.errors": "did_you_mean"}

STRICT = r'''
import json, runpy, sys, tempfile, warnings
from pathlib import Path
warnings.filterwarnings("error", message=r"riskoff\.", category=DeprecationWarning)
from riskoff.signals.contract import discover
from riskoff.strategies.contract import discover_strategies
from riskoff.run.scaffold import init_project
signals, strategies = discover(), discover_strategies()
# every Python file of a fresh `riskoff init` project, run as the user's project would import it
with tempfile.TemporaryDirectory() as tmp:
    ran = [runpy.run_path(str(f)) and f.name for f in init_project(Path(tmp) / "proj") if f.suffix == ".py"]
print(json.dumps({"signals": sorted(signals.items), "strategies": sorted(strategies.items), "template": ran,
                  "broken": sorted(list(signals.errors) + list(strategies.errors))}))
'''


def strict_import(script: str = STRICT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)


def test_builtins_and_template_import_only_new_paths():
    out = strict_import()
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert not found["broken"], found["broken"]
    assert sorted(found["template"]) == ["spy_drawdown.py", "test_plugins.py"]
    assert {"vix_mean_reversion", "mvrv_bands"} <= set(found["signals"])
    assert {"any_off", "entry_stop_thirds", "reenter_when"} <= set(found["strategies"])


def test_strict_check_catches_an_old_import():
    # the check itself: one import of an old path under the same filter fails the interpreter
    out = strict_import("import warnings\nwarnings.filterwarnings('error', message=r'riskoff\\.', "
                        "category=DeprecationWarning)\nfrom riskoff.strategy import off_votes\n")
    assert out.returncode != 0 and "DeprecationWarning: riskoff.strategy moved to" in out.stderr


def test_old_paths_still_import_with_a_deprecation_warning():
    script = ("import importlib, json, warnings\nout = {}\n"
              f"for old, name in {ALIASES!r}.items():\n"
              "    with warnings.catch_warnings(record=True) as w:\n"
              "        warnings.simplefilter('always')\n"
              "        m = importlib.import_module(old)\n"
              "    out[old] = [getattr(m, name).__module__ if hasattr(getattr(m, name), '__module__') else '',\n"
              "                [str(x.message) for x in w if x.category is DeprecationWarning]]\n"
              "print(json.dumps(out))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for old, (home, messages) in found.items():
        assert home.startswith("riskoff.") and home != old, (old, home)
        assert any(m.startswith(f"{old} moved to ") for m in messages), (old, messages)
