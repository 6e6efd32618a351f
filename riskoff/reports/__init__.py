"""Reports built from a finished run folder: the run report, quantstats tearsheets, run comparison.

    from riskoff.reports import write_report, write_tearsheets, write_findings, compare_runs, screenshot

They only read the files the runner writes into the run folder, so they can be re-run at any time.
"""
from __future__ import annotations

from riskoff.util.lazy import lazy_exports

# The package loads its modules on first use (PEP 562): a tearsheet worker process imports
# riskoff.reports.tearsheets and must not pay for the report, compare and their imports (numba).
_HOME = {"compare_runs": "riskoff.reports.compare", "write_findings": "riskoff.reports.findings",
         "screenshot": "riskoff.reports.browser", "write_report": "riskoff.reports.report",
         "write_tearsheets": "riskoff.reports.tearsheets"}


__getattr__, __dir__ = lazy_exports("riskoff.reports", globals(), _HOME)


__all__ = ["write_report", "write_tearsheets", "write_findings", "compare_runs", "screenshot"]
