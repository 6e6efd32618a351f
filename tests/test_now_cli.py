"""``riskoff now`` on the command line: exit codes, staleness, bad instants, --state and --on-change.

Expected values come from the data files and the definitions (publication instants written here
from the catalog's documented times, alignment's own NaN past the staleness bound), not from the
read-out code.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from riskoff.cli import main

ROOT = Path(__file__).resolve().parents[1]
SELLOFFS = ROOT / "backtests" / "selloffs.toml"

ONE_RULE = """
[run]
name = "{name}"
start = 2015-01-01
end = "auto"
assets = ["SPY"]
engine = "numba"
[baselines]
rules = ["buy_and_hold"]
[[strategies]]
name = "{strategy}"
rule = "any_off"
signals = ["{signal}"]
overlays = {{ idle_exposure = 1.0 }}
"""


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["now", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def mirror(data_dir: Path, root: Path) -> Path:
    """The snapshot mirrored by symlinks, so single files can be replaced in the copy."""
    for src in (data_dir / "series").rglob("*.csv"):
        dst = root / src.relative_to(data_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, dst)
    return root


def cut(root: Path, relpath: str, last: str, column: str = "date") -> pd.DataFrame:
    """Replace ``root/relpath`` by a copy that stops at ``last`` (inclusive); returns the kept rows."""
    path = root / relpath
    frame = pd.read_csv(path.resolve(), dtype=str)
    kept = frame[frame[column] <= last]
    path.unlink()
    kept.to_csv(path, index=False)
    return kept


@pytest.mark.parametrize("as_of, needle", [
    ("not-a-date", "not an instant"),
    ("2999-01-01T00:00Z", "in the future"),
    ("2001-06-01", "before the data"),
])
def test_a_bad_instant_is_one_error_line_and_exit_2(capsys, data_dir, as_of, needle):
    code, out, err = run_cli(capsys, str(SELLOFFS), "--as-of", as_of, "--data-dir", str(data_dir))
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith("riskoff: error: --as-of") and needle in lines[0], err


def test_a_derisked_rule_with_fresh_inputs_exits_3_and_the_table_says_why(capsys, data_dir):
    from riskoff.reports.now import render

    code, out, _ = run_cli(capsys, str(SELLOFFS), "--as-of", "2026-03-20T21:30:00Z", "--json",
                           "--data-dir", str(data_dir))
    doc = json.loads(out)
    assert code == doc["exit_code"] == 3
    assert doc["stale"] == [] and doc["derisked"]
    assert all(not r["baseline"] for r in doc["records"] if f"{r['kind']}:{r['strategy']}/{r['asset']}"
               in doc["derisked"])
    # every required input's publication is at or before the instant (nothing from the future)
    assert all(i["published_at"] <= doc["as_of"] for i in doc["inputs"] if i["published_at"])
    text = render(doc)
    assert "exit 3: a rule decided a target below 1" in text
    assert all(r["strategy"] in text for r in doc["records"])


def test_a_stale_input_is_named_with_its_last_publication_signals_and_rules_exit_4(capsys, data_dir, tmp_path):
    from riskoff.data.align import load

    root = mirror(data_dir, tmp_path / "data")
    kept = cut(root, "series/cboe/VIX.csv", "2024-04-19")
    config = tmp_path / "vix.toml"
    config.write_text(ONE_RULE.format(name="vix", strategy="vix_alone", signal="vix_mean_reversion"))
    as_of = "2024-05-15T21:30:00Z"
    # the same instant on the whole snapshot: fresh (the cut is what makes it stale)
    code_full, out_full, _ = run_cli(capsys, str(config), "--as-of", as_of, "--json", "--data-dir", str(data_dir))
    assert json.loads(out_full)["stale"] == [] and code_full in (0, 3)

    code, out, err = run_cli(capsys, str(config), "--as-of", as_of, "--json", "--data-dir", str(root))
    doc = json.loads(out)
    assert code == doc["exit_code"] == 4, err
    assert doc["stale"] == ["VIX"]
    vix = next(i for i in doc["inputs"] if i["series"] == "VIX")
    # VIX closes are public at 16:15 New York on their date (catalog family cboe)
    published = pd.Timestamp(f"{kept['date'].iloc[-1]} 16:15").tz_localize("America/New_York").tz_convert("UTC")
    assert vix["last_observation"] == kept["date"].iloc[-1]
    assert vix["published_at"] == published.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert vix["signals"] == ["vix_mean_reversion"] and vix["rules"] == ["vix_alone/SPY"]
    note = next(n for n in doc["notes"] if n.startswith("STALE VIX"))
    assert vix["published_at"] in note and "vix_mean_reversion" in note and "vix_alone/SPY" in note
    rec = next(r for r in doc["records"] if r["strategy"] == "vix_alone")
    assert rec["stale_inputs"] == ["VIX"]
    # the signal reads no opinion, as alignment past the staleness bound does in a run; the rule
    # then holds its idle exposure
    aligned = load(["VIX"], "2024-05-01", rec["bar"], calendar="us", data_dir=root, stale="allow")
    assert pd.isna(aligned["VIX.close"].iloc[-1])
    sig = next(s for s in rec["signals"] if s["label"] == "vix_mean_reversion")
    assert sig["state"] == "no-opinion" and rec["decided"] == 1.0
    # the bound itself: max_stale_days (7 for the cboe family) after publication, carried up to it
    for offset, stale in ((-1, []), (0, []), (1, ["VIX"])):
        t = (published + pd.Timedelta(days=7, seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
        code_b, out_b, _ = run_cli(capsys, str(config), "--as-of", t, "--json", "--data-dir", str(root))
        assert json.loads(out_b)["stale"] == stale, t
    # the terminal form names it too, and exits the same way
    code_text, text, _ = run_cli(capsys, str(config), "--as-of", as_of, "--data-dir", str(root))
    assert code_text == 4 and "STALE VIX" in text and "exit 4: an input is stale" in text


HOOK = """
import sys
from pathlib import Path
Path(sys.argv[1]).write_text(sys.stdin.read())
Path(sys.argv[1] + ".argv").write_text(sys.argv[2])
"""


def test_state_prints_only_changes_and_on_change_gets_the_json_without_a_shell(capsys, data_dir, tmp_path):
    from riskoff.data.context import DataContext
    from riskoff.run.config import load_config
    from riskoff.run.now import parse_instant, readout

    config = tmp_path / "ma.toml"
    config.write_text(ONE_RULE.format(name="ma", strategy="ma_alone", signal="ma_break"))
    t1, t2 = "2026-03-19T21:30:00Z", "2026-03-20T21:30:00Z"
    cfg = load_config(config)
    data = DataContext.create(data_dir, cfg.series)
    before = {r.strategy: r.decided for r in readout(cfg, data, parse_instant(t1)).records}
    after = {r.strategy: r.decided for r in readout(cfg, data, parse_instant(t2)).records}
    assert before["ma_alone"] != after["ma_alone"]  # the data has a decision change between the two

    hook = tmp_path / "hook.py"
    hook.write_text(HOOK)
    got = tmp_path / "got.json"
    state = tmp_path / "state dir" / "now.json"
    state.parent.mkdir()
    literal = "a b;$HOME `x`"
    on_change = f"{sys.executable} {hook} '{got}' '{literal}'"
    args = [str(config), "--data-dir", str(data_dir), "--state", str(state), "--on-change", on_change]

    code, out, _ = run_cli(capsys, *args, "--as-of", t1)
    assert "first read-out" in out and state.exists() and not got.exists()
    first = json.loads(state.read_text())
    assert first["as_of"] == t1 and {r["strategy"] for r in first["records"]} == {"buy_and_hold", "ma_alone"}

    code, out, _ = run_cli(capsys, *args, "--as-of", t1)
    assert out.startswith(f"no change since {t1.replace('T', ' ').replace(':00Z', 'Z')}") and not got.exists()

    code, out, _ = run_cli(capsys, *args, "--as-of", t2)
    change = f"ma_alone/SPY: decided {before['ma_alone']:g} -> {after['ma_alone']:g}"
    assert change in out and "buy_and_hold" not in out
    sent = json.loads(got.read_text())
    assert sent["as_of"] == t2 and any(c.startswith(change) for c in sent["changes"])
    assert Path(str(got) + ".argv").read_text() == literal  # no shell expanded or split it
    assert json.loads(state.read_text())["as_of"] == t2
    assert sorted(p.name for p in state.parent.iterdir()) == ["now.json"]  # atomic: no temp file left


def test_on_change_needs_state_and_a_broken_state_file_is_one_error_line(capsys, data_dir, tmp_path):
    code, _, err = run_cli(capsys, str(SELLOFFS), "--on-change", "true", "--data-dir", str(data_dir))
    assert code == 2 and err.strip().splitlines() == [
        "riskoff: error: --on-change needs --state FILE (the previous read-out it compares with)"]
    bad = tmp_path / "state.json"
    bad.write_text("{not json")
    code, _, err = run_cli(capsys, str(SELLOFFS), "--state", str(bad), "--data-dir", str(data_dir))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(bad) in lines[0]


def _ny_utc(text: str) -> str:
    return pd.Timestamp(text).tz_localize("America/New_York").tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def test_next_release_of_weekly_h41_series_at_thursday_1630_and_one_second_either_side(data_dir, tmp_path):
    """WALCL for the week ending Wednesday is public Thursday 16:30 New York (catalog: fred, 1 business
    day, 16:30): one second before, the next release is that instant; at it, the new week is published
    and the next release is a week later."""
    from riskoff.data.context import DataContext
    from riskoff.run.config import load_config
    from riskoff.run.now import SCHEDULE, parse_instant, readout

    config = tmp_path / "liq.toml"
    config.write_text(ONE_RULE.format(name="liq", strategy="liquidity", signal="net_liquidity"))
    cfg = load_config(config)
    data = DataContext.create(data_dir, cfg.series)
    walcl = pd.read_csv(data_dir / "series/fred/WALCL.csv", dtype=str)["date"]
    thursday, wednesday, week_before = "2025-06-05", "2025-06-04", "2025-05-28"
    assert {wednesday, week_before} <= set(walcl)  # the file's own weeks
    at = _ny_utc(f"{thursday} 16:30")
    for offset, last, published, nxt in [
            (-1, week_before, _ny_utc("2025-05-29 16:30"), at),
            (0, wednesday, at, _ny_utc("2025-06-12 16:30")),
            (1, wednesday, at, _ny_utc("2025-06-12 16:30"))]:
        t = parse_instant(at) + pd.Timedelta(seconds=offset)
        doc = readout(cfg, data, t).as_dict()
        got = next(i for i in doc["inputs"] if i["series"] == "WALCL")
        assert (got["last_observation"], got["published_at"], got["next_release"], got["next_release_basis"]) == \
            (last, published, nxt, SCHEDULE), offset
        rec = next(r for r in doc["records"] if r["strategy"] == "liquidity")
        ins = [i for i in doc["inputs"] if i["series"] in rec["inputs"]]
        first = min(ins, key=lambda i: i["next_release"])
        assert rec["next_release"] == {"series": first["series"], "at": first["next_release"],
                                       "basis": first["next_release_basis"]}


def test_a_monthly_series_next_release_is_labelled_modelled_from_the_catalog_lag(data_dir):
    from riskoff.data.catalog import load_catalog
    from riskoff.run.now import MODELLED, next_release

    spec = load_catalog()["CPIAUCSL"]  # monthly, dated by the month it measures, lag 45 days at 08:30
    last = pd.Timestamp("2025-04-01")
    t = pd.Timestamp("2025-06-20T12:00")
    when, basis = next_release(spec, last, t, pd.DatetimeIndex([last]))
    # May's print: 2025-05-01 + 45 days = 2025-06-15 08:30 New York, before t; June's: 2025-07-16 08:30
    assert basis == MODELLED
    assert pd.Timestamp(when).strftime("%Y-%m-%dT%H:%M:%SZ") == _ny_utc("2025-07-16 08:30")


def test_newer_rows_in_the_live_cache_are_named_when_another_data_dir_is_read(capsys, data_dir, tmp_path,
                                                                               monkeypatch):
    from riskoff.util import paths

    root = mirror(data_dir, tmp_path / "data")
    cut(root, "series/fred/SOFR.csv", "2026-03-06")
    live = tmp_path / "live"
    (live / "series/fred").mkdir(parents=True)
    (live / "series/fred/SOFR.csv").write_text((data_dir / "series/fred/SOFR.csv").read_text())
    monkeypatch.setattr(paths, "LIVE_DATA_DIR", live)
    last = pd.read_csv(data_dir / "series/fred/SOFR.csv")["date"].iloc[-1]
    code, out, _ = run_cli(capsys, str(SELLOFFS), "--as-of", "2026-03-20T21:30:00Z", "--json", "--data-dir", str(root))
    note = next(n for n in json.loads(out)["notes"] if n.startswith("the live cache"))
    assert f"SOFR (through {last})" in note and str(root) in note
    # reading the full snapshot, whose SOFR is as new as the cache's: nothing to say
    code, out, _ = run_cli(capsys, str(SELLOFFS), "--as-of", "2026-03-20T21:30:00Z", "--json", "--data-dir",
                           str(data_dir))
    assert not any(n.startswith("the live cache") for n in json.loads(out)["notes"])
