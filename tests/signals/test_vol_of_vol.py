"""vol_of_vol on the real snapshot: VVIX on Volmageddon (2018-02-05) and the COVID peak (2020-03-16)."""
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "vol_of_vol"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_volmageddon_close_is_risk_off_on_the_same_bar(out):
    # the 16:15 VVIX print is on view at the 17:00 decision of the same bar
    assert raw("cboe", "VVIX").loc["2018-02-05"] == pytest.approx(177.34)
    row = out.loc["2018-02-05"]
    assert row["reading"] == pytest.approx(177.34) and row["state"] == RISK_OFF
    assert out.loc["2018-02-02", "reading"] == pytest.approx(125.51) and out.loc["2018-02-02", "state"] == CAUTION


def test_covid_peak(out):
    row = out.loc["2020-03-16"]
    assert row["reading"] == pytest.approx(207.59) and row["state"] == RISK_OFF
    assert row["ratio"] == pytest.approx(207.59 / 82.69)  # VIX close 2020-03-16 = 82.69 (data README anchor)
    assert (out.loc["2020-03-12":"2020-03-20", "state"] == RISK_OFF).all()


def test_vvix_rich_against_a_calm_vix_is_caution(out):
    # January 2018: VIX near 10, VVIX near 95, ratio above 9: tails bid before the blow-up
    jan = out.loc["2018-01-02":"2018-01-26"]
    assert (jan["ratio"] >= 9).sum() >= 5 and (jan.loc[jan["ratio"] >= 9, "state"] == CAUTION).all()
    assert (jan["reading"] < 115).all() and (jan.loc[jan["ratio"] < 9, "state"] == RISK_ON).all()


def test_calm_year_is_mostly_risk_on(out):
    y = out.loc["2017", "state"]
    assert (y == RISK_OFF).sum() == 0 and (y == RISK_ON).mean() > 0.5
