"""Conformance suite for every signal ``discover()`` finds (a new plug-in is covered automatically).

Causality (truncation invariance on the real snapshot, with cuts inside the sell-offs), determinism,
output shape, declared warm-up, parameter validation, docs, and the plug-in contract itself: a
brand-new module runs end to end and broken modules fail with a PluginError naming the module.
The deliberately leaky fixtures in tests/fixtures/leaky_signals must be caught by the same check.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_testdata import (
    INTRADAY_START,
    LEAKY_DIR,
    frame_for,
    is_intraday,
    output_for,
    registry,
    vix_frame,
)

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.signals.contract import (
    discover,
    format_list,
    format_show,
    hysteresis,
    spec_from_module,
)
from riskoff.signals.evaluate import evaluate, run_signal
from riskoff.testing import (
    SELLOFF_CUTS,
    cut_points,
    output_problems,
    param_problems,
    truncation_leaks,
    warmup_problems,
)
from riskoff.util.errors import ConfigError, PluginError

SHIPPED = {"vix_mean_reversion", "mvrv_bands", "funding_spreads", "sofr_iorb_spread", "breadth_collapse",
           "ma_break", "yield_stability", "cross_asset_liquidation",
           "rv_spike", "crash_speed", "range_volume_shock", "funding_flips", "us_stress_hourly",
           # issue 12: every indicator the sell-off accounts name
           "vol_of_vol", "tail_pricing", "net_liquidity", "bank_reserves", "credit_spreads", "financial_conditions",
           "labour_stress", "dollar_squeeze", "etf_flows", "crypto_sentiment", "metals_liquidation"}
SIGNALS = sorted(discover().signals)


def test_shipped_signals_are_discovered_without_errors():
    reg = registry()
    assert SHIPPED <= set(reg.signals), sorted(SHIPPED - set(reg.signals))
    assert not reg.errors, {k: str(v) for k, v in reg.errors.items()}


# ---------------------------------------------------------------- per-signal conformance

@pytest.mark.parametrize("name", SIGNALS)
def test_truncation_invariance(name):
    spec = registry().get(name)
    frame = frame_for(name)
    cuts = cut_points(frame.index, SELLOFF_CUTS, n_random=3)
    assert len(cuts) >= 8, f"too few cut dates inside the data of {name}"
    problems = truncation_leaks(spec, frame, cuts, n_random=0)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("end", ["2020-03-16", "2026-02-05"])
@pytest.mark.parametrize("name", SIGNALS)
def test_run_signal_with_an_end_date_matches_the_full_run(name, end):
    """The user path: run_signal(end=t) loads data only up to t and must agree with the full run.

    A signal whose data begins after t (etf_flows: 2024-01) returns no rows: no made-up history."""
    spec = registry().get(name)
    start = INTRADAY_START if is_intraday(name) else "2019-06-01"
    if is_intraday(name) and end < start:
        end = "2022-11-09"  # intraday data starts 2021: the FTX week instead of March 2020
    if output_for(name)["reading"].first_valid_index() > pd.Timestamp(end):
        cut = run_signal(spec, start=start, end=end, calendar=spec.calendar)
        assert cut.empty and {"reading", "state"} <= set(cut.columns)
        return
    cut = run_signal(spec, start=start, end=end, calendar=spec.calendar)
    full = output_for(name).loc[start:pd.Timestamp(end) + pd.Timedelta(hours=23 if is_intraday(name) else 0)]
    assert cut.index.equals(full.index)
    for col in full.columns:
        np.testing.assert_allclose(cut[col].to_numpy(), full[col].to_numpy(), rtol=0, atol=1e-12,
                                   err_msg=f"{name}.{col} differs when the run ends {end}")


@pytest.mark.parametrize("name", SIGNALS)
def test_readings_map_onto_the_other_calendar(name):
    spec = registry().get(name)
    if is_intraday(name):
        month = ("2025-10-01", "2025-10-30")
    elif output_for(name)["reading"].first_valid_index() < pd.Timestamp("2020-03-02"):
        month = ("2020-03-02", "2020-03-31")
    else:  # a signal whose data starts later (etf_flows): the February 2026 sell-off
        month = ("2026-02-02", "2026-03-03")
    days = (pd.Timestamp(month[1]) - pd.Timestamp(month[0])).days + 1
    for other in [c for c in ("us", "utc", "1h") if c != spec.calendar]:
        mapped = run_signal(spec, start=month[0], end=month[1], calendar=other)
        assert mapped["state"].notna().any(), other
        assert set(mapped["state"].dropna().unique()) <= {RISK_ON, CAUTION, RISK_OFF}
        if other == "us":
            assert mapped.index.dayofweek.max() < 5
        elif other == "utc":
            assert len(mapped) == days
        else:
            assert len(mapped) == days * 24


@pytest.mark.parametrize("name", SIGNALS)
def test_deterministic_index_and_states(name):
    spec = registry().get(name)
    frame = frame_for(name)
    problems = output_problems(spec, frame)
    assert not problems, "\n".join(problems)
    out = evaluate(spec, frame)
    assert out.index.equals(frame.index)
    states = set(np.unique(out["state"].dropna().to_numpy()))
    assert states <= {RISK_ON, CAUTION, RISK_OFF}
    assert out["reading"].dtype == np.float64 and out["state"].dtype == np.float64
    # every signal says something on the real data: some risk-on, and risk-off at some point
    assert RISK_ON in states and RISK_OFF in states, f"{name}: states seen {sorted(states)}"


@pytest.mark.parametrize("name", SIGNALS)
def test_nan_reading_only_during_declared_warmup(name):
    spec = registry().get(name)
    problems = warmup_problems(spec, frame_for(name))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SIGNALS)
def test_parameter_validation(name):
    spec = registry().get(name)
    assert not param_problems(spec), "\n".join(param_problems(spec))
    for p in spec.params:  # the same, spelled out: out of range names signal, parameter and range
        if p.choices is None and not isinstance(p.default, bool) and p.low is not None:
            with pytest.raises(ConfigError) as err:
                spec.resolve({p.name: type(p.default)(p.low - 1)})
            msg = str(err.value)
            assert spec.name in msg and p.name in msg and p.range_text() in msg
        if p.choices is not None:
            with pytest.raises(ConfigError, match="expected one of"):
                spec.resolve({p.name: "definitely-not-a-choice"})
    if spec.params:
        first = spec.params[0].name
        with pytest.raises(ConfigError, match=rf"did you mean '{first}'"):
            spec.resolve({first + "s": spec.params[0].default})


@pytest.mark.parametrize("name", SIGNALS)
def test_docs_and_declarations(name):
    spec = registry().get(name)
    assert spec.summary and len(spec.doc.splitlines()) >= 5, f"{name}: docstring too short"
    assert spec.calendar in ("us", "utc", "1h")
    assert spec.warmup() >= 0
    text = format_show(spec)
    assert name in text and spec.summary in text and "Parameters:" in text
    for p in spec.params:
        assert p.name in text
        assert p.description, f"{name}.{p.name} has no description"


def test_format_list_shows_every_signal_and_the_failures(tmp_path):
    (tmp_path / "broken_sig.py").write_text("def compute(:\n")
    reg = discover([tmp_path])
    text = format_list(reg)
    for name in SHIPPED:
        assert name in text
    assert "failed to load" in text and "broken_sig" in text
    assert "window=20 (5 .. 250)" in text  # vix_mean_reversion's window with its range


# ---------------------------------------------------------------- the leak detector catches leaks

@pytest.mark.parametrize("module", ["leaky_zscore", "leaky_centred", "leaky_bfill"])
def test_truncation_check_reports_leaky_fixtures(module):
    reg = discover([LEAKY_DIR])
    assert module in reg.signals, reg.errors
    spec = reg.get(module)
    problems = truncation_leaks(spec, vix_frame(), SELLOFF_CUTS, n_random=0)
    assert problems, f"{module} is leaky but the truncation check passed it"
    assert all(module in p and "look-ahead" in p for p in problems)


def test_leaky_fixtures_are_not_shipped():
    assert not any(name.startswith("leaky_") for name in SIGNALS)


# ---------------------------------------------------------------- the hysteresis helper is causal

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=60),
       st.integers(min_value=0, max_value=59))
def test_hysteresis_is_prefix_invariant(rows, cut):
    idx = pd.date_range("2020-01-01", periods=len(rows))
    enter = pd.Series([r[0] for r in rows], idx)
    leave = pd.Series([r[1] for r in rows], idx)
    valid = pd.Series([r[2] for r in rows], idx)
    full = hysteresis(enter, leave, valid)
    k = min(cut, len(rows) - 1) + 1
    part = hysteresis(enter.iloc[:k], leave.iloc[:k], valid.iloc[:k])
    pd.testing.assert_series_equal(part, full.iloc[:k])
    assert full[~valid].isna().all() and full[valid].isin([0.0, 1.0]).all()


def test_hysteresis_latches_until_leave():
    idx = pd.date_range("2020-01-01", periods=6)
    enter = pd.Series([False, True, False, False, False, False], idx)
    leave = pd.Series([True, False, False, True, False, False], idx)
    assert hysteresis(enter, leave).tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]


# ---------------------------------------------------------------- the plug-in contract

NEW_PLUGIN = '''"""BTC below its 30-day average: a brand-new plug-in written by a test.

Reads the BTC-USD close on UTC days. Risk-off below the average, risk-on above.
"""
from ta.trend import sma_indicator
from riskoff import Param, RISK_OFF, RISK_ON, signal_frame

INPUTS = ["BTC-USD.close"]
CALENDAR = "utc"
PARAMS = [Param("window", 30, low=5, high=400, description="average length")]
WARMUP = lambda window, **_: window - 1


def compute(data, window=30):
    close = data["BTC-USD.close"]
    ma = sma_indicator(close, window)
    return signal_frame(close / ma - 1, (close < ma).map({True: RISK_OFF, False: RISK_ON}).where(ma.notna()))
'''


def test_new_plugin_runs_end_to_end(tmp_path):
    (tmp_path / "btc_trend.py").write_text(NEW_PLUGIN)
    reg = discover([tmp_path])
    assert "btc_trend" in reg.signals and SHIPPED <= set(reg.signals)
    spec = reg.get("btc_trend")
    assert spec.origin.endswith("btc_trend.py") and spec.warmup() == 29 and spec.calendar == "utc"
    native = run_signal(spec, start="2020-03-01", end="2020-03-31", calendar="utc")
    assert len(native) == 31 and native["state"].notna().all()
    assert native.loc["2020-03-13", "state"] == RISK_OFF  # sees the 2020-03-12 crash close
    us = run_signal(spec, start="2020-03-01", end="2020-03-31", calendar="us")
    assert us.index.dayofweek.max() < 5 and us["state"].notna().all()
    # a UTC day's reading reaches the next US bar, never the same US day
    assert us.loc["2020-03-13", "reading"] == native.loc["2020-03-12", "reading"]
    problems = truncation_leaks(spec, frame_for_spec(spec), n_random=2)
    assert not problems, problems


def frame_for_spec(spec):
    from riskoff.signals.evaluate import load_signal_data
    return load_signal_data(spec, "2015-01-01", "2026-06-30", stale="allow")


BROKEN = {
    "bad_syntax": ("def compute(data:\n", "SyntaxError"),
    "no_compute": ('INPUTS = ["SPY.close"]\n', "defines no compute"),
    "string_inputs": ('INPUTS = "SPY.close"\ndef compute(data):\n    return data\n', "INPUTS"),
    "empty_inputs": ('INPUTS = []\ndef compute(data):\n    return data\n', "INPUTS"),
    "bad_calendar": ('INPUTS = ["SPY.close"]\nCALENDAR = "tokyo"\ndef compute(data):\n    return data\n', "CALENDAR"),
    "bad_warmup": ('INPUTS = ["SPY.close"]\nWARMUP = "windw"\ndef compute(data):\n    return data\n', "WARMUP"),
    "param_without_arg": ('from riskoff import Param\nINPUTS = ["SPY.close"]\nPARAMS = [Param("n", 3)]\n'
                          'def compute(data):\n    return data\n', "no argument for declared parameter 'n'"),
    "bad_default": ('from riskoff import Param\nINPUTS = ["SPY.close"]\nPARAMS = [Param("n", 3, low=5)]\n'
                    'def compute(data, n=3):\n    return data\n', "default of parameter 'n'"),
    "import_error": ("import no_such_module_xyz\n", "ModuleNotFoundError"),
    "bad_revised": ('INPUTS = ["SPY.close"]\nREVISED = "yes"\ndef compute(data):\n    return data\n', "REVISED"),
}


def test_broken_plugins_fail_clearly_and_the_others_still_load(tmp_path):
    for name, (code, _) in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(code)
    (tmp_path / "btc_trend.py").write_text(NEW_PLUGIN)
    reg = discover([tmp_path])
    assert SHIPPED | {"btc_trend"} <= set(reg.signals)
    for name, (_, needle) in BROKEN.items():
        assert name in reg.errors, f"{name} loaded although it is broken"
        err = reg.errors[name]
        assert isinstance(err, PluginError)
        assert f"{name}.py" in str(err) and needle in str(err), str(err)
        with pytest.raises(PluginError, match=name):
            reg.get(name)


def test_revised_inputs_are_flagged_in_list_and_show():
    reg = registry()
    revised = {name for name, spec in reg.signals.items() if spec.revised}
    assert {"labour_stress", "financial_conditions"} <= revised and "vix_mean_reversion" not in revised
    assert "revised = true" in format_show(reg.get("labour_stress"))
    assert "revised = false" in format_show(reg.get("vix_mean_reversion"))
    listing = format_list(reg)
    assert "labour_stress  [us, revised]" in listing and "vix_mean_reversion  [us]" in listing


def test_unknown_signal_name_suggests_a_close_one():
    with pytest.raises(PluginError, match="did you mean 'ma_break'"):
        registry().get("ma_brake")


def test_runtime_contract_violations_name_the_signal(tmp_path):
    (tmp_path / "wrong_index.py").write_text(
        'from riskoff import signal_frame\nINPUTS = ["VIX.close"]\n'
        'def compute(data):\n    v = data["VIX.close"].iloc[1:]\n    return signal_frame(v, v * 0)\n')
    (tmp_path / "bad_state.py").write_text(
        'from riskoff import signal_frame\nINPUTS = ["VIX.close"]\n'
        'def compute(data):\n    v = data["VIX.close"]\n    return signal_frame(v, v * 0 + 7)\n')
    (tmp_path / "crashes.py").write_text('INPUTS = ["VIX.close"]\ndef compute(data):\n    return 1 / 0\n')
    (tmp_path / "no_frame.py").write_text('INPUTS = ["VIX.close"]\ndef compute(data):\n    return data["VIX.close"]\n')
    reg = discover([tmp_path])
    frame = vix_frame()
    for name, needle in [("wrong_index", "index"), ("bad_state", "not RISK_ON"), ("crashes", "ZeroDivisionError"),
                         ("no_frame", "signal_frame")]:
        with pytest.raises(PluginError, match=name) as err:
            evaluate(reg.get(name), frame)
        assert needle in str(err.value)
    with pytest.raises(PluginError, match=r"input column\(s\) \['VIX.close'\]"):
        evaluate(reg.get("crashes"), frame.drop(columns=["VIX.close"]))


def test_spec_from_module_rejects_non_module_contracts():
    class Fake:
        INPUTS = ["SPY.close"]
        PARAMS = "window"

        @staticmethod
        def compute(data):
            return data
    with pytest.raises(PluginError, match="PARAMS"):
        spec_from_module(Fake, "fake.py")
