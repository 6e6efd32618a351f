"""tail_pricing on the real snapshot: the put/call panic of March 2020 and SKEW's "tails got bid" years."""
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "tail_pricing"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_reading_is_skew_on_the_same_bar(out):
    skew = raw("cboe", "SKEW")
    for day in ("2018-02-05", "2020-03-16", "2021-11-22"):
        assert out.loc[day, "reading"] == pytest.approx(skew.loc[day])


def test_march_2020_put_buying_panic(out):
    eq = raw("cboe", "PUTCALL", "equity")
    # the 5-bar mean of the equity put/call ratio, by hand
    assert out.loc["2020-03-12", "pc_equity"] == pytest.approx(eq.loc["2020-03-06":"2020-03-12"].mean())
    assert out.loc["2020-03-12", "pc_equity"] >= 0.85 and out.loc["2020-03-12", "state"] == RISK_OFF
    assert out.loc["2020-03-10", "state"] == CAUTION  # 0.836: above 0.75, below 0.85, SKEW 121


def test_no_put_call_before_it_exists(out):
    assert out.loc[:"2019-10-10", "pc_equity"].isna().all()
    assert out.loc["2001-01-02":"2019-10-04", "state"].notna().all()
    assert (out.loc["2010":"2017", "state"] != RISK_OFF).all()  # SKEW never reached 155 before 2018


def test_skew_above_155_is_risk_off(out):
    high = out[out["reading"] >= 155]
    assert len(high) > 50 and (high["state"] == RISK_OFF).all()
    assert (out.loc["2019-01":"2019-06", "state"] == RISK_ON).mean() > 0.5
