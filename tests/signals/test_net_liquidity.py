"""net_liquidity on the real snapshot: the 2022 drain, the H.4.1 release lag and the end of WTREGEN."""
import numpy as np
import pandas as pd
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import RISK_OFF, RISK_ON

NAME = "net_liquidity"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def by_hand(wednesday: str) -> float:
    w = pd.Timestamp(wednesday)
    return raw("fred", "WALCL").loc[w] - raw("fred", "WTREGEN").loc[w] - 1000 * raw("fred", "RRPONTSYD").loc[w]


def test_value_is_stamped_at_the_thursday_release(out):
    # the week to Wednesday 2022-05-11 is released Thursday 2022-05-12 16:30: not on the Wednesday bar
    assert out.loc["2022-05-12", "reading"] == pytest.approx(by_hand("2022-05-11"))
    assert out.loc["2022-05-11", "reading"] == pytest.approx(by_hand("2022-05-04"))
    assert out.loc["2022-05-11", "reading"] != pytest.approx(by_hand("2022-05-11"))


def test_2022_drain_is_risk_off(out):
    assert out.loc["2022-05-12", "chg_short"] == pytest.approx((by_hand("2022-05-11") / by_hand("2022-04-13") - 1) * 100)
    assert out.loc["2022-05-12", "chg_short"] < -7 and out.loc["2022-05-12", "state"] == RISK_OFF
    assert out.loc["2022-06-23", "chg_long"] < -9 and out.loc["2022-06-23", "state"] == RISK_OFF
    assert (out.loc["2022", "state"] == RISK_OFF).sum() >= 25
    assert out.loc["2022-01-03", "reading"] > 6.8e6 and out.loc["2022-12-30", "reading"] < 6.0e6


def test_quiet_liquidity_years_are_risk_on(out):
    for year in ("2011", "2013", "2018"):
        assert (out.loc[year, "state"] == RISK_OFF).sum() == 0, year


def test_reading_stops_after_wtregen_ends(out):
    # last TGA week 2026-08-05 (visible 08-06); WALCL goes on to 2026-08-19
    assert raw("fred", "WTREGEN").index[-1] == pd.Timestamp("2026-08-05")
    assert raw("fred", "WALCL").index[-1] == pd.Timestamp("2026-08-19")
    assert out.loc["2026-08-12", "reading"] == pytest.approx(by_hand("2026-08-05"))
    tail = out.loc["2026-08-13":]
    assert len(tail) >= 5 and tail["reading"].isna().all() and tail["state"].isna().all()
    assert (tail["tga_missing"] == 1).all() and (out.loc["2026-07", "tga_missing"] == 0).all()


def test_rrp_before_the_facility_counts_as_zero(out):
    row = out.loc["2012-06-14"]
    assert row["rrp_wednesday"] == 0 and not np.isnan(row["reading"])
    assert row["reading"] == pytest.approx(raw("fred", "WALCL").loc["2012-06-13"] - raw("fred", "WTREGEN").loc["2012-06-13"])
