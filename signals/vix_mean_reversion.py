"""VIX spike z-score with hysteresis: risk-off on a volatility spike, risk-on again once it mean-reverts.

Reads the VIX close (16:15 New York print, usable on the same US bar) and, optionally, the VIX3M
close for the term structure. The reading is the z-score of today's VIX against its trailing
``window``-day mean and standard deviation (population sd, the Bollinger-band convention; no
full-sample statistics).

States:
    risk-off  latched on the first bar where z > ``entry_z`` while VIX is at least ``min_vix``, and
              held (path dependent, causal) until z falls back below ``exit_z``: the spike has
              mean-reverted, which is the re-risk trigger. Also risk-off while the term structure
              is deeply inverted (VIX/VIX3M >= ``ts_risk_off``) if ``use_term_structure``.
    caution   a z-spike from a calm base (z > entry_z but VIX < min_vix), or backwardation
              (VIX/VIX3M > ``ts_caution``: near-dated fear above three-month fear).
    risk-on   otherwise.

Defaults from practice: a 20-day (one trading month) window is the usual length for VIX
stretch/mean-reversion rules; a 2-sigma stretch is the classic Bollinger entry and a reversion
inside half a sigma is a conservative "spike is over" exit. VIX 20 is roughly its long-run median,
so a jump from 12 to 16 is flagged as caution, not risk-off. VIX/VIX3M above 1 (backwardation) is
the standard stress read of the term structure; above 1.10 it occurred on about 70 bars since
2010, all in sharp sell-offs (2011-08, 2015-08, 2018-02, 2020-03, 2024-08-05, 2025-04). On 2010-2026 this is risk-off on 0-21 bars in calm
years (2013, 2017, 2019, 2024) and fires on 2020-02-24, 2025-04-03, 2025-10-10 and 2026-02-05.
"""
import numpy as np
from ta.trend import sma_indicator

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame
from riskoff.signals.contract import hysteresis

INPUTS = ["VIX.close"]
OPTIONAL_INPUTS = ["VIX3M.close"]
CALENDAR = "us"
PARAMS = [
    Param("window", 20, low=5, high=250, description="trailing window (bars) of the VIX mean and sd"),
    Param("entry_z", 2.0, low=0.5, high=6.0, description="z-score above which a spike latches risk-off"),
    Param("exit_z", 0.5, low=-2.0, high=3.0, description="z-score below which the latch releases (re-risk)"),
    Param("min_vix", 20.0, low=0.0, high=80.0, description="VIX level a spike must reach to latch risk-off"),
    Param("use_term_structure", True, choices=(True, False),
          description="also read VIX/VIX3M backwardation (needs VIX3M)"),
    Param("ts_caution", 1.0, low=0.8, high=1.5, description="VIX/VIX3M above this = caution"),
    Param("ts_risk_off", 1.1, low=0.8, high=2.0, description="VIX/VIX3M at or above this = risk-off"),
]
WARMUP = lambda window, **_: window - 1  # noqa: E731 - rolling sd needs `window` bars


def compute(data, window=20, entry_z=2.0, exit_z=0.5, min_vix=20.0, use_term_structure=True,
            ts_caution=1.0, ts_risk_off=1.1):
    if exit_z >= entry_z:
        raise ConfigError(f"signal vix_mean_reversion: exit_z ({exit_z:g}) must be below entry_z ({entry_z:g})")
    if ts_risk_off < ts_caution:
        raise ConfigError(f"signal vix_mean_reversion: ts_risk_off ({ts_risk_off:g}) must be at least "
                          f"ts_caution ({ts_caution:g})")
    vix = data["VIX.close"]
    mean = sma_indicator(vix, window)
    sd = vix.rolling(window, min_periods=window).std(ddof=0)
    z = ((vix - mean) / sd).mask(sd == 0, 0.0)  # a flat window is no stretch
    spike = z > entry_z
    latched = hysteresis(spike & (vix >= min_vix), z < exit_z, valid=z.notna())
    caution = np.array(spike & (vix < min_vix), dtype=bool)  # a writable copy
    ts_off = np.zeros(len(z), bool)
    ratio = vix * np.nan
    if use_term_structure and "VIX3M.close" in data:
        ratio = vix / data["VIX3M.close"]
        caution |= (ratio > ts_caution).to_numpy()
        ts_off = (ratio >= ts_risk_off).to_numpy()
    state = np.where((latched == 1).to_numpy() | ts_off, RISK_OFF, np.where(caution, CAUTION, RISK_ON)).astype(float)
    state[z.isna().to_numpy()] = np.nan
    return signal_frame(z, state, vix=vix, ts_ratio=ratio, latched=latched)
