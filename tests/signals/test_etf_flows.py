"""etf_flows on the real snapshot: flows seen a bar late, the February 2025 outflow run, nothing before 2024."""
import pytest
from raw_series import raw
from signal_testdata import output_for

from riskoff import CAUTION, RISK_OFF, RISK_ON

NAME = "etf_flows"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_flows_are_seen_the_next_bar(out):
    flow = raw("onchain", "BTC-ETF-FLOW-USDMN")
    days = flow.loc[:"2025-02-26"].index[-5:]  # the five flow days the bar of 2025-02-27 sees
    assert out.loc["2025-02-27", "reading"] == pytest.approx(flow.loc[days].sum())
    assert days[-1] == flow.loc[:"2025-02-26"].index[-1]


def test_outflow_run_of_february_2025(out):
    flow = raw("onchain", "BTC-ETF-FLOW-USDMN")
    run = 0
    for day, value in flow.loc["2025-02-01":"2025-02-27"].items():  # consecutive outflows by hand
        run = run + 1 if value < 0 else 0
        if day == flow.loc[:"2025-02-26"].index[-1]:
            break
    assert out.loc["2025-02-27", "outflow_run"] == run >= 5
    assert out.loc["2025-02-21", "state"] == CAUTION
    assert (out.loc["2025-02-25":"2025-03-04", "state"] == RISK_OFF).all()


def test_no_reading_before_the_etfs(out):
    assert out["reading"].first_valid_index() >= raw("onchain", "BTC-ETF-FLOW-USDMN").index[0]
    assert out.index[0].year == 2024
    assert (out.loc["2024-10", "state"] == RISK_ON).mean() > 0.5


def test_a_run_ending_before_the_etfs_has_no_readings_on_either_calendar():
    from signal_testdata import spec_named

    from riskoff.signals.evaluate import run_signal

    for cal in ("us", "utc"):  # the UTC mapping used to fail on the empty history
        out = run_signal(spec_named(NAME), end="2020-12-31", calendar=cal)
        assert out.empty and {"reading", "state"} <= set(out.columns)
