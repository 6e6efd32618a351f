"""``riskoff init DIR``: a user project with the layout riskoff looks for.

The project is found from any folder inside it (``riskoff.toml`` marks it, see riskoff.util.paths): its
``signals/`` and ``strategies/`` are scanned next to the built-ins, runs land in its ``results/``,
and ``pytest`` runs the conformance suite (look-ahead, warm-up, output shape, parameter checks) on
the project's own plug-ins.
"""
from __future__ import annotations

import re
from pathlib import Path

from riskoff.util.errors import ConfigError

EXAMPLE_SIGNAL = "spy_drawdown"

_RISKOFF_TOML = '''\
# This file marks a riskoff project: `riskoff` run anywhere inside this folder scans ./signals and
# ./strategies next to the built-ins and writes runs under ./results.
# data_dir = "data"            # a folder holding series/<family>/<ID>.csv (default: --data-dir,
#                              # RISKOFF_DATA_DIR, ../shared/data, then the cache `riskoff data fetch` fills)
# plugin_dirs = ["lib"]        # more folders of signal and strategy modules
# results_dir = "results"
'''

_PYPROJECT = '''\
[project]
name = "{name}"
version = "0.1.0"
description = "Signals and de-risking rules researched with riskoff."
requires-python = ">=3.11"
dependencies = ["riskoff"]

# To share the plug-ins as a package, expose them as entry points:
# [project.entry-points."riskoff.signals"]
# {module} = "signals.{module}"

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

_SIGNAL = '''\
"""SPY drawdown from its rolling high: a deep fall below the high is caution, deeper is risk-off.

The reading is the fraction SPY's close sits below its highest close of the last ``window`` bars
(0 at a new high, 0.25 when 25% below). Deeper than ``caution`` reads caution, deeper than
``risk_off`` reads risk-off. It uses only closes up to the bar it decides, so it passes the
look-ahead check; it reacts late by construction (a drawdown has to happen before it shows).
"""
from riskoff import Param, signal_frame, states_from_levels

INPUTS = ["SPY.close"]
PARAMS = [Param("window", 252, low=20, high=1000, description="bars of the rolling high"),
          Param("caution", 0.10, low=0.01, high=0.9, description="drawdown that reads caution"),
          Param("risk_off", 0.20, low=0.01, high=0.9, description="drawdown that reads risk-off")]
WARMUP = "window"


def compute(data, window=252, caution=0.10, risk_off=0.20):
    close = data["SPY.close"]
    drawdown = 1 - close / close.rolling(window).max()
    return signal_frame(reading=drawdown, state=states_from_levels(drawdown, caution, risk_off))
'''

_STRATEGIES_README = '''\
Strategy rules: one module per rule, with a docstring, `PARAMS` and `target(ctx, **params)` returning
the exposure per bar (see `riskoff strategies show any_off` for a built-in one). `riskoff strategies
check NAME` runs the look-ahead check on a rule.
'''

_EXAMPLE_TOML = '''\
# A one-year backtest of the example signal on SPY: `riskoff run backtests/example.toml`.
[run]
name = "example"
start = 2024-07-01
end = 2025-06-30
assets = ["SPY"]
engine = "numba"
tearsheets = "none"

# Every comparison includes the rules a signal has to beat.
[baselines]
rules = ["buy_and_hold", "ma_timing"]

[[strategies]]
name = "drawdown_exit"
rule = "any_off"
signals = [{{ name = "{signal}", params = {{ window = 60, caution = 0.05, risk_off = 0.08 }} }}]
overlays = {{ min_bars_out = 5, idle_exposure = 1.0 }}
'''

_TEST = '''\
"""The project's own plug-ins pass riskoff's conformance suite (run `pytest` in the project)."""
from pathlib import Path

import pytest

from riskoff.signals.contract import discover
from riskoff.signals.evaluate import load_signal_data
from riskoff.strategies.contract import discover_strategies
from riskoff.testing import check_rule, check_signal

PROJECT = Path(__file__).resolve().parents[1]
SIGNALS = discover([PROJECT / "signals"])
RULES = discover_strategies([PROJECT / "strategies"])


def own(registry, folder):
    return sorted(n for n, s in registry.items.items() if Path(s.origin).parent == PROJECT / folder)


def test_plugins_load_and_do_not_clash_with_built_ins():
    assert not SIGNALS.errors, SIGNALS.errors
    assert not RULES.errors, RULES.errors
    assert own(SIGNALS, "signals"), "no signal found in signals/"


@pytest.mark.parametrize("name", own(SIGNALS, "signals"))
def test_signal_conforms(name):
    spec = SIGNALS.get(name)
    problems = check_signal(spec, load_signal_data(spec, "2005-01-01"))
    assert not problems, "\\n".join(problems)


def test_rules_conform():
    problems = [p for name in own(RULES, "strategies") for p in check_rule(RULES.get(name))[0]]
    assert not problems, "\\n".join(problems)
'''

_GITIGNORE = "results/*\n!results/.gitkeep\n__pycache__/\n"


def init_project(target: str | Path) -> list[Path]:
    """Create a project in ``target`` (created if missing; an existing project is never overwritten).

    Returns:
        The files written.
    """
    root = Path(target).resolve()
    if (root / "riskoff.toml").exists():
        raise ConfigError(f"{root / 'riskoff.toml'} already exists: {root} is a riskoff project already")
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", root.name).strip("-") or "riskoff-project"
    files = {
        "riskoff.toml": _RISKOFF_TOML,
        "pyproject.toml": _PYPROJECT.format(name=name, module=EXAMPLE_SIGNAL),
        f"signals/{EXAMPLE_SIGNAL}.py": _SIGNAL,
        "strategies/README.md": _STRATEGIES_README,
        "backtests/example.toml": _EXAMPLE_TOML.format(signal=EXAMPLE_SIGNAL),
        "tests/test_plugins.py": _TEST,
        "data/.gitkeep": "",
        "results/.gitkeep": "",
        ".gitignore": _GITIGNORE,
    }
    clash = [rel for rel in files if (root / rel).exists()]
    if clash:
        raise ConfigError(f"{root}: {clash[0]} already exists; riskoff init does not overwrite files")
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
