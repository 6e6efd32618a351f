"""Crypto crowd sentiment: euphoria (NUPL above 0.75, extreme greed) is risk-off; capitulation and extreme fear are caution.

Reads bitcoin's NUPL (net unrealised profit/loss as a fraction of market cap, CryptoQuant
methodology, from 2011; a UTC day's value is final after the day ends) and, where the data has it,
the alternative.me Crypto Fear & Greed index (0 = extreme fear, 100 = extreme greed, from 2018-02;
published at 00:00 UTC for the day). Both on UTC days. The reading is NUPL, so the signal covers
the 2011-2017 cycles too. Extra: ``fear_greed``.

States, for someone holding bitcoin:
    risk-off  euphoria: Fear & Greed >= ``greed_risk_off`` (90) or NUPL >= ``nupl_euphoria`` (0.75):
              the crowd is all in, the distribution zone of cycle tops (NUPL: 2011, 2013, 2017;
              its 2021 peak was 0.73; greed >= 90: 2019-06, 2020-11..2021-02, 2024-03, 2024-11)
    caution   extreme fear: Fear & Greed <= ``fear_caution`` (15), the crowd is liquidating (2018-11,
              2020-03, 2021-05..07, 2022-06, 2025-02/03, 2025-11, 2026-02), or capitulation:
              NUPL < 0 (the market holds coins at a loss; risk already realised, as with
              mvrv_bands' capitulation zone)
    risk-on   otherwise.

Defaults from the publishers: alternative.me labels 0-24 "extreme fear" and 75-100 "extreme greed";
90 and 15 keep the 1-5% tails of this index (its 99th percentile is 93, its 5th 13). Glassnode's NUPL
bands call above 0.75 "euphoria/greed" and below 0 "capitulation".
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["BTC-NUPL"]
OPTIONAL_INPUTS = ["CRYPTO-FEAR-GREED"]
CALENDAR = "utc"
PARAMS = [
    Param("greed_risk_off", 90.0, low=50.0, high=100.0, description="Fear & Greed at or above this = risk-off"),
    Param("fear_caution", 15.0, low=0.0, high=50.0, description="Fear & Greed at or below this = caution"),
    Param("nupl_euphoria", 0.75, low=0.0, high=1.0, description="NUPL at or above this = risk-off"),
    Param("use_fear_greed", True, choices=(True, False),
          description="also read Fear & Greed extremes (needs CRYPTO-FEAR-GREED, from 2018-02)"),
]
WARMUP = 0


def compute(data, greed_risk_off=90.0, fear_caution=15.0, nupl_euphoria=0.75, use_fear_greed=True):
    if fear_caution >= greed_risk_off:
        raise ConfigError(f"signal crypto_sentiment: fear_caution ({fear_caution:g}) must be below "
                          f"greed_risk_off ({greed_risk_off:g})")
    nupl = data["BTC-NUPL"]
    fg = data["CRYPTO-FEAR-GREED"] if use_fear_greed and "CRYPTO-FEAR-GREED" in data else nupl * np.nan
    off = (fg >= greed_risk_off).to_numpy() | (nupl >= nupl_euphoria).to_numpy()
    warn = (fg <= fear_caution).to_numpy() | (nupl < 0).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[nupl.isna().to_numpy()] = np.nan
    return signal_frame(nupl, state, fear_greed=fg)
