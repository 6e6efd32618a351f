"""mvrv_bands on the real snapshot: the March 2020 break below 1, capitulation, overheated tops."""
import pytest
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "mvrv_bands"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_march_2020_break_below_one_is_risk_off(out):
    # the UTC bar of 2020-03-13 is the first to see the 2020-03-12 print (0.83, the -37% day)
    assert out.loc["2020-03-12", "reading"] > 1.3 and out.loc["2020-03-12", "state"] == RISK_ON
    span = out.loc["2020-03-13":"2020-03-16"]
    assert (span["reading"] < 1.0).all() and (span["state"] == RISK_OFF).all()
    assert (span["fresh_break"] == 1).all()
    assert out.loc["2020-03-20", "reading"] > 1.0 and out.loc["2020-03-20", "state"] == RISK_ON


def test_long_stay_below_one_is_capitulation_caution(out):
    # 2022-06-14 broke below 1 (risk-off); 30 days on, still below 1, it is capitulation: caution
    assert out.loc["2022-06-14", "state"] == RISK_OFF
    assert out.loc["2022-07-14", "reading"] < 1.0 and out.loc["2022-07-14", "state"] == CAUTION
    assert (out.loc["2015-03", "state"] == CAUTION).all()  # the 2015 bear market base


def test_overheated_tops_are_risk_off(out):
    assert out.loc["2017-12", "reading"].max() > 4.5
    assert (out.loc["2017-12", "state"] == RISK_OFF).sum() >= 15
    assert (out.loc["2021-02", "reading"] >= 3.5).any() and (out.loc["2021-02", "state"] == RISK_OFF).any()


def test_zscore_is_point_in_time(out):
    z = out["zscore"]
    assert z.loc[:"2011-10-04"].isna().all()  # 730 days of history first (data starts 2009-10-05)
    assert z.loc["2011-10-05":].notna().all()
    assert z.loc["2021-02"].max() > 1.0 and z.loc["2022-06-14":"2023-01-10"].max() < 0


def test_quiet_years_have_no_risk_off(out):
    for year in ("2016", "2019", "2023", "2024", "2025"):
        assert (out.loc[year, "state"] == RISK_OFF).sum() == 0, year


def test_2026_selloff_is_not_a_break(out):
    # BTC-MVRV 2026-02-05 = 1.16 (README anchor), seen on the UTC bar of 2026-02-06: above the cost basis
    assert out.loc["2026-02-06", "reading"] == pytest.approx(1.16, abs=0.01)
    assert out.loc["2026-02-06", "state"] == RISK_ON
