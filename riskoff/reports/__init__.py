"""Reports built from a finished run folder: the run report, quantstats tearsheets, run comparison.

    from riskoff.reports import write_report, write_tearsheets, write_findings, compare_runs, screenshot

They only read the files the runner writes into the run folder, so they can be re-run at any time.
"""
from __future__ import annotations

import importlib
from typing import Any

# The package loads its modules on first use (PEP 562): a tearsheet worker process imports
# riskoff.reports.tearsheets and must not pay for the report, compare and their imports (numba).
_HOME = {"compare_runs": "riskoff.reports.compare", "write_findings": "riskoff.reports.findings",
         "screenshot": "riskoff.reports.browser", "write_report": "riskoff.reports.report",
         "write_tearsheets": "riskoff.reports.tearsheets"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'riskoff.reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


__all__ = ["write_report", "write_tearsheets", "write_findings", "compare_runs", "screenshot"]
