"""financial_conditions on the real snapshot: NFCI released the Wednesday after its week; March 2020."""
import pytest
from raw_series import raw
from signal_testdata import output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "financial_conditions"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_weekly_value_not_visible_before_its_wednesday_release(out):
    nfci = raw("fred", "NFCI")
    # the week ending Friday 2020-03-13 (first positive print, 0.037) is published Wednesday 2020-03-18
    assert nfci.loc["2020-03-13"] == pytest.approx(0.037)
    assert out.loc["2020-03-17", "reading"] == pytest.approx(nfci.loc["2020-03-06"])
    assert out.loc["2020-03-18", "reading"] == pytest.approx(0.037)


def test_march_2020_tightening(out):
    assert out.loc["2020-03-11", "state"] == CAUTION  # -0.131, up 0.47 in four weeks
    assert out.loc["2020-03-18", "state"] == RISK_OFF
    assert (out.loc["2020-03-18":"2020-05-01", "state"] == RISK_OFF).all()
    assert (out.loc["2017", "state"] == RISK_ON).all()


def test_flagged_as_revised():
    spec = spec_named(NAME)
    assert spec.revised is True
    assert spec_named("credit_spreads").revised is False
