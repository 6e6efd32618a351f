"""cross_asset_liquidation on the real snapshot: March 2020 and the 2026-01-30 .. 02-05 metals-crypto selling."""
import pytest
from signal_testdata import output_for

from riskoff import RISK_OFF, RISK_ON

NAME = "cross_asset_liquidation"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_march_2020_dash_for_cash(out):
    assert out.loc["2020-03-12", "reading"] >= 3 and out.loc["2020-03-12", "state"] == RISK_OFF
    span = out.loc["2020-03-13":"2020-03-18"]
    assert (span["reading"] == 4).all() and (span["state"] == RISK_OFF).all()  # even gold sold
    assert out.loc["2020-03-09", "state"] != RISK_OFF  # equities alone, gold still bid
    assert out.loc["2020-03-09", "z_GLD"] > 0


def test_2026_metals_and_crypto_liquidation(out):
    # 2026-01-30: silver -28% in a day (README anchor) but equities flat: one asset, not everything
    row = out.loc["2026-01-30"]
    assert row["z_SLV"] <= -1.5 and row["z_SPY"] > 0 and row["state"] == RISK_ON
    # the selling spread to gold and bitcoin by 2026-02-02; three of four again on 2026-02-05
    assert out.loc["2026-02-02", "state"] == RISK_OFF
    assert out.loc["2026-02-05", "reading"] == 3 and out.loc["2026-02-05", "state"] == RISK_OFF
    assert out.loc["2026-02-06", "state"] == RISK_ON


def test_risk_off_is_rare(out):
    st = out.loc["2010-07-14":"2026-06-05", "state"]
    assert (st == RISK_OFF).mean() < 0.02
    for year in ("2012", "2016", "2017", "2023"):
        assert (st.loc[year] == RISK_OFF).sum() == 0, year


def test_average_correlation_column(out):
    c = out["avg_corr"].dropna()
    assert c.between(-1, 1).all() and 0.05 < c.median() < 0.35
