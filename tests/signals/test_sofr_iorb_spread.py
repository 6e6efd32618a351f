"""sofr_iorb_spread on the real snapshot: the September 2019 repo spike (DFEDTARU stand-in) and IORB after 2021."""
import pytest
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "sofr_iorb_spread"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_september_2019_repo_spike(out):
    # bar 2019-09-17 sees SOFR of 09-16 (2.43%) vs the 2.25% top of the range: +18 bp
    assert out.loc["2019-09-16", "state"] == RISK_ON
    row = out.loc["2019-09-17"]
    assert row["reading"] == pytest.approx(18.0) and row["state"] == RISK_OFF and row["uses_iorb"] == 0
    assert out.loc["2019-09-18", "reading"] == pytest.approx(300.0)  # SOFR 5.25% on 2019-09-17
    assert out.loc["2019-09-23", "state"] == RISK_ON


def test_policy_rate_is_the_one_in_force_on_sofrs_date(out):
    # the 2019-09-19 cut (top 2.00%) must not be compared with SOFR of 09-18 (2.55%): +30 bp, not +55
    assert out.loc["2019-09-19", "reading"] == pytest.approx(30.0)
    assert out.loc["2019-09-19", "policy_rate"] == pytest.approx(2.25)


def test_iorb_replaces_the_stand_in(out):
    assert out.loc["2021-07-29", "uses_iorb"] == 0 and out.loc["2021-07-30", "uses_iorb"] == 1
    assert out.loc["2021-07-30", "policy_rate"] == pytest.approx(0.15)
    calm = out.loc["2021-08-01":"2023-12-31", "state"]
    assert (calm == RISK_ON).all()


def test_late_2025_reserve_scarcity(out):
    assert out.loc["2025-11-03", "reading"] >= 30 and out.loc["2025-11-03", "state"] == RISK_OFF
    q4 = out.loc["2025-10-01":"2025-12-31", "state"]
    assert (q4 >= CAUTION).sum() >= 20


def test_no_reading_before_sofr(out):
    assert out.loc[:"2018-04-02", "reading"].isna().all()
    assert out.loc["2018-04-04":"2026-06-30", "reading"].notna().all()
