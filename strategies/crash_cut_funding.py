"""Cut on the first hourly crash signal, re-enter when funding normalises (an event-driven rule).

Exit completely on the first bar where any crash signal (labels in ``crash``; default the
``crash_speed`` and ``range_volume_shock`` signals) reads risk-off. Stay out at least
``min_out`` bars (default 8, one funding interval on an hourly clock), then re-enter fully on
the first bar where the perpetual funding signal (label ``funding``, default ``funding_flips``)
reads at least ``normal`` (annualised %, default 0: longs are paying again, so forced selling
has stopped) and no crash signal is risk-off. Funding prints settle every 8 hours, so the
re-entry waits for a print, not for the price.

Written as an :class:`riskoff.strategies.event_rules.EventRule`; the labels must be among the strategy's
signals. Intended for hourly clocks; on daily ones ``min_out`` counts days.
"""
from riskoff import RISK_OFF, Param
from riskoff.strategies.event_rules import EventRule, as_target

PARAMS = [
    Param("crash", ("crash_speed", "range_volume_shock"), description="labels of the crash signals"),
    Param("funding", "funding_flips", description="label of the funding signal"),
    Param("normal", 0.0, low=-500.0, high=500.0, description="funding reading (%/yr) at or above which to re-enter"),
    Param("min_out", 8, low=0, high=100_000, description="bars out at least after a cut"),
]


def check(labels, crash=("crash_speed", "range_volume_shock"), funding="funding_flips", **_):
    missing = [lab for lab in [*([crash] if isinstance(crash, str) else crash), funding] if lab not in labels]
    if missing:
        raise ValueError(f"crash_cut_funding reads signal label(s) {missing}, which are not among the "
                         f"strategy's signals {list(labels)}")


class CrashCutFunding(EventRule):
    def start(self, view):
        crash = self.params["crash"]
        self.crash = [crash] if isinstance(crash, str) else list(crash)
        self.out_since = None

    def on_bar(self, v):
        p = self.params
        crashing = any(v.state(lab) == RISK_OFF for lab in self.crash)
        if self.out_since is None:
            if crashing:
                self.out_since = v.t
                return 0.0
            return 1.0
        if not crashing and v.t - self.out_since >= p["min_out"] and v.reading(p["funding"]) >= p["normal"]:
            self.out_since = None
            return 1.0
        return 0.0


target = as_target(CrashCutFunding)
