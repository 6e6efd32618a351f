"""Synthetic inputs for the strategy tests: random state frames and price paths."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from riskoff.testing import make_context, random_context

STATE_VALUES = (0.0, 1.0, 2.0, np.nan)


# The synthetic contexts live in riskoff.testing (`riskoff strategies check` uses them too).
make_ctx = make_context
random_ctx = random_context


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
