"""breadth_collapse on the real snapshot: the February 2020 washout, thrusts in 2019-01, 2023-11 and 2025-04."""
import pytest
from signal_testdata import frame_for, output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.signals.evaluate import evaluate

NAME = "breadth_collapse"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_s5fi_collapse_february_march_2020(out):
    row = out.loc["2020-02-27"]
    assert row["s5fi_change"] <= -30 and row["reading"] <= 20 and row["state"] == RISK_OFF
    assert out.loc["2020-02-24", "state"] == CAUTION  # selling, but not yet a washout
    assert (out.loc["2020-02-27":"2020-04-23", "state"] == RISK_OFF).all()
    assert out.loc["2020-03-12", "reading"] < 1  # under 1% of members above their 50-day
    assert out.loc["2020-03-12", "mcclellan"] < -100 and out.loc["2020-03-12", "nh_nl"] < -1000


def test_repair_releases_2020(out):
    assert out.loc["2020-04-24", "reading"] < 50 <= out.loc["2020-04-27", "reading"]
    assert out.loc["2020-04-27", "state"] != RISK_OFF


@pytest.mark.parametrize("date", ["2019-01-07", "2023-11-03", "2025-04-24"])
def test_documented_zweig_thrusts(out, date):
    assert out.loc[date, "thrust"] == 1
    assert out.loc[date, "state"] == RISK_ON


def test_thrust_is_the_all_clear(out):
    # December 2018 washout latched risk-off until the January 2019 thrust
    assert (out.loc["2018-12-17":"2019-01-04", "state"] == RISK_OFF).all()
    assert out.loc["2019-01-07", "collapse_latched"] == 0
    # April 2025: latched from 04-07 while S5FI stayed below 50, released by the 04-24 thrust
    assert (out.loc["2025-04-07":"2025-04-23", "state"] == RISK_OFF).all()
    assert out.loc["2025-04-24", "reading"] < 50 and out.loc["2025-04-24", "state"] == RISK_ON
    # 2023-11-03: the thrust overrides the caution of S5TH < 40 for the hold period
    assert out.loc["2023-11-02", "state"] == CAUTION
    assert (out.loc["2023-11-03":"2023-11-30", "state"] == RISK_ON).all()


def test_thrust_is_rare(out):
    starts = (out["thrust"] == 1) & (out["thrust"].shift(1) != 1)
    assert 4 <= starts.loc["2010":].sum() <= 8


def test_calm_years_have_no_risk_off(out):
    for year in ("2013", "2017", "2021"):
        assert (out.loc[year, "state"] == RISK_OFF).sum() == 0, year


def test_plain_mcclellan_option():
    plain = evaluate(spec_named(NAME), frame_for(NAME), {"ratio_adjusted": False})
    adj = evaluate(spec_named(NAME), frame_for(NAME))
    # the plain oscillator is in issues (hundreds), the ratio-adjusted one in per-mille points
    assert plain.loc["2020-03-12", "mcclellan"] < -300 < adj.loc["2020-03-12", "mcclellan"]
