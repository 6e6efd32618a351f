"""bank_reserves on the real snapshot: scarcity into the 2019 repo spike and in Q4 2025; SOFR confirmation."""
import pytest
from raw_series import raw
from signal_testdata import frame_for, output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "bank_reserves"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_range_position_by_hand(out):
    res = raw("fred", "WRESBAL")
    # bar 2019-09-19 (Thursday) sees the week to Wednesday 2019-09-18: 1,394,122
    assert out.loc["2019-09-19", "reserves"] == res.loc["2019-09-18"] == 1394122
    window = res.loc["2017-09-20":"2019-09-18"]  # the 104 weeks on view
    assert out.loc["2019-09-19", "reading"] == pytest.approx((res.loc["2019-09-18"] - window.min()) /
                                                             (window.max() - window.min()))
    assert out.loc["2019-09-18", "reserves"] == res.loc["2019-09-11"]  # not visible on the Wednesday


def test_scarcity_before_the_september_2019_repo_spike(out):
    assert (out.loc["2019-09-09":"2019-09-20", "state"] == RISK_OFF).all()
    assert (out.loc["2019", "state"] == RISK_OFF).sum() >= 100


def test_q4_2025_scarcity_and_ample_2021(out):
    assert out.loc["2025-10-22", "state"] == CAUTION and out.loc["2025-10-23", "state"] == RISK_OFF
    assert (out.loc["2021", "state"] == RISK_ON).all()  # reserves at record highs


def test_sofr_confirmation_turns_unconfirmed_scarcity_into_caution():
    spec = spec_named(NAME)
    frame = frame_for(NAME)
    conf = spec.compute(frame, confirm_with_sofr=True)
    plain = spec.compute(frame)
    # 2019-09-18: SOFR 5.25% on 09-17 vs 2.25% top of the range: +300 bp confirms
    assert conf.loc["2019-09-18", "state"] == RISK_OFF and conf.loc["2019-09-18", "sofr_iorb_bp"] == pytest.approx(300)
    # 2019-01-07: reserves at their two-year low but SOFR 5 bp below the policy rate: caution only
    assert plain.loc["2019-01-07", "state"] == RISK_OFF and plain.loc["2019-01-07", "sofr_iorb_bp"] != plain.loc["2019-01-07", "sofr_iorb_bp"]
    assert conf.loc["2019-01-07", "sofr_iorb_bp"] == pytest.approx(-5) and conf.loc["2019-01-07", "state"] == CAUTION
    assert conf.loc["2019-01-03", "sofr_iorb_bp"] == pytest.approx(65) and conf.loc["2019-01-03", "state"] == RISK_OFF
