"""metals_liquidation on the real snapshot: 2026-01-30 (silver -28%), 2020-03-12 and the April 2013 gold crash."""
import numpy as np
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "metals_liquidation"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_scaled_return_by_hand(out):
    slv = raw("prices", "SLV", "close")
    r = np.log(slv).diff()
    i = slv.index.get_loc(slv.loc["2026-01-30":].index[0])
    assert slv.iloc[i] / slv.iloc[i - 1] - 1 == pytest.approx(-0.28, abs=0.01)  # data README anchor
    z = r.iloc[i] / r.iloc[i - 60:i].std()
    assert out.loc["2026-01-30", "z_SLV"] == pytest.approx(z)


def test_january_30_2026_is_risk_off_and_held(out):
    assert out.loc["2026-01-29", "state"] == RISK_ON
    assert out.loc["2026-01-30", "trigger"] == 1
    assert (out.loc["2026-01-30":"2026-02-05", "state"] == RISK_OFF).all()  # five bars
    assert out.loc["2026-02-06", "state"] == RISK_ON


def test_march_2020_with_btc_a_bar_late(out):
    row = out.loc["2020-03-12"]
    assert row["z_GLD"] <= -2 and row["z_SLV"] <= -2 and row["z_SPY"] < 0 and row["z_BTC"] > 0
    assert row["trigger"] == 1 and row["state"] == RISK_OFF  # BTC fell on the bar before


def test_april_2013_gold_crash(out):
    assert (out.loc["2013-04-12":"2013-04-18", "state"] == RISK_OFF).all()


def test_metals_crash_alone_is_caution(out):
    both_alone = out[(out["z_GLD"] <= -2) & (out["z_SLV"] <= -2) & (out["trigger"] == 0)]
    assert len(both_alone) >= 5
    fresh = both_alone[both_alone.index.map(lambda d: (out.loc[:d, "trigger"].iloc[-5:] == 0).all())]
    assert len(fresh) and (fresh["state"] == CAUTION).all()
