"""Fuzzing: random run and sweep configs and randomly corrupted data files never end in a traceback.

Every generated run or sweep config either runs (a ~60-bar span, report and tearsheets off) or ends with
exit 2 and one ``riskoff: error:`` line; nothing is written outside the chosen ``--out`` folder.
Every corrupted copy of a real data file either loads or raises a RiskoffError (a message naming
the file), never another exception. CI sizes: RUN_EXAMPLES / SWEEP_EXAMPLES / DATA_EXAMPLES;
``RISKOFF_SOAK=1`` runs 240 / 100 / 3000. Oversized grids fail at plan time.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import CATALOG, run_cli

from riskoff.data import load, read_series
from riskoff.util.errors import RiskoffError
from riskoff.util.paths import PROJECT_ROOT

SOAK = os.environ.get("RISKOFF_SOAK") == "1"
RUN_EXAMPLES = 240 if SOAK else 12
DATA_EXAMPLES = 3000 if SOAK else 150
TRIED = {"run_ok": 0, "run_error": 0, "sweep_ok": 0, "sweep_error": 0, "data_ok": 0, "data_error": 0}

# ---------------------------------------------------------------- a small TOML writer for the generated docs


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if v == v and abs(v) != float("inf") else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))  # JSON string escapes are valid TOML basic-string escapes


def to_toml(doc: dict) -> str:
    out = []
    for table, body in doc.items():
        if isinstance(body, list):
            for item in body:
                out.append(f"[[{table}]]")
                out += [f"{json.dumps(k)} = {_value(v)}" for k, v in item.items()]
        else:
            out.append(f"[{table}]")
            out += [f"{json.dumps(k)} = {_value(v)}" for k, v in body.items()]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- run configs

names = st.one_of(st.sampled_from(["probe", "../escape", "a/b", "C:\\x", "ünïcødé-ラン", "", " ", "x" * 300]),
                  st.text(min_size=0, max_size=20))
signal_names = st.sampled_from(["vix_mean_reversion", "ma_break", "yield_stability", "vix_mean_reversoin",
                                "../signals/ma_break", "", "mvrv_bands"])
rules = st.sampled_from(["any_off", "all_off", "k_of_n", "buy_and_hold", "vol_target", "any_of", "ma_timing"])
any_scalar = st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=8), st.booleans())


VALID_RUN = {
    "run": {"name": "probe", "start": dt.date(2020, 1, 2), "end": dt.date(2020, 3, 31), "assets": ["SPY"],
            "engine": "numba", "tearsheets": "none"},
    "baselines": {"rules": ["buy_and_hold"]},
    "signals_alone": {"signals": ["vix_mean_reversion"]},
}

#: (table, key, values): each mutation sets one key of a valid config to a drawn value
MUTATIONS = [
    ("run", "name", names),
    ("run", "start", st.one_of(st.sampled_from(["2020-13-01", "yesterday", "1890-01-01", "2030-01-01",
                                                dt.date(2019, 12, 2)]), any_scalar)),
    ("run", "end", st.one_of(st.sampled_from(["2019-01-01", "auto", "2099-12-31", dt.date(2020, 2, 28)]),
                             any_scalar)),
    ("run", "assets", st.one_of(st.lists(st.sampled_from(["SPY", "QQQ", "SPYY", "SOFR", "BTC-USD", ""]),
                                         min_size=0, max_size=3), any_scalar)),
    ("run", "fill", st.sampled_from(["next_close", "next_open", "close", 1])),
    ("run", "cash", st.sampled_from(["money_market", "SOFR", "none", "IORB"])),
    ("run", "workers", st.one_of(st.integers(-2, 100), st.just("2"))),
    ("run", "plugin_time_limit", st.one_of(st.floats(-1, 1e6), st.just("60"))),
    ("run", "tearsheets", st.sampled_from(["none", ["buy_and_hold"], ["nope"], 3])),
    ("run", "plugin_dirs", st.sampled_from([[], ["/nonexistent"], "signals", [3]])),
    ("run", "strat", any_scalar),
    ("baselines", "rules", st.sampled_from([["buy_and_hold", "ma_timing"], [], ["buy_and_hold", "nope"], "x"])),
    ("signals_alone", "signals", st.lists(signal_names, max_size=2)),
    ("signals_alone", "overlays", st.sampled_from([{}, {"min_bars_out": 2}, {"min_bars_out": -5},
                                                   {"trailing_stop": 1.5}, {"bogus": 1}, 7])),
    ("signals_alone", "params", st.sampled_from([{}, {"window": 10**9}, {"windw": 3}])),
    ("windows", "my_crash", st.sampled_from([{"start": "2020-02-19", "trough": "2020-03-23", "end": "2020-06-08"},
                                             {"start": "2020-03-01", "trough": "2019-01-01", "end": "2020-02-01"},
                                             "nope"])),
    ("series", "MY/ETF", st.sampled_from([{"family": "prices"}, {"family": "nope"}, {}])),
    ("costs", "equity", st.sampled_from([{"fee_bps": 5}, {"fee_bps": -1}, {"fee": 1}, "x"])),
]


@st.composite
def run_configs(draw) -> dict:
    """A valid run config with 0-3 keys set to drawn values (valid, wrong type, out of range,
    unknown, unicode or path-separator names)."""
    doc = json.loads(json.dumps(VALID_RUN, default=str))
    for idx in draw(st.lists(st.integers(0, len(MUTATIONS) - 1), max_size=3)):
        table, key, values = MUTATIONS[idx]
        doc.setdefault(table, {})[key] = draw(values)
    if draw(st.integers(0, 4)) == 0:
        doc["strategies"] = [{"name": draw(names), "rule": draw(rules),
                              "signals": draw(st.lists(signal_names, max_size=2)),
                              "params": draw(st.sampled_from([{}, {"k": 1}, {"k": 10**6}, {"windw": 3}]))}]
    return doc


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@settings(max_examples=RUN_EXAMPLES, deadline=None, derandomize=not SOAK,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=run_configs())
def test_random_run_configs_run_or_fail_cleanly(doc, data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RISKOFF_PARQUET_CACHE", "0")  # the parse cache would write under data/cache
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    cfg = work / "fuzz.toml"
    cfg.write_text(to_toml(doc), encoding="utf-8")
    out = work / "out" / "run"
    project_before = _tree(PROJECT_ROOT / "results")
    rc, _, err = run_cli(["run", str(cfg), "--data-dir", str(data_dir), "--out", str(out),
                          "--no-report", "--no-tearsheets"], capsys)
    assert "Traceback" not in err
    if rc == 0:
        TRIED["run_ok"] += 1
        assert (out / "summary.json").exists()
    else:
        TRIED["run_error"] += 1
        assert rc == 2, err
        assert err.count("riskoff: error:") == 1, err
        assert not out.exists()
    # nothing outside the chosen folder: the work dir holds the config and out/ only
    assert _tree(work) - {"fuzz.toml", "out"} <= {f"out/{p}" for p in _tree(out.parent)}
    assert {p.split("/")[0] for p in _tree(out.parent)} <= ({"run"} if rc == 0 else set())
    assert _tree(PROJECT_ROOT / "results") == project_before


# ---------------------------------------------------------------- sweep configs

SWEEP_EXAMPLE = PROJECT_ROOT / "backtests" / "sweep_ma.toml"
SWEEP_EXAMPLES = 100 if SOAK else 8


def small_sweep() -> dict:
    """The shipped sweep example cut to SPY, a ~60-bar span and two values per grid key, without
    walk-forward: built from the example file, so it follows the sweep layout wherever the keys live."""
    import tomllib
    doc = tomllib.loads(SWEEP_EXAMPLE.read_text())
    doc.pop("walk_forward", None)
    for table in doc.values():
        if isinstance(table, dict):
            for key, value in (("start", "2020-01-02"), ("end", "2020-03-31"), ("assets", ["SPY"])):
                if key in table:
                    table[key] = value
    for key, value in doc["grid"].items():
        if isinstance(value, dict):
            value = [value["start"], value["start"] + value.get("step", 1)]
        doc["grid"][key] = value[:2] if isinstance(value, list) else value
    return doc


@st.composite
def sweep_configs(draw) -> dict:
    """The small sweep with 0-3 keys (of any table, or unknown ones) set to drawn values,
    including grids far over the combination limit."""
    doc = small_sweep()
    slots = [(t, k) for t, table in doc.items() if isinstance(table, dict) for k in table] + \
        [("grid", "rule.windw"), ("grid", "nope.x"), ("sweep", "bogus"), ("strategy", "signals")]
    huge = st.just({"start": 1, "stop": 10**6, "step": 1})
    for t, k in draw(st.lists(st.sampled_from(slots), max_size=3)):
        doc.setdefault(t, {})[k] = draw(st.one_of(any_scalar, names, huge, st.lists(any_scalar, max_size=3),
                                                  st.sampled_from([[], ["SPY", "SPYY"], {"start": 5}])))
    return doc


@settings(max_examples=SWEEP_EXAMPLES, deadline=None, derandomize=not SOAK,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=sweep_configs())
def test_random_sweep_configs_run_or_fail_cleanly(doc, data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RISKOFF_PARQUET_CACHE", "0")
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    cfg = work / "sweep.toml"
    cfg.write_text(to_toml(doc), encoding="utf-8")
    out = work / "out" / "sweep"
    project_before = _tree(PROJECT_ROOT / "results")
    rc, _, err = run_cli(["sweep", str(cfg), "--data-dir", str(data_dir), "--out", str(out)], capsys)
    assert "Traceback" not in err
    if rc == 0:
        TRIED["sweep_ok"] += 1
        assert (out / "summary.json").exists()
    else:
        TRIED["sweep_error"] += 1
        assert rc == 2 and err.count("riskoff: error:") == 1, err
        assert not out.exists()
    assert _tree(work) - {"sweep.toml", "out"} <= {f"out/{p}" for p in _tree(out.parent)}
    assert {p.split("/")[0] for p in _tree(out.parent)} <= ({"sweep"} if rc == 0 else set())
    assert _tree(PROJECT_ROOT / "results") == project_before


def test_oversized_grid_fails_at_plan_time(data_dir, tmp_path, capsys):
    import time
    doc = small_sweep()
    first, second = list(doc["grid"])[:2]
    doc["grid"][first] = {"start": 2, "stop": 1000, "step": 1}
    doc["grid"][second] = {"start": 0.0, "stop": 0.5, "step": 0.0001}
    cfg = tmp_path / "huge.toml"
    cfg.write_text(to_toml(doc))
    out = tmp_path / "out" / "sweep"
    t0 = time.perf_counter()
    rc, _, err = run_cli(["sweep", str(cfg), "--data-dir", str(data_dir), "--out", str(out)], capsys)
    assert rc == 2 and "combinations" in err and err.count("riskoff: error:") == 1, err
    assert time.perf_counter() - t0 < 10  # refused from the plan, before any data is simulated
    assert not out.parent.exists()


# ---------------------------------------------------------------- corrupted data files

SLICE = ("2019-10-01", "2020-06-30")


@pytest.fixture(scope="module")
def spy_lines(data_dir) -> list[str]:
    lines = (data_dir / CATALOG["SPY"].relpath()).read_text().splitlines()
    return [lines[0]] + [ln for ln in lines[1:] if SLICE[0] <= ln[:10] <= SLICE[1]]


@st.composite
def corruptions(draw, n_lines: int):
    kinds = st.sampled_from(["byte", "delete_row", "duplicate_row", "swap_rows", "drop_column", "add_column",
                             "truncate", "blank_cell", "scale_cell", "header"])
    return [(draw(kinds), draw(st.integers(0, n_lines - 1)), draw(st.integers(0, 10**6)),
             draw(st.binary(min_size=1, max_size=3))) for _ in range(draw(st.integers(1, 4)))]


def corrupt(lines: list[str], ops) -> bytes:
    lines = list(lines)
    raw = None
    for kind, i, r, junk in ops:
        i = min(i, len(lines) - 1)
        if kind == "delete_row" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate_row":
            lines.insert(i, lines[i])
        elif kind == "swap_rows" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif kind == "drop_column":
            col = r % 6
            lines = [",".join(f for j, f in enumerate(ln.split(",")) if j != col) for ln in lines]
        elif kind == "add_column":
            lines = [ln + ("," + str(r) if k else ",extra") for k, ln in enumerate(lines)]
        elif kind == "blank_cell" or kind == "scale_cell":
            fields = lines[i].split(",")
            j = 1 + r % max(1, len(fields) - 1)
            if j < len(fields):
                fields[j] = "" if kind == "blank_cell" else str(float(fields[j] or 1) * (10 ** (r % 5)) if
                                                                  fields[j].replace(".", "").isdigit() else fields[j])
            lines[i] = ",".join(fields)
        elif kind == "header":
            lines[0] = lines[0].replace("close", "Close") if r % 2 else lines[0].upper()
        elif kind == "truncate":
            raw = ("\n".join(lines) + "\n").encode()[: r % 4000]
        elif kind == "byte":
            data = bytearray(("\n".join(lines) + "\n").encode())
            pos = r % len(data)
            data[pos:pos + len(junk)] = junk
            raw = bytes(data)
            lines = raw.decode("utf-8", errors="replace").split("\n")[:-1] or [""]
    return raw if raw is not None else ("\n".join(lines) + "\n").encode()


@settings(max_examples=DATA_EXAMPLES, deadline=None, derandomize=not SOAK,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_data_file_loads_or_names_the_problem(data, spy_lines, tmp_path):
    ops = data.draw(corruptions(len(spy_lines)))
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    path = root / CATALOG["SPY"].relpath()
    path.parent.mkdir(parents=True)
    path.write_bytes(corrupt(spy_lines, ops))
    try:
        read_series(CATALOG["SPY"], root, parquet_cache=False)
        load(["SPY"], "2020-01-02", "2020-03-31", data_dir=root)
        TRIED["data_ok"] += 1
    except RiskoffError as exc:
        TRIED["data_error"] += 1
        assert str(path) in str(exc) and "\n" not in str(exc).strip(), str(exc)


def test_report_numbers_tried():
    """Runs last in this module: prints how many cases each fuzz test tried (for the closing note)."""
    print(f"\nfuzz cases tried: {TRIED}")
    assert sum(TRIED.values()) > 0
