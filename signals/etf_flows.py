"""US spot-bitcoin ETF flows: a run of net outflows is risk-off for bitcoin.

Reads BTC-ETF-FLOW-USDMN (the daily net creation/redemption of all US spot-bitcoin ETFs together, USD
millions, from their launch on 2024-01-11; the day's figure is compiled after the close and
published the next morning, so US bar t sees the flows of t-1). The reading is the net flow summed
over the last ``days`` bars (USD millions). Extra: ``outflow_run`` (consecutive bars with a net
outflow, counted on the flows the bar has seen).

States:
    risk-off  ``run_risk_off`` (default 5) or more outflow days in a row, or the ``days``-bar sum <=
              ``sum_risk_off`` (default -1,500 USD mn): holders are redeeming steadily (2024-04/05,
              2025-02..04, 2025-11/12, 2026-01/02, 2026-05..08)
    caution   ``run_caution`` (default 3) outflow days in a row, or the sum <= ``sum_caution``
              (default -750 USD mn)
    risk-on   otherwise.

There is no reading before 2024-01: a run ending before then has no data, and the signal is NaN
(no opinion). Defaults from this data: about 40% of days are outflows; a five-day sum of -1.35 bn is
the worst 5% (2024-01 .. 2026-08) and -0.95 bn the worst 10%; runs of five or more outflow days
occurred on 41 days. Flow trackers (e.g. Farside) and sell-side notes flag multi-day outflow streaks
as institutional de-risking.
"""
import numpy as np

from riskoff import CAUTION, RISK_OFF, RISK_ON, ConfigError, Param, signal_frame

INPUTS = ["BTC-ETF-FLOW-USDMN"]
CALENDAR = "us"
PARAMS = [
    Param("days", 5, low=1, high=60, description="bars in the flow sum"),
    Param("run_caution", 3, low=1, high=30, description="consecutive outflow days = caution"),
    Param("run_risk_off", 5, low=1, high=60, description="consecutive outflow days = risk-off"),
    Param("sum_caution", -750.0, low=-100000.0, high=0.0, description="flow sum (USD mn) at or below this = caution"),
    Param("sum_risk_off", -1500.0, low=-100000.0, high=0.0, description="flow sum (USD mn) at or below this = risk-off"),
]
WARMUP = lambda days, **_: days - 1  # noqa: E731


def compute(data, days=5, run_caution=3, run_risk_off=5, sum_caution=-750.0, sum_risk_off=-1500.0):
    if run_risk_off < run_caution or sum_risk_off > sum_caution:
        raise ConfigError("signal etf_flows: risk-off thresholds must be at least as severe as the caution ones "
                          f"(runs {run_caution}/{run_risk_off}, sums {sum_caution:g}/{sum_risk_off:g})")
    flow = data["BTC-ETF-FLOW-USDMN"]
    total = flow.rolling(days, min_periods=days).sum()
    out_day = (flow < 0).to_numpy()
    run = np.zeros(len(flow))
    for i in range(len(flow)):  # a few thousand bars: the plain loop is clearer than a groupby trick
        run[i] = (run[i - 1] + 1 if i else 1) if out_day[i] else 0
    off = (run >= run_risk_off) | (total <= sum_risk_off).to_numpy()
    warn = (run >= run_caution) | (total <= sum_caution).to_numpy()
    state = np.where(off, RISK_OFF, np.where(warn, CAUTION, RISK_ON)).astype(float)
    state[total.isna().to_numpy()] = np.nan
    return signal_frame(total, state, outflow_run=np.where(flow.isna(), np.nan, run))
