"""The command line: --version, one table style, show/check commands, logging levels, data status."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from riskoff import __version__
from riskoff.cli import main
from riskoff.data import fetch as F

ROOT = Path(__file__).resolve().parents[1]
RULE = re.compile(r"^\s*─{20,}\s*$", re.M)


def cli(args, capsys) -> tuple[int, str, str]:
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"riskoff {__version__}"


@pytest.mark.parametrize("args, first_col", [(["signals", "list"], "name"), (["strategies", "list"], "name"),
                                             (["windows", "list"], "id")])
def test_every_list_is_the_same_table_style(args, first_col, capsys):
    rc, out, _ = cli(args, capsys)
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_col])
    assert rc == 0 and RULE.match(lines[header + 1]), out[:500]
    assert re.match(r"^\d+ (signals|strategies|sell-off windows)", lines[0])


def test_strategies_show(capsys):
    rc, out, _ = cli(["strategies", "show", "k_of_n"], capsys)
    assert rc == 0 and out.startswith("k_of_n\n======")
    assert re.search(r"^\s+k\s+2\s", out, re.M) and "Parameters" in out


def test_strategies_check_passes_a_causal_rule_and_names_the_first_leaking_bar(tmp_path, capsys):
    rc, out, _ = cli(["strategies", "check", "any_off"], capsys)
    assert rc == 0 and "passes" in out
    leaky = tmp_path / "peek.py"
    leaky.write_text('"""Out when tomorrow closes lower."""\nNEEDS_SIGNALS = False\n'
                     "def target(ctx):\n    nxt = ctx.close.shift(-1)\n"
                     "    return (nxt >= ctx.close).astype(float).where(nxt.notna(), 1.0)\n")
    rc, out, _ = cli(["strategies", "check", str(leaky)], capsys)
    assert rc == 1 and "FAILS" in out
    m = re.search(r"first leaking bar (\S+): 'target' was (\S+) with the full data and (\S+) once the rows "
                  r"after (\S+) were removed", out)
    assert m, out
    # the last bar before each cut is the one that looked a day ahead: the earliest such cut's bar
    assert m.group(1) == m.group(4) and float(m.group(3)) == 1.0


def test_quiet_and_verbose_logging(capsys):
    cli(["-q", "signals", "check", "ma_break", "--start", "2019-01-01"], capsys)
    rc, out, err = cli(["signals", "check", "ma_break", "--start", "2019-01-01"], capsys)
    assert rc == 0 and "checking signal ma_break" in err
    rc, out, err = cli(["signals", "-q", "check", "ma_break", "--start", "2019-01-01"], capsys)
    assert rc == 0 and "checking signal" not in err and "passes" in out
    assert logging.getLogger("urllib3").level == logging.ERROR  # third-party quiet by default
    cli(["-v", "windows"], capsys)
    assert logging.getLogger("urllib3").level == logging.INFO


def test_data_status_flags_stale_series_and_states_the_next_end(tmp_path, capsys, monkeypatch):
    fred = tmp_path / "series" / "fred"
    fred.mkdir(parents=True)
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    (fred / "SOFR.csv").write_text(f"date,value\n2020-01-02,1.5\n{today - pd.Timedelta(days=30):%Y-%m-%d},4.3\n")
    (fred / "EFFR.csv").write_text(f"date,value\n{today - pd.Timedelta(days=1):%Y-%m-%d},4.3\n")
    monkeypatch.chdir(tmp_path)
    rc, out, _ = cli(["data", "status", "--data-dir", str(tmp_path)], capsys)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rc == 0 and rows["SOFR"][2] == "STALE" and rows["SOFR"][6] == "30"
    assert rows["EFFR"][2] == "ok" and rows["SPY"][2] == "missing"
    assert re.search(r"1 past their max_stale_days", out) and "next run: cannot tell" in out
    assert len(max(out.splitlines(), key=len)) <= 200


def test_data_status_next_end_for_a_config(data_dir, capsys):
    rc, out, _ = cli(["data", "status", "--data-dir", str(data_dir), "--config",
                      str(ROOT / "backtests" / "selloffs.toml")], capsys)
    m = re.search(r"next run of .*selloffs.toml: ends (\d{4}-\d{2}-\d{2}) \(.*limited by (\S+)\)", out)
    assert rc == 0 and m, out[-400:]
    limiting = m.group(2)
    lasts = {line.split()[0]: line.split()[5] for line in out.splitlines() if line.strip()[:1].isalpha()
             and len(line.split()) > 6}
    assert lasts[limiting][:10] == m.group(1)


def test_data_fetch_without_network_prints_a_table_not_objects(tmp_path, capsys, monkeypatch):
    def unreachable(*a, **k):
        def get(url, timeout=None):
            raise ConnectionError("Name or service not known")
        return get
    monkeypatch.setattr(F, "default_get", unreachable)
    rc, out, err = cli(["data", "fetch", "SOFR", "--data-dir", str(tmp_path)], capsys)
    assert rc == 1 and "FetchReport(" not in out + err and "Traceback" not in err
    assert re.search(r"SOFR\s+FAILED\s+fred", out)


def test_signals_check_passes_a_causal_signal_with_a_short_docstring_and_notes_it(tmp_path, capsys):
    # the verdict is about look-ahead and output; documentation is a note (the README says so)
    from riskoff.run.scaffold import _SIGNAL

    short = '"""SPY drawdown from its rolling high."""\n' + _SIGNAL.split('"""', 2)[2]
    (tmp_path / "short_doc.py").write_text(short)
    rc, out, err = cli(["signals", "check", str(tmp_path / "short_doc.py"), "--start", "2019-01-01"], capsys)
    assert rc == 0 and "passes" in out, out + err
    assert "note: signal short_doc: docstring too short" in out
    # a rule module handed to `signals check` is named as such, not reported as a broken signal
    rule = tmp_path / "my_rule.py"
    rule.write_text(Path(ROOT / "strategies" / "any_off.py").read_text())
    rc, out, err = cli(["signals", "check", str(rule)], capsys)
    assert rc == 2 and "a strategy rule module, not a signal" in err and "riskoff strategies check" in err


@pytest.mark.parametrize("kind", ["folder", "dangling symlink"])
def test_an_existing_out_is_refused_before_any_work(kind, tmp_path, capsys, monkeypatch):
    import riskoff.run.runner as runner

    out = tmp_path / "out"
    if kind == "folder":
        out.mkdir()
    else:
        out.symlink_to(tmp_path / "nowhere")

    def no_work(*a, **k):
        raise AssertionError("the run started before --out was checked")
    monkeypatch.setattr(runner, "simulate_config", no_work)
    rc, out_text, err = cli(["run", str(ROOT / "tests" / "fixtures" / "configs" / "small.toml"), "--out", str(out)],
                            capsys)
    assert rc == 2 and f"--out {out} already exists" in err
    assert out.is_symlink() or out.is_dir()
