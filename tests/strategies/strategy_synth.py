"""Synthetic inputs for the strategy tests: random state frames and price paths."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from riskoff.annualisation import periods_per_year
from riskoff.strategy import StrategyContext

STATE_VALUES = (0.0, 1.0, 2.0, np.nan)


def make_ctx(states, close=None, *, calendar: str = "us", asset: str = "TEST", start="2020-01-01"
             ) -> StrategyContext:
    """A context from a {label: list of states} mapping (or a frame) and an optional close path."""
    if not isinstance(states, pd.DataFrame):
        states = pd.DataFrame({k: np.asarray(v, dtype="float64") for k, v in states.items()})
    n = len(states)
    freq = "D" if calendar == "utc" else "B"
    idx = pd.date_range(start, periods=n, freq=freq, name="date")
    states = states.set_axis(idx).astype("float64")
    if close is None:
        close = 100.0 * np.cumprod(np.full(n, 1.001))
    close = pd.Series(np.asarray(close, dtype="float64"), index=idx, name=f"{asset}.close")
    readings = states * 10.0
    return StrategyContext(asset=asset, close=close, states=states, readings=readings, calendar=calendar,
                           periods_per_year=periods_per_year(calendar))


def random_ctx(seed: int, n: int = 300, m: int = 3, *, calendar: str = "us", nan_rate: float = 0.1,
               warmup: int = 10) -> StrategyContext:
    """Sticky random states (regimes last a while), warm-up NaNs, a random-walk close with gaps."""
    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(m):
        s = np.empty(n)
        cur = rng.integers(0, 3)
        for t in range(n):
            if rng.random() < 0.15:
                cur = rng.integers(0, 3)
            s[t] = cur
        s[rng.random(n) < nan_rate] = np.nan
        s[: rng.integers(0, warmup + 1)] = np.nan
        cols[f"sig{j}"] = s
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, n)))
    close[rng.random(n) < 0.02] = np.nan
    return make_ctx(cols, close, calendar=calendar)


@st.composite
def state_frames(draw, max_bars: int = 60, max_signals: int = 4) -> pd.DataFrame:
    m = draw(st.integers(1, max_signals))
    n = draw(st.integers(1, max_bars))
    vals = draw(st.lists(st.lists(st.sampled_from(STATE_VALUES), min_size=m, max_size=m), min_size=n, max_size=n))
    return pd.DataFrame(vals, columns=[f"s{j}" for j in range(m)], dtype="float64")


@st.composite
def price_paths(draw, n: int) -> np.ndarray:
    rets = draw(st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=n, max_size=n))
    close = 100.0 * np.exp(np.cumsum(rets))
    gaps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    close[np.array(gaps, dtype=bool) & (np.arange(n) % 7 == 3)] = np.nan
    return close
