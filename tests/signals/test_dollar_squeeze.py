"""dollar_squeeze on the real snapshot: the March 2020 dash for dollars and the September 2022 breakout."""
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "dollar_squeeze"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_reading_is_the_20_bar_return(out):
    uup = raw("prices", "UUP", "close")
    i = uup.index.get_loc(uup.loc["2020-03-19":].index[0])
    assert out.loc["2020-03-19", "reading"] == pytest.approx((uup.iloc[i] / uup.iloc[i - 20] - 1) * 100)


def test_march_2020_dash_for_dollars(out):
    assert out.loc["2020-03-16", "state"] == RISK_ON
    assert out.loc["2020-03-18", "state"] == CAUTION and out.loc["2020-03-18", "breakout"] == 1
    assert (out.loc["2020-03-19":"2020-03-23", "state"] == RISK_OFF).all()
    assert out.loc["2020-03-20", "reading"] == pytest.approx(4.40, abs=0.01)


def test_september_2022(out):
    assert out.loc["2022-09-21", "state"] == CAUTION
    assert out.loc["2022-09-26", "state"] == RISK_OFF and out.loc["2022-09-26", "reading"] > 5


def test_quiet_dollar_years(out):
    for year in ("2013", "2017", "2019", "2021"):
        assert (out.loc[year, "state"] == RISK_OFF).sum() == 0, year
