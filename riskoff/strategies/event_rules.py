"""Event-driven rules: a small class whose per-bar callback sees a point-in-time view.

For logic the declarative rules cannot express (a stop measured from the entry price, staged
re-entry, "out on the first crash signal until funding normalises"), write a subclass of
:class:`EventRule` with an ``on_bar(view) -> float`` method returning the target exposure; the
instance keeps its own state between bars. Wrap it with :func:`as_target` in a module under
``strategies/`` and it is a rule like any other (same config tables, same conformance suite)::

    \"\"\"One-line summary, then what it does and why.\"\"\"
    from riskoff import Param
    from riskoff.strategies.event_rules import EventRule, as_target

    PARAMS = [Param("stop", 0.1, low=0.01, high=0.9, description="fall from the entry price that exits")]

    class Stop(EventRule):
        def on_bar(self, v):
            if v.position > 0 and v.close <= v.entry_price * (1 - self.params["stop"]):
                return 0.0
            return 1.0

    target = as_target(Stop)

What the view shows at bar t (:class:`BarView`), and nothing later: the bar's close and the closes
before it, each signal's state and reading up to t, and the rule's own account after bar t's
fills and valuation: ``position`` (held weight), ``target`` (last decided), ``entry_price`` and
``entry_time`` of the current position (the fill that took it from flat), ``bars_since_entry``,
``hours_since_entry`` and ``equity``. The account is stepped by the engine's own per-bar step
(:func:`riskoff.engine.account.account_bar_nb`): a decision at bar t fills at the close of bar t+1; it
is the rule's own bookkeeping, before costs and cash (the run's engine then applies the
configured fills, costs and cash to the targets the rule returned).

Returning ``None`` (or NaN) keeps the current target. The callback runs in Python: about
a few microseconds a bar (see benchmarks/bench_intraday.py); declarative rules stay compiled.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskoff.engine.account import account_bar_nb, initial_account_state

__all__ = ["EventRule", "BarView", "as_target", "run_event_rule", "EventRuleRun"]


class EventRule:
    """Base class: override :meth:`on_bar` (and optionally :meth:`start`). ``self.params`` holds the
    resolved parameters; any other attribute set on ``self`` persists between bars."""

    def __init__(self, **params: Any) -> None:
        self.params = dict(params)

    def start(self, view: "BarView") -> None:
        """Called once before the first bar (labels and calendar are known, no data yet)."""

    def on_bar(self, view: "BarView") -> float | None:
        raise NotImplementedError("an EventRule must define on_bar(view) -> target exposure")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64).copy()
    a.flags.writeable = False
    return a


class BarView:
    """The point-in-time view a rule sees at one bar (one object, moved forward bar by bar)."""

    __slots__ = ("t", "close", "position", "target", "equity", "entry_price", "entry_bar", "labels", "calendar",
                 "_index", "_close", "_states", "_readings", "_bar_hours")

    def __init__(self, index: pd.DatetimeIndex, close: np.ndarray, states: Mapping[str, np.ndarray],
                 readings: Mapping[str, np.ndarray], calendar: str) -> None:
        self._index = index
        self._close = _frozen(close)
        self._states = {k: _frozen(v) for k, v in states.items()}
        self._readings = {k: _frozen(v) for k, v in readings.items()}
        self.labels = tuple(states)
        self.calendar = calendar
        self._bar_hours = 24.0 if calendar in ("us", "utc") else pd.Timedelta(calendar).total_seconds() / 3600
        self.t = -1
        self.close = np.nan
        self.position = 0.0
        self.target = 0.0
        self.equity = 1.0
        self.entry_price = np.nan
        self.entry_bar = -1

    @property
    def time(self) -> pd.Timestamp:
        """The bar's label (open time on intraday clocks, the date on daily ones)."""
        return self._index[self.t]

    def closes(self, n: int | None = None) -> np.ndarray:
        """Closes up to this bar (the last ``n``), oldest first; read-only."""
        lo = 0 if n is None else max(0, self.t + 1 - n)
        return self._close[lo:self.t + 1]

    def state(self, label: str) -> float:
        """This bar's state of a signal (0 risk-on, 1 caution, 2 risk-off, NaN no opinion)."""
        return float(self._states[label][self.t])

    def reading(self, label: str) -> float:
        return float(self._readings[label][self.t])

    def states(self, label: str, n: int | None = None) -> np.ndarray:
        """A signal's states up to this bar (the last ``n``); read-only."""
        lo = 0 if n is None else max(0, self.t + 1 - n)
        return self._states[label][lo:self.t + 1]

    def readings(self, label: str, n: int | None = None) -> np.ndarray:
        lo = 0 if n is None else max(0, self.t + 1 - n)
        return self._readings[label][lo:self.t + 1]

    @property
    def entry_time(self) -> pd.Timestamp | None:
        return self._index[self.entry_bar] if self.entry_bar >= 0 else None

    @property
    def bars_since_entry(self) -> int:
        """Bars since the fill that opened the current position (-1 when flat)."""
        return self.t - self.entry_bar if self.entry_bar >= 0 else -1

    @property
    def hours_since_entry(self) -> float:
        """``bars_since_entry`` x the bar length in hours (NaN when flat). A bar of a daily clock counts
        24 h, a NYSE session included: Friday to Monday is 24 h here, not the 72 h of wall-clock time."""
        return self.bars_since_entry * self._bar_hours if self.entry_bar >= 0 else np.nan


class EventRuleRun:
    """What a callback rule produced: its decided targets and its own account, bar by bar."""

    def __init__(self, target: pd.Series, equity: pd.Series, position: pd.Series, fills: pd.Series) -> None:
        self.target, self.equity, self.position, self.fills = target, equity, position, fills


def run_event_rule(rule: EventRule, index: pd.DatetimeIndex, close: np.ndarray | pd.Series,
                   states: Mapping[str, Any], readings: Mapping[str, Any], calendar: str = "utc",
                   *, price: np.ndarray | None = None, growth: np.ndarray | None = None,
                   fee: float = 0.0, slip: float = 0.0, max_leverage: float = 1.0) -> EventRuleRun:
    """Step ``rule`` over the bars of ``index``; each call sees only bars up to its own.

    ``price`` are the fill prices (default: the closes, i.e. next-close fills), ``growth`` the
    cash growth per bar (default: none); ``fee``/``slip`` are fractions. The account is stepped
    by :func:`riskoff.engine.account.account_bar_nb`, the engine's single fill/cost/cash step.
    """
    close_a = np.asarray(close, dtype=np.float64)
    price_a = close_a if price is None else np.asarray(price, dtype=np.float64)
    growth_a = np.ones(len(close_a)) if growth is None else np.asarray(growth, dtype=np.float64)
    n = len(close_a)
    view = BarView(index, close_a, {k: np.asarray(v, dtype=np.float64) for k, v in states.items()},
                   {k: np.asarray(v, dtype=np.float64) for k, v in readings.items()}, calendar)
    rule.start(view)
    # Python floats and lists in the loop: a numpy scalar per bar costs more than the step itself
    closes, prices, growths = close_a.tolist(), price_a.tolist(), growth_a.tolist()
    target, equity, position, fills = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    state = initial_account_state(1.0)
    floor, inf, nan = 1.0 - max_leverage, float("inf"), float("nan")
    on_bar, step = rule.on_bar, account_bar_nb
    for t in range(n):
        units_before = state[1]  # AccountState: cash, units, last, decided, pending
        state, eq, pv, filled = step(state, t, prices[t], closes[t], growths[t], state[3], fee, slip, floor, inf,
                                     False)
        if filled != 0.0 and units_before == 0.0 and state[1] > 0.0:
            view.entry_price, view.entry_bar = prices[t], t
        elif state[1] == 0.0 and view.entry_bar >= 0:
            view.entry_price, view.entry_bar = nan, -1
        view.t, view.close, view.equity = t, closes[t], eq
        view.position = pv / eq if eq > 0.0 else nan
        view.target = state[3]
        new = on_bar(view)
        if new is not None and new == new and new != state[3]:
            # the decision of bar t, taken after its valuation: filled on the next bar with a price
            state = state._replace(decided=float(min(max(new, 0.0), max_leverage)), pending=True)
        target[t], equity[t], position[t], fills[t] = state[3], eq, view.position, filled
    mk = (lambda a, name: pd.Series(np.asarray(a, dtype=np.float64), index=index, name=name))
    return EventRuleRun(mk(target, "target"), mk(equity, "equity"), mk(position, "position"), mk(fills, "fills"))


def as_target(rule_class: type[EventRule]) -> Callable[..., pd.Series]:
    """A strategy ``target(ctx, **params)`` that runs ``rule_class`` bar by bar over the context."""
    def target(ctx, **params) -> pd.Series:
        rule = rule_class(**params)
        states = {k: ctx.states[k].to_numpy() for k in ctx.states.columns}
        readings = {k: ctx.readings[k].to_numpy() for k in ctx.readings.columns}
        run = run_event_rule(rule, ctx.index, ctx.close.to_numpy(), states, readings, ctx.calendar)
        return run.target.rename(None)
    target.__doc__ = f"Targets of the event-driven rule {rule_class.__name__}, one callback per bar."
    target.rule_class = rule_class  # type: ignore[attr-defined]  (for benchmarks and direct runs)
    return target
