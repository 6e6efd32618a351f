"""SOFR minus IORB in basis points: secured funding trading above the Fed's floor rate = money-market stress.

Reads SOFR (the secured overnight financing rate; the print for day d is published about 08:00
New York on the next business day, so US bar t sees the rate of the previous business day), IORB
(interest on reserve balances, from 2021-07-29) and DFEDTARU (the top of the fed funds target
range). Before IORB existed, DFEDTARU stands in for it, as the data README documents: IOER then sat
5-20 bp below the top of the range, so the stand-in understates pre-2021 stress by that much (the
2019 repo spike still reads +18 bp on 2019-09-17 and +300 bp on 2019-09-18).

The reading is SOFR minus the policy rate that was in force on SOFR's own date (the policy series
lagged one bar, so an FOMC change effective today is not compared with yesterday's SOFR), in bp.
Banks can earn IORB risk-free, so SOFR persistently above it means cash is scarce in repo: the
September 2019 spike, year-end 2018, and the reserve-scarcity episode of October-December 2025.

States:
    risk-off  spread > ``risk_off_bp`` (default 10 bp)
    caution   spread > ``caution_bp`` (default 5 bp)
    risk-on   otherwise (normally SOFR trades 5-20 bp below IORB).

Defaults from practice: the Fed's own reading of funding pressure is SOFR at or above IORB; a few bp
over is routine at month- and quarter-ends, 10 bp over is what the New York Fed treats as a
sign of reserve scarcity (it was crossed on 2019-09-16/17 before the repo operations restarted).
"""
import numpy as np

from riskoff import ConfigError, Param, signal_frame, states_from_levels

INPUTS = ["SOFR", "IORB", "DFEDTARU"]
CALENDAR = "us"
PARAMS = [
    Param("caution_bp", 5.0, low=-50.0, high=200.0, description="SOFR - IORB (bp) above which = caution"),
    Param("risk_off_bp", 10.0, low=-50.0, high=500.0, description="SOFR - IORB (bp) above which = risk-off"),
]
WARMUP = 1  # the policy rate is lagged one bar


def compute(data, caution_bp=5.0, risk_off_bp=10.0):
    if risk_off_bp < caution_bp:
        raise ConfigError(f"signal sofr_iorb_spread: risk_off_bp ({risk_off_bp:g}) must be at least "
                          f"caution_bp ({caution_bp:g})")
    policy = data["IORB"].where(data["IORB"].notna(), data["DFEDTARU"])
    in_force = policy.shift(1)  # the rate in force on the previous bar = SOFR's observation date
    spread = ((data["SOFR"] - in_force) * 100).round(6)  # percent -> bp, without float dust at thresholds
    # strictly above the thresholds (states_from_levels tests >=)
    state = states_from_levels(spread, np.nextafter(caution_bp, np.inf), np.nextafter(risk_off_bp, np.inf))
    benchmark = data["IORB"].notna().shift(1).astype(float).where(in_force.notna())
    return signal_frame(spread, state, policy_rate=in_force, uses_iorb=benchmark)
