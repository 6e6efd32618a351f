"""crypto_sentiment on the real snapshot: NUPL euphoria 2013/2017, extreme greed 2021, fear and capitulation 2020-03."""
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "crypto_sentiment"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_utc_day_is_seen_after_it_ends(out):
    nupl = raw("onchain", "BTC-NUPL")
    assert out.loc["2020-03-13", "reading"] == pytest.approx(nupl.loc["2020-03-12"])
    assert out.loc["2020-03-13", "reading"] < 0 and out.loc["2020-03-12", "reading"] > 0.25


def test_euphoria_is_risk_off(out):
    assert (out.loc["2017-12", "state"] == RISK_OFF).sum() >= 5
    assert (out.loc["2013-11":"2013-12", "state"] == RISK_OFF).sum() >= 10
    feb = out.loc["2021-02-09"]  # Fear & Greed 95, NUPL 0.73: greed alone trips it
    assert feb["fear_greed"] == 95 and feb["reading"] < 0.75 and feb["state"] == RISK_OFF


def test_fear_and_capitulation_are_caution(out):
    assert out.loc["2020-03-11", "state"] == RISK_ON  # F&G 17, NUPL 0.27
    assert out.loc["2020-03-12", "state"] == CAUTION  # F&G 14
    assert (out.loc["2015-01-15":"2015-09-30", "state"] == CAUTION).mean() > 0.9  # NUPL below 0


def test_before_fear_greed_the_nupl_bands_alone(out):
    assert out.loc[:"2018-01-31", "fear_greed"].isna().all()
    assert out.loc["2012-06":"2012-12", "state"].notna().all()
