"""funding_spreads on the real snapshot: negative funding in March 2020, crowded longs in early 2021."""
import numpy as np
import pytest
from signal_testdata import frame_for, output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.signals.evaluate import evaluate

NAME = "funding_spreads"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_negative_funding_march_2020(out):
    assert out.loc["2020-03-12", "state"] == RISK_ON
    assert out.loc["2020-03-13", "funding_ann"] < -100  # -139%/yr: the 312 liquidation day
    assert (out.loc["2020-03-13":"2020-03-20", "state"] == RISK_OFF).all()
    assert (out.loc["2020-03-13":"2020-03-20", "reading"] < -10).all()


def test_crowded_longs_early_2021(out):
    q1 = out.loc["2021-01-01":"2021-03-31"]
    assert q1["reading"].median() > 30
    assert (q1["state"] == CAUTION).mean() > 0.6
    assert (q1["state"] == RISK_OFF).sum() == 0


def test_ftx_collapse_is_risk_off(out):
    assert out.loc["2022-11-10", "funding_ann"] < -50 and out.loc["2022-11-10", "state"] == RISK_OFF


def test_annualisation(out):
    frame = frame_for(NAME)
    raw = frame.loc["2021-02-10", "BINANCE-BTCUSDT.mean"]
    assert out.loc["2021-02-10", "funding_ann"] == pytest.approx(raw * 3 * 365 * 100)
    # the Binance baseline 0.01% per 8h is 10.95%/yr
    assert (out["funding_ann"].round(2) == 10.95).mean() > 0.2


def test_cross_venue_spread(out):
    both = out.loc["2021-06-01":"2023-12-31"]
    assert (both["venues"] == 6).all()
    assert both["venue_spread"].notna().all() and (both["venue_spread"] >= 0).all()
    assert both["venue_spread"].median() > 1
    later = out.loc["2024-02-01":]
    assert (later["venues"] <= 1).all() and later["venue_spread"].isna().all()  # venue archives end 2023-12
    # without the optional venues the reading and state are unchanged, the spread is simply absent
    frame = frame_for(NAME)
    alone = evaluate(spec_named(NAME), frame[["BINANCE-BTCUSDT.mean"]])
    full = evaluate(spec_named(NAME), frame)
    assert np.array_equal(alone["state"].to_numpy(), full["state"].to_numpy(), equal_nan=True)
    assert alone["venue_spread"].isna().all()
