"""ma_break on the real snapshot: SPY below its 200-day in March 2020 and 2022; other assets."""
import pytest
from signal_testdata import frame_for, output_for, spec_named

from riskoff import CAUTION, RISK_OFF, RISK_ON
from riskoff.signals.evaluate import evaluate
from riskoff.util.errors import ConfigError

NAME = "ma_break"


@pytest.fixture(scope="module")
def out():
    return output_for(NAME)


def test_march_2020_and_2022_below_200_day(out):
    assert out.loc["2020-03-16", "state"] == RISK_OFF and out.loc["2020-03-16", "reading"] < -0.15
    assert (out.loc["2022", "state"] == RISK_OFF).mean() > 0.7
    assert out.loc["2022-06-13", "state"] == RISK_OFF


def test_caution_between_the_averages(out):
    between = out[(out["dist_fast"] < 0) & (out["reading"] >= 0)]
    assert len(between) > 100 and (between["state"] == CAUTION).all()
    assert out.loc["2020-02-24", "state"] == CAUTION  # first day of the crash: under the 50-day only


def test_calm_years(out):
    assert (out.loc["2017", "state"] == RISK_OFF).sum() == 0
    assert (out.loc["2021", "state"] == RISK_OFF).sum() == 0


def test_other_assets_via_optional_inputs():
    spec, frame = spec_named(NAME), frame_for(NAME)
    btc = evaluate(spec, frame, {"asset": "BTC-USD"})
    assert btc.loc["2022-06-13", "state"] == RISK_OFF
    assert btc.loc["2021-02-10", "state"] == RISK_ON
    qqq = evaluate(spec, frame, {"asset": "QQQ", "fast": 20, "slow": 100})
    assert qqq.loc["2022-05-20", "state"] == RISK_OFF
    assert spec.warmup({"slow": 100}) == 99


def test_missing_asset_file_is_a_config_error():
    spec, frame = spec_named(NAME), frame_for(NAME)
    with pytest.raises(ConfigError, match=r"ma_break: asset = 'QQQ' needs column 'QQQ.close'"):
        evaluate(spec, frame.drop(columns=["QQQ.close"]), {"asset": "QQQ"})
    with pytest.raises(ConfigError, match="expected one of"):
        spec.resolve({"asset": "DOGE"})
    with pytest.raises(ConfigError, match="fast .* must be shorter than slow"):
        evaluate(spec, frame, {"fast": 200, "slow": 100})
