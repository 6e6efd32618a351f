"""Lazy package exports (riskoff.util.lazy): the names resolve, and the heavy modules stay unloaded
until a name that needs them is used."""
from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_a_tearsheet_worker_and_the_cli_parser_stay_light():
    assert "numba" not in _loaded_after("import riskoff.reports.tearsheets")
    assert "scipy.stats" not in _loaded_after("from riskoff.cli import build_parser; build_parser()")


def test_names_resolve_on_first_use_and_unknown_names_fail():
    import riskoff.reports as reports
    import riskoff.sweep as sweep
    from riskoff.reports.report import write_report
    from riskoff.sweep.backends import run_sweep

    assert reports.write_report is write_report and sweep.run_sweep is run_sweep
    assert set(reports.__all__) <= set(dir(reports)) and set(sweep.__all__) <= set(dir(sweep))
    with pytest.raises(AttributeError, match="riskoff.sweep"):
        sweep.no_such_name  # noqa: B018
