"""Reports built from a finished run folder: the run report, quantstats tearsheets, run comparison.

    from riskoff.reports import write_report, write_tearsheets, write_findings, compare_runs, screenshot

They only read the files the runner writes into the run folder, so they can be re-run at any time.
"""
from riskoff.reports.compare import compare_runs
from riskoff.reports.findings import write_findings
from riskoff.reports.browser import screenshot
from riskoff.reports.report import write_report
from riskoff.reports.tearsheets import write_tearsheets

__all__ = ["write_report", "write_tearsheets", "write_findings", "compare_runs", "screenshot"]
