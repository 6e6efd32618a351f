"""Number and date formatting for the HTML reports (one place, so every page prints alike)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from riskoff.reports.runfiles import esc, to_timestamp

__all__ = ["isnum", "pct", "pp", "pct_text", "pp_text", "num", "integer", "date", "sortval", "cell",
           "heat_color"]


def isnum(x) -> bool:
    """True for a real number (not None, not NaN)."""
    return x is not None and not (isinstance(x, float) and np.isnan(x)) and not pd.isna(x)


def pct(x, dp: int = 1) -> str:
    """A fraction as a percentage (0.123 -> 12.3%); a dash when missing."""
    return f"{x * 100:.{dp}f}%" if isnum(x) else "&ndash;"


def pp(x, dp: int = 1) -> str:
    """A signed difference of fractions in percentage points (never "-0.0")."""
    if not isnum(x):
        return "&ndash;"
    v = round(x * 100, dp)
    return f"{v:+.{dp}f}&nbsp;pp" if v != 0 else f"{0:.{dp}f}&nbsp;pp"  # no "-0.0"


def pct_text(x) -> str:
    """Plain text (findings.md, the terminal): a fraction as a percentage, "n/a" when missing."""
    return "n/a" if pd.isna(x) else f"{x * 100:.1f}%"


def pp_text(x, unit: str = " pp") -> str:
    """Plain text: a signed difference of fractions in percentage points (never "-0.0"), "n/a" when missing."""
    return "n/a" if pd.isna(x) else f"{round(x * 100, 1) + 0.0:+.1f}{unit}"


def num(x, dp: int = 2) -> str:
    """A plain number with ``dp`` decimals."""
    return f"{x:.{dp}f}" if isnum(x) else "&ndash;"


def integer(x) -> str:
    """A rounded whole number."""
    return f"{int(round(x))}" if isnum(x) else "&ndash;"


def date(x) -> str:
    """YYYY-MM-DD."""
    ts = to_timestamp(x)
    return ts.strftime("%Y-%m-%d") if ts is not None else "&ndash;"


def sortval(x) -> str:
    """The value a sortable table column sorts by (data-v attribute)."""
    return esc(f"{x:.10g}") if isnum(x) else ""


def cell(x, fmt) -> str:
    """A right-aligned numeric table cell that sorts by its raw value."""
    return f'<td class="n" data-v="{sortval(x)}">{fmt(x)}</td>'


def heat_color(value: float, cap: float) -> str:
    """Diverging colour: green = drawdown avoided (protection), red = deeper drawdown than B&H."""
    if not isnum(value):
        return "#eeeeee"
    t = max(-1.0, min(1.0, value / cap))
    pos, neg, white = (26, 152, 80), (215, 48, 39), (255, 255, 255)
    target = pos if t >= 0 else neg
    a = abs(t) ** 0.8
    r, g, b = (round(w + (c - w) * a) for w, c in zip(white, target))
    return f"#{r:02x}{g:02x}{b:02x}"
