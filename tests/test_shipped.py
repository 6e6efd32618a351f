"""Everything shipped in backtests/ runs end to end, the way a user runs it.

Run configs go through `riskoff run` with their report and findings, sweep configs through
`riskoff sweep`, scripts through `python`, each in its own process started from a folder outside
the checkout. The one test override: the scripts' tearsheets are switched off (``ro.write(...,
tearsheets=False)``, the same code path without the quantstats pages, which `tests/reports`
covers) to keep the suite inside its time budget; `RISKOFF_JOURNEYS=1` runs them with tearsheets.
After each journey nothing it started may still be alive (its process session is empty).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from proc_helpers import HAS_PROC, living

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (ROOT / "backtests").iterdir() if p.suffix in (".toml", ".py"))
FULL = os.environ.get("RISKOFF_JOURNEYS") == "1"
SCRIPT = ("import functools, runpy, sys\nimport riskoff.run.api as api\n"
          "api.write = functools.partial(api.write, tearsheets=False)\n"
          "sys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n")


def kind(path: Path) -> str:
    if path.suffix == ".py":
        return "script"
    return "sweep" if "[sweep]" in path.read_text() or "[grid]" in path.read_text() else "run"


def command(path: Path, out: Path) -> list[str]:
    k = kind(path)
    if k == "run":
        return [sys.executable, "-m", "riskoff", "run", str(path), "--no-tearsheets", "--out", str(out)]
    if k == "sweep":
        return [sys.executable, "-m", "riskoff", "sweep", str(path), "--out", str(out)]
    return [sys.executable, str(path), str(out)] if FULL else [sys.executable, "-c", SCRIPT, str(path), str(out)]


def journey(path: Path, root: Path, data_dir: Path) -> dict:
    out = root / "out" / path.stem
    cwd = root / "elsewhere"
    cwd.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RISKOFF_DATA_DIR=str(data_dir), MPLBACKEND="Agg")
    t0 = time.perf_counter()
    proc = subprocess.Popen(command(path, out), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    stdout, stderr = proc.communicate(timeout=600)
    left = []
    if HAS_PROC:
        deadline = time.monotonic() + 5
        while (left := living(4, proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
    return {"rc": proc.returncode, "out": out, "stdout": stdout, "stderr": stderr, "left": left,
            "seconds": time.perf_counter() - t0}


@pytest.fixture(scope="session")
def journeys(tmp_path_factory, data_dir) -> dict[str, dict]:
    """Every shipped journey, two at a time (the machine's two cores)."""
    root = tmp_path_factory.mktemp("shipped")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {p.name: pool.submit(journey, p, root, data_dir) for p in SHIPPED}
    return {name: f.result() for name, f in futures.items()}


def test_every_shipped_file_is_a_journey():
    assert {kind(p) for p in SHIPPED} == {"run", "sweep", "script"}
    assert len(SHIPPED) >= 8


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_journey_runs_end_to_end(path, journeys):
    j = journeys[path.name]
    assert j["rc"] == 0, j["stderr"][-3000:]
    assert "Traceback" not in j["stderr"], j["stderr"][-3000:]
    assert not j["left"], f"processes still alive after {path.name}: {j['left']}"
    out, k = j["out"], kind(path)
    if k == "sweep":
        assert (out / "results.csv").is_file()
        return
    assert (out / "windows.csv").is_file() and (out / "summary.json").is_file()
    findings = (out / "findings.md").read_text()
    assert "## Per window" in findings and "## Protection and its cost" in findings
    assert (out / "report.html").stat().st_size > 100_000
    if "[[portfolios]]" in path.read_text():  # a book study answers per window: de-risking or diversification
        assert "## Books: de-risking or diversification" in findings and "Verdict:" in findings
        assert (out / "book_windows.csv").is_file() and (out / "hedge.csv").is_file()
    if path.name == "intraday_crypto.toml":
        # the hourly asset speaks in hours, with the trough's UTC time (2025-10-10 and 2026-02-05/06)
        hourly = [ln for ln in findings.splitlines() if ln.strip().startswith("- BINANCE-BTCUSDT-1H (trough ")]
        assert any("2025-10-10T21:20Z" in ln and " h ahead" in ln for ln in hourly), hourly
        assert any("2026-02-06T00:15Z" in ln and "at the trough hour" in ln for ln in hourly), hourly
