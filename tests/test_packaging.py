"""riskoff as a package: installed into a fresh virtualenv outside the checkout, used from a user
project made by `riskoff init`; and `make test`'s Chromium gate."""
from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import time
import venv
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "results", "cache", "build", "*.egg-info", "__pycache__", "tests",
                              "benchmarks", "docs")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv with riskoff installed from a copy of the checkout; its deps come from this interpreter.

    `--without-pip`: the parent's pip and setuptools (reached through a .pth file) do the install,
    so the build uses the same setuptools as the project's own environment.
    """
    base = tmp_path_factory.mktemp("pkg")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    purelib = Path(subprocess.check_output([env_dir / "bin" / "python", "-c",
                                            "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())
    (purelib / "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    str(src)], check=True, cwd=base, capture_output=True)
    shutil.rmtree(src)  # nothing may be read from the source tree once installed
    return env_dir, base


def run(env_dir: Path, args: list[str], cwd: Path, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{env_dir / 'bin'}:{env['PATH']}", RISKOFF_DATA_DIR=str(data_dir), MPLBACKEND="Agg",
               RISKOFF_CACHE_DIR=str(cwd.parent / "cache"))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_carries_every_builtin_and_no_top_level_plugin_packages(installed):
    env_dir, _ = installed
    purelib = next(env_dir.glob("lib/python*/site-packages"))
    assert not (purelib / "signals").exists() and not (purelib / "strategies").exists()
    shipped = {p.name for p in (purelib / "riskoff" / "builtins" / "signals").glob("*.py")}
    assert shipped == {p.name for p in (ROOT / "signals").glob("*.py")}
    rules = {p.name for p in (purelib / "riskoff" / "builtins" / "strategies").glob("*.py")}
    assert rules == {p.name for p in (ROOT / "strategies").glob("*.py")}
    assert {p.name for p in (purelib / "riskoff" / "builtins" / "data").iterdir()} >= {"catalog.toml", "windows.toml"}


def readme_block(heading: str) -> list[str]:
    """The shell commands of the README's indented command block under ``heading`` (comments removed)."""
    section = (ROOT / "README.md").read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln[4:] for ln in section.splitlines() if ln.startswith("    ")]
    return [ln.split("  #", 1)[0].strip() for ln in lines if ln.strip()]


def test_user_project_from_a_fresh_install(installed, data_dir):
    # The README's "Your own project" block, run as written in a shell (its first line, the install
    # from PyPI, is the one step stubbed: the fixture installed this checkout's wheel, offline)
    env_dir, base = installed
    work = base / "work"
    work.mkdir()
    t0 = time.perf_counter()
    commands = readme_block("Your own project")
    assert commands[0].startswith("pip install riskoff") and "riskoff init myresearch && cd myresearch" in commands
    version = run(env_dir, ["riskoff", "--version"], work, data_dir)
    assert version.returncode == 0 and version.stdout.strip() == "riskoff 0.1.0"
    where = run(env_dir, ["python", "-c", "import riskoff; print(riskoff.__file__)"], work, data_dir)
    assert where.stdout.startswith(str(env_dir)), where.stdout
    # the stub of `pip install riskoff pytest`: riskoff is installed; pytest's console script is what
    # pip would write into the venv (the module itself comes from the parent environment)
    pytest_script = env_dir / "bin" / "pytest"
    if not pytest_script.exists():
        pytest_script.write_text(f"#!/bin/sh\nexec {env_dir / 'bin' / 'python'} -m pytest \"$@\"\n")
        pytest_script.chmod(0o755)
    script = "set -e\n" + "\n".join(f"echo '$ {c}'\n{c}" for c in commands[1:])
    block = run(env_dir, ["bash", "-c", script], work, data_dir)
    assert block.returncode == 0, block.stdout[-3000:] + block.stderr[-3000:]
    proj = work / "myresearch"
    listed = block.stdout.split("$ riskoff signals list", 1)[1].split("$ riskoff signals check", 1)[0]
    rows = {line.split()[0]: line for line in listed.splitlines()[3:] if line.strip()}
    assert "signals/spy_drawdown.py" in rows["spy_drawdown"]
    assert "built-in" in rows["vix_mean_reversion"] and "built-in" in rows["mvrv_bands"]
    checked = block.stdout.split("$ riskoff signals check", 1)[1].split("$ riskoff run", 1)[0]
    assert "passes" in checked, checked
    runs = list((proj / "results").glob("*-example"))
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file() and (runs[0] / "report.html").is_file()
    assert "3 passed" in block.stdout.split("$ pytest", 1)[1], block.stdout[-2000:]
    elapsed = time.perf_counter() - t0
    assert elapsed <= 90, f"the README's project block took {elapsed:.0f} s"

    # a leaky copy: the rolling high looks 20 bars ahead
    leaky = (proj / "signals" / "spy_drawdown.py").read_text().replace(
        "close.rolling(window).max()", "close.rolling(window).max().shift(-20).ffill()")
    (work / "leaky_drawdown.py").write_text(leaky)
    bad = run(env_dir, ["riskoff", "signals", "check", str(work / "leaky_drawdown.py")], proj, data_dir)
    assert bad.returncode == 1 and "FAILS" in bad.stdout
    m = re.search(r"first leaking bar (\d{4}-\d{2}-\d{2}).*rows after (\d{4}-\d{2}-\d{2})", bad.stdout)
    assert m, bad.stdout
    day, cut = pd.Timestamp(m.group(1)), pd.Timestamp(m.group(2))
    # independent reference: SPY closes read directly, the leaky reading with and without rows after the cut
    spy = pd.read_csv(data_dir / "series" / "prices" / "SPY.csv", index_col="date", parse_dates=True)["close"]
    spy = spy[spy.index >= "2005-01-01"]

    def reading(close):
        return 1 - close / close.rolling(252).max().shift(-20).ffill()
    full, part = reading(spy).loc[:cut], reading(spy.loc[:cut])
    differs = ~((full == part) | (full.isna() & part.isna()))
    assert differs.idxmax() == day  # the named bar is the first one that changed for that cut


    # from another folder: the project's own plug-ins, and a plug-in folder the config names relative
    # to itself, are found; the run lands in the project's results/
    (work / "plugins").mkdir()
    (work / "plugins" / "spy_drawdown_outside.py").write_text((proj / "signals" / "spy_drawdown.py").read_text())
    (proj / "backtests" / "outside.toml").write_text(
        (proj / "backtests" / "example.toml").read_text()
        .replace('name = "example"', 'name = "outside"')
        .replace('tearsheets = "none"', 'tearsheets = "none"\nplugin_dirs = ["../../plugins"]')
        .replace('name = "spy_drawdown"', 'name = "spy_drawdown_outside"'))
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    for config in ("example.toml", "outside.toml"):
        res = run(env_dir, ["riskoff", "run", str(proj / "backtests" / config)], elsewhere, data_dir)
        assert res.returncode == 0, res.stderr[-2000:]
    assert len(list((proj / "results").glob("*-example"))) == 2 and len(list((proj / "results").glob("*-outside"))) == 1
    assert not (elsewhere / "results").exists()


def test_data_check_gives_the_same_verdict_installed_and_in_the_checkout(installed, data_dir):
    # the sanity rules' exceptions file ships next to the catalog (riskoff/builtins/data/ in a wheel)
    env_dir, base = installed
    elsewhere = base / "check"
    elsewhere.mkdir()
    wheel = run(env_dir, ["riskoff", "data", "check"], elsewhere, data_dir)
    checkout = subprocess.run([sys.executable, "-m", "riskoff", "data", "check"], cwd=elsewhere, capture_output=True,
                              text=True, env=dict(os.environ, RISKOFF_DATA_DIR=str(data_dir)), timeout=300)
    verdict = [ln for ln in wheel.stdout.splitlines() if "violation(s)" in ln]
    assert verdict and verdict == [ln for ln in checkout.stdout.splitlines() if "violation(s)" in ln], \
        (wheel.stdout[-500:], checkout.stdout[-500:])
    assert wheel.returncode == checkout.returncode
    assert " 0 excepted" not in verdict[0]


def test_make_test_stops_before_pytest_when_chromium_is_missing(tmp_path):
    fake_py = tmp_path / "python"  # riskoff's find_chromium, answering "not found"
    fake_py.write_text("#!/bin/sh\nexit 1\n")
    fake_py.chmod(0o755)
    for tool in ("cat", "id"):  # the basics, but no apt-get and no sudo on this PATH
        (tmp_path / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(["/bin/bash", str(ROOT / ".ci" / "chromium"), str(fake_py)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "stopped before pytest" in proc.stderr and "apt-get install -y chromium" in proc.stderr
    make = (ROOT / "Makefile").read_text()
    recipe = make.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index(".ci/chromium") < recipe.index("pytest")


def test_pyproject_hygiene():
    import tomllib
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()
    assert meta["urls"]
    deps = " ".join(meta["dependencies"])
    assert "matplotlib" in deps and "requests" not in deps and "exchange_calendars" in deps
    assert re.search(r"quantstats[^\"]*<", deps)
    assert any(d.startswith("requests") for d in meta["optional-dependencies"]["live"])
    assert not re.search(r"^\s*import requests|^from requests", "\n".join(
        p.read_text() for p in (ROOT / "riskoff").rglob("*.py") if p.name != "fetch.py"), re.M)


def test_editable_install_maps_the_checkout_folders(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                           text=True).strip())
    (purelib / "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(src)],
                   check=True, cwd=tmp_path, capture_output=True)
    # a signal added after the install is a built-in at once: the folder itself is mapped, not copied
    (src / "signals" / "zz_added_later.py").write_text((src / "signals" / "ma_break.py").read_text())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([py, "-c", "from riskoff.util import paths; from riskoff.signals.contract import discover; "
                                    "print(paths.SIGNALS_DIR); print(paths.CATALOG_FILE); "
                                    "print(sorted(discover().items))"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == str(src / "signals") and out[1] == str(src / "data" / "catalog.toml")
    assert "zz_added_later" in out[2]


def test_a_shipped_config_runs_from_the_checkout_with_the_installed_wheel(installed, data_dir):
    # the checkout is a riskoff project whose signals/ and strategies/ are byte copies of the wheel's
    # built-ins: running its configs with the installed riskoff, from another folder, must not clash
    env_dir, base = installed
    elsewhere = base / "shipped"
    elsewhere.mkdir()
    res = run(env_dir, ["riskoff", "run", str(ROOT / "backtests" / "intraday_covid.toml"), "--no-tearsheets",
                        "--out", str(elsewhere / "out")], elsewhere, data_dir)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (elsewhere / "out" / "report.html").is_file() and (elsewhere / "out" / "findings.md").is_file()
