"""The README's examples run as written (so the docs cannot drift from the code)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from riskoff.signals.contract import discover
from riskoff.signals.evaluate import run_signal

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_shows_the_two_setup_commands():
    quick = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    assert "make run" in quick and "make test" in quick


def _command_blocks() -> dict[str, list[str]]:
    """README section -> the commands of its indented shell blocks (a block whose lines start with a
    command such as make, pip, riskoff, python, pytest)."""
    out: dict[str, list[str]] = {}
    for section in README.split("\n## ")[1:]:
        heading = section.split("\n", 1)[0]
        cmds = [ln[4:].split("  #", 1)[0].strip() for ln in section.splitlines() if ln.startswith("    ")
                and not ln.startswith("     ")]
        cmds = [c for c in cmds if c.split(" ", 1)[0] in ("make", "pip", "riskoff", "python", "pytest", "cd")]
        if cmds:
            out[heading] = cmds
    return out


def test_every_readme_command_block_is_run_by_a_test():
    # "Your own project" runs as written in tests/test_packaging.py (a wheel installed offline);
    # the Quickstart's make targets below (make run for real behind RISKOFF_JOURNEYS=1; make test is CI)
    assert set(_command_blocks()) == {"Quickstart", "Your own project"}, _command_blocks()


def test_quickstart_make_targets_exist_and_do_what_the_readme_says(tmp_path):
    import os
    import shutil
    import subprocess

    assert _command_blocks()["Quickstart"] == ["make run", "make test"]
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    for target, wants in (("run", "riskoff run backtests/selloffs.toml"), ("test", "-m pytest")):
        dry = subprocess.run(["make", "-n", "-W", "pyproject.toml", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0 and wants in dry.stdout and "pip install" in dry.stdout, dry.stdout + dry.stderr
    if os.environ.get("RISKOFF_JOURNEYS") == "1":  # the long one, for real: install (if needed) and the main job
        res = subprocess.run(["make", "run"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert res.returncode == 0 and "results:" in res.stdout, res.stdout[-2000:] + res.stderr[-2000:]


def test_write_your_own_signal_example_is_a_working_plugin(tmp_path, data_dir):
    example = next(b for b in BLOCKS if "def compute" in b)
    (tmp_path / "spy_drawdown.py").write_text(example)
    registry = discover([tmp_path])
    assert "spy_drawdown" in registry.signals, registry.errors
    out = run_signal(registry.get("spy_drawdown"), start="2020-01-01", end="2020-12-31", data_dir=data_dir)
    assert out.loc["2020-03-23", "state"] == 2 and out.loc["2020-01-15", "state"] == 0


def test_write_your_own_signal_example_passes_conformance(tmp_path, data_dir):
    from riskoff.signals.evaluate import load_signal_data
    from riskoff.testing import check_signal
    (tmp_path / "spy_drawdown.py").write_text(next(b for b in BLOCKS if "def compute" in b))
    spec = discover([tmp_path]).get("spy_drawdown")
    problems = check_signal(spec, load_signal_data(spec, "2005-01-01", data_dir=data_dir))
    assert problems == []


def test_python_api_example_runs_as_a_plain_script(tmp_path, data_dir):
    """Saved as a file and run with python: no __main__ guard, tearsheets rendered in worker processes."""
    example = next(b for b in BLOCKS if "ro.backtest" in b)
    assert "__main__" not in example
    script = tmp_path / "study.py"
    script.write_text(example.replace('start="2018-01-01"', 'start="2024-01-01"'))
    env = {**os.environ, "RISKOFF_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RuntimeError" not in proc.stderr and "BrokenProcessPool" not in proc.stderr
    assert proc.stdout.count("vix_or_mvrv") >= 2  # printed once, not once per worker process
    pages = sorted(p.name for p in (tmp_path / "results" / "my-study" / "tearsheets").iterdir())
    assert pages == ["vix_or_mvrv__BTC-USD.html", "vix_or_mvrv__SPY.html"]
    assert "writing" in proc.stderr and "tearsheets" in proc.stderr  # ro.write reports progress


def test_python_api_example_runs(tmp_path, monkeypatch, data_dir):
    example = next(b for b in BLOCKS if "ro.backtest" in b)
    target = 'ro.write(result, "results/my-study")'
    assert target in example
    example = example.replace(target, f"ro.write(result, {str(tmp_path / 'study')!r}, tearsheets=False)")
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    stats = scope["result"].stats
    assert set(stats.strategy) == {"buy_and_hold", "vix_or_mvrv"}
    assert set(stats.asset) == {"BTC-USD", "SPY"}
    assert (tmp_path / "study" / "report.html").is_file()
    assert isinstance(scope["result"].windows, pd.DataFrame)


def test_readme_findings_are_a_fresh_default_runs_findings(default_run):
    from riskoff.reports.findings import readme_with_findings

    findings = (default_run / "findings.md").read_text(encoding="utf-8")
    assert README == readme_with_findings(README, findings), (
        "README's 'What the default run finds' no longer matches a fresh run's findings.md; "
        "regenerate it with `riskoff findings RUN --update-readme README.md`")


def test_sweep_config_example_parses_in_the_new_layout():
    import tomllib

    from riskoff.sweep import parse_sweep_config
    block = next(b for b in re.findall(r"```toml\n(.*?)```", README, flags=re.S) if "[grid]" in b)
    cfg = parse_sweep_config(tomllib.loads(block), "README.md")
    assert cfg.assets == ("SPY", "QQQ", "BTC-USD") and cfg.costs["crypto"].fee_bps == 10
    assert cfg.walk_forward is not None and cfg.n_combos == 3
