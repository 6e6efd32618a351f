"""credit_spreads on the real snapshot: HY OAS widening in March 2020, one business day of lag."""
import pandas as pd
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "credit_spreads"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_bar_sees_the_previous_business_days_spread(out):
    oas = raw("fred", "BAMLH0A0HYM2")
    assert out.loc["2020-03-17", "reading"] == pytest.approx(oas.loc["2020-03-16"]) == pytest.approx(8.38)
    assert out.loc["2020-03-16", "reading"] == pytest.approx(oas.loc["2020-03-13"])


def test_march_2020_widening_is_risk_off(out):
    assert out.loc["2020-02-21", "state"] == RISK_ON
    assert out.loc["2020-02-28", "state"] == CAUTION  # +79 bp in 20 bars
    row = out.loc["2020-03-09"]
    assert row["widening_bp"] == pytest.approx(194) and row["state"] == RISK_OFF
    assert (out.loc["2020-03-09":"2020-04-03", "state"] == RISK_OFF).all()
    assert out.loc["2020-03-24", "widening_bp"] > 600


def test_history_from_1997_and_quiet_2017(out):
    assert out["reading"].first_valid_index() == pd.Timestamp("1997-01-02")  # the 1996-12-31 print, a bar later
    assert out.loc["1997-02-03", "state"] == RISK_ON
    assert (out.loc["2017", "state"] == RISK_OFF).sum() == 0
    assert (out.loc["2008-09-15":"2008-12-31", "state"] == RISK_OFF).sum() >= 30
