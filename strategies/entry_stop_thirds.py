"""Stop measured from the entry price, then staged re-entry in thirds (an event-driven rule).

A practitioner's stop: once invested, exit completely when the close falls ``stop`` below the
price the position was entered at (not below a running peak, as the ``trailing_stop`` overlay
does). After a stop, wait ``wait`` bars, then buy back one third at a time: a third on each bar
whose close breaks above the highest close of the previous ``lookback`` bars, at least ``wait``
bars apart, until fully invested. The first third's fill is the new entry price, so the stop
re-arms from there. Signals are not needed (it reads the asset close only), but any listed
signal with ``exit_state`` (default: risk-off, 2) also exits; durations accept time spans
("24h", "3d") converted per clock.

Written as an :class:`riskoff.strategies.event_rules.EventRule`: the callback sees the point-in-time view
(close history, own position, entry price, bars since entry) and keeps its stage in ``self``.
"""
import numpy as np

from riskoff import Param
from riskoff.strategies.event_rules import EventRule, as_target

NEEDS_SIGNALS = False
PARAMS = [
    Param("stop", 0.08, low=0.005, high=0.9, description="exit when close <= entry price x (1 - stop)"),
    Param("wait", 24, low=1, high=100_000, description="bars after a stop (and between thirds) before buying"),
    Param("lookback", 24, low=1, high=100_000, description="a third is bought on a close above this many bars' high"),
    Param("exit_state", 2, low=1, high=2, description="a listed signal at or above this state also exits"),
]


class EntryStopThirds(EventRule):
    def start(self, view):
        self.level = 1.0          # invested from the first bar
        self.last_change = -10**9

    def on_bar(self, v):
        p = self.params
        signal_exit = any(v.state(lab) >= p["exit_state"] for lab in v.labels)
        stopped = v.position > 0 and v.close <= v.entry_price * (1.0 - p["stop"])
        if (stopped or signal_exit) and self.level > 0:
            self.level, self.last_change = 0.0, v.t
        elif self.level < 1.0 and not signal_exit and v.t - self.last_change >= p["wait"]:
            prior = v.closes(p["lookback"] + 1)[:-1]
            if len(prior) == p["lookback"] and v.close > np.nanmax(prior):
                self.level, self.last_change = min(1.0, round(self.level + 1.0 / 3.0, 12)), v.t
        return self.level


target = as_target(EntryStopThirds)
