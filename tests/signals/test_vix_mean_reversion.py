"""vix_mean_reversion on the real snapshot: the 2020, 2025 and 2026 spikes, hysteresis and the re-risk trigger."""
import pytest
from signal_testdata import frame_for, output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.signals.evaluate import evaluate
from riskoff.util.errors import ConfigError

NAME = "vix_mean_reversion"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_march_2020_spike_is_risk_off(out):
    row = out.loc["2020-03-16"]
    assert row["vix"] == pytest.approx(82.69)  # sanity anchor in the data README
    assert row["reading"] > 2.0 and row["state"] == RISK_OFF and row["latched"] == 1
    # latched from the first spike on 2020-02-24 straight through the crash
    span = out.loc["2020-02-24":"2020-03-23"]
    assert (span["latched"] == 1).all() and (span["state"] == RISK_OFF).all()
    assert out.loc["2020-02-21", "state"] == RISK_ON


def test_hysteresis_holds_between_exit_and_entry(out):
    # 2020-03-13: z fell to 1.37 (below entry 2.0, above exit 0.5) yet the state stays risk-off
    row = out.loc["2020-03-13"]
    assert 0.5 < row["reading"] < 2.0 and row["latched"] == 1


def test_reversion_is_the_re_risk_trigger(out):
    # z reverted inside the exit band on 2020-03-24 and the latch released; the still inverted term
    # structure (VIX/VIX3M >= 1.1) kept it risk-off until 2020-04-01, then caution (ratio > 1)
    assert out.loc["2020-03-24", "reading"] < 0.5 and out.loc["2020-03-24", "latched"] == 0
    assert out.loc["2020-03-31", "ts_ratio"] >= 1.1 and out.loc["2020-03-31", "state"] == RISK_OFF
    assert out.loc["2020-04-02", "state"] == CAUTION
    no_ts = evaluate(spec_named(NAME), frame_for(NAME), {"use_term_structure": False})
    assert no_ts.loc["2020-03-24", "state"] == RISK_ON


def test_2025_and_2026_selloffs(out):
    assert out.loc["2025-10-10", "state"] == RISK_OFF and out.loc["2025-10-10", "reading"] > 4
    assert (out.loc["2025-10-10":"2025-10-17", "state"] == RISK_OFF).all()
    assert out.loc["2025-10-20", "state"] == RISK_ON  # reverted: re-risk
    assert out.loc["2026-02-05", "state"] == RISK_OFF
    # the 2026-01-29/30 metals crash barely moved VIX (17.4): no opinion from this signal
    assert out.loc["2026-01-30", "state"] == RISK_ON and out.loc["2026-01-30", "vix"] < 18


def test_calm_years_are_mostly_risk_on(out):
    st = out["state"]
    assert (st.loc["2017"] == RISK_OFF).sum() == 0
    for year in ("2013", "2019", "2024"):
        assert (st.loc[year] == RISK_OFF).mean() < 0.1, year


def test_min_vix_turns_low_base_spikes_into_caution(out):
    # 2026-01-20 jumped 3.4 sigma but only to VIX 20.09 -> risk-off; a z-spike under VIX 20 is caution
    low = out[(out["reading"] > 2.0) & (out["vix"] < 20.0)]
    assert len(low) > 20
    assert (low["state"] >= CAUTION).all()


def test_cross_parameter_check():
    with pytest.raises(ConfigError, match="exit_z .* must be below entry_z"):
        evaluate(spec_named(NAME), frame_for(NAME), {"entry_z": 1.0, "exit_z": 1.5})
