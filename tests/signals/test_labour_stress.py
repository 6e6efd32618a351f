"""labour_stress on the real snapshot: claims released on Thursdays, risk-off by the 2020-03-26 release, calm 2019."""
import pandas as pd
import pytest
from raw_series import raw
from signal_testdata import output_for, spec_named

from riskoff import RISK_OFF, RISK_ON

NAME = "labour_stress"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_weekly_claims_not_visible_before_the_thursday_release(out):
    icsa = raw("fred", "ICSA")
    assert icsa.loc["2020-03-21"] == 2914000  # latest vintage (first print was about 3.28 M)
    four = icsa.loc["2020-02-29":"2020-03-21"]
    assert out.loc["2020-03-26", "claims_4w"] == pytest.approx(four.mean())
    # the Wednesday before still sees the four weeks to 2020-03-14
    assert out.loc["2020-03-25", "claims_4w"] == pytest.approx(icsa.loc["2020-02-22":"2020-03-14"].mean())


def test_risk_off_by_the_2020_03_26_release(out):
    assert out.loc["2020-03-25", "state"] == RISK_ON
    assert out.loc["2020-03-26", "state"] == RISK_OFF and out.loc["2020-03-26", "reading"] > 3
    assert (out.loc["2020-03-26":"2020-12-31", "state"] == RISK_OFF).all()


def test_risk_on_through_2019(out):
    y = out.loc["2019"]
    assert (y["state"] == RISK_ON).all()
    assert y["reading"].max() < 0.20 and y["continuing_rise"].max() < 0.20 and y["sahm"].max() < 0.5


def released_unrate(un, day):
    """UNRATE on view at a bar: the latest month whose first day + 38 days is on or before the bar."""
    latest = None
    for month, value in un.items():
        if month + pd.Timedelta(days=38) <= day:
            latest = value
    return latest


def test_sahm_style_rule_by_hand(out):
    """Plain loops over the raw file: time-weighted 91-day mean of the released rate, minus its 365-day low."""
    un = raw("fred", "UNRATE").loc["2022-06-01":"2024-09-01"]
    bars = out.loc["2023-06-01":"2024-09-05"].index
    on_view = {b: released_unrate(un, b) for b in bars}

    def mean91(d):
        vals = [on_view[b] for b in bars if d - pd.Timedelta(days=91) < b <= d]
        return sum(vals) / len(vals)
    day = pd.Timestamp("2024-09-05")
    lows = [mean91(b) for b in bars if day - pd.Timedelta(days=365) < b <= day]
    assert out.loc[day, "sahm"] == pytest.approx(mean91(day) - min(lows), abs=1e-6)
    assert out.loc["2024-09-04", "sahm"] < 0.5 <= out.loc[day, "sahm"]
    assert out.loc[day, "state"] == RISK_OFF


def test_flagged_as_revised():
    assert spec_named(NAME).revised is True
