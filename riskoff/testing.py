"""Conformance checks for signal plug-ins: causality, warm-up, output shape and parameter validation.

Each check returns a list of problems (plain sentences naming the signal, the bar and the values),
empty when the signal conforms, so a plug-in author can run them on a new signal::

    from riskoff.signals.contract import discover, load_signal_data
    from riskoff.testing import check_signal

    spec = discover().get("my_signal")
    problems = check_signal(spec, load_signal_data(spec, "2010-01-01"))
    assert not problems, "\\n".join(problems)

The central one is :func:`truncation_leaks`: a causal signal computed on the data cut at bar t
gives exactly the same values up to t as on the full data. A full-sample statistic (global mean or
sd), a centred window, ``bfill`` or ``shift(-1)`` all break that and are reported.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskoff.engine.annualisation import periods_per_year
from riskoff.signals.contract import CAUTION, RISK_OFF, RISK_ON, SignalSpec
from riskoff.signals.evaluate import evaluate
from riskoff.strategies.contract import StrategyContext, StrategySpec, run_rule
from riskoff.util.errors import ConfigError, RiskoffError

#: cut dates inside documented sell-offs (and a few calm bars): where a leak would matter most
SELLOFF_CUTS = ("2015-08-24", "2018-02-05", "2019-09-17", "2020-03-09", "2020-03-12", "2020-03-16",
                "2020-03-23", "2022-06-13", "2023-03-13", "2024-08-05", "2025-04-07", "2025-10-10",
                "2026-01-29", "2026-01-30", "2026-02-05")


def truncated_data_copy(src: Path, dst: Path, ids: Iterable[str], cut: Any,
                        catalog: Mapping[str, Any] | None = None) -> list[str]:
    """Copy each series file of ``ids`` from data dir ``src`` to ``dst``, keeping only the rows
    stamped on or before the day ``cut`` (text-level: the first 10 characters of a row are its date).

    This is the world as it was at ``cut``: a point-in-time computation must give the same values up
    to ``cut`` on this copy as on the full data. Returns the IDs that still have rows; a series that
    starts after the cut is not written.
    """
    from riskoff.data.catalog import load_catalog

    catalog = load_catalog() if catalog is None else catalog
    last = pd.Timestamp(cut).strftime("%Y-%m-%d")
    written = []
    for sid in ids:
        rel = catalog[sid].relpath()
        lines = (Path(src) / rel).read_text().splitlines(keepends=True)
        kept = [lines[0]] + [ln for ln in lines[1:] if ln[:10] <= last]
        if len(kept) > 1:
            (Path(dst) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(dst) / rel).write_text("".join(kept))
            written.append(sid)
    return written


def _first_mismatch(a: pd.Series, b: pd.Series, atol: float) -> tuple[pd.Timestamp, float, float] | None:
    x, y = a.to_numpy(dtype="float64"), b.to_numpy(dtype="float64")
    both_nan = np.isnan(x) & np.isnan(y)
    with np.errstate(invalid="ignore"):
        close = (x == y) | (np.abs(x - y) <= atol)
    bad = ~(both_nan | close)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return a.index[i], float(x[i]), float(y[i])


def cut_points(index: pd.DatetimeIndex, cuts: Iterable[Any] = SELLOFF_CUTS, n_random: int = 3,
               seed: int = 0) -> list[pd.Timestamp]:
    """The requested cut dates that fall inside ``index`` (as the bar at or before each), plus
    ``n_random`` reproducible random bars from the second half of the index."""
    out: list[pd.Timestamp] = []
    if len(index) < 2:
        return out
    for c in cuts:
        pos = index.searchsorted(pd.Timestamp(c), side="right") - 1
        if 0 < pos < len(index) - 1:
            out.append(index[pos])
    rng = np.random.default_rng(seed)
    lo = len(index) // 2
    for pos in rng.integers(lo, len(index) - 1, size=n_random) if len(index) - 1 > lo else []:
        out.append(index[int(pos)])
    return sorted(set(out))


@dataclass(frozen=True)
class Leak:
    """One look-ahead finding: at ``day`` (<= ``cut``), ``column`` was ``truncated`` when every row
    after ``cut`` was removed but ``full`` with the full data."""

    cut: pd.Timestamp
    day: pd.Timestamp
    column: str
    truncated: float
    full: float


def truncation_mismatches(spec: SignalSpec, frame: pd.DataFrame, cuts: Iterable[Any] = SELLOFF_CUTS, *,
                          params: Mapping[str, Any] | None = None, columns: Sequence[str] | None = None,
                          atol: float = 1e-12, n_random: int = 3, full: pd.DataFrame | None = None
                          ) -> list[Leak | tuple[pd.Timestamp, str]]:
    """Per cut t that differs: the first bar and column where ``evaluate(frame.loc[:t])`` differs
    from ``evaluate(frame).loc[:t]`` (a :class:`Leak`), or ``(t, column)`` when the truncated output
    lacks a column."""
    full = evaluate(spec, frame, params) if full is None else full
    cols = list(columns) if columns is not None else list(full.columns)
    found: list[Leak | tuple[pd.Timestamp, str]] = []
    for t in cut_points(frame.index, cuts, n_random):
        part = evaluate(spec, frame.loc[:t], params)
        ref = full.loc[:t]
        for col in cols:
            if col not in part:
                found.append((t, col))
                break
            hit = _first_mismatch(part[col], ref[col], atol)
            if hit is not None:
                found.append(Leak(t, hit[0], col, hit[1], hit[2]))
                break
    return found


def first_leak(found: Iterable[Leak | tuple]) -> Leak | None:
    """The earliest bar among the findings: the first value that changes when later data goes."""
    leaks = [f for f in found if isinstance(f, Leak)]
    return min(leaks, key=lambda lk: (lk.day, lk.cut)) if leaks else None


def truncation_leaks(spec: SignalSpec, frame: pd.DataFrame, cuts: Iterable[Any] = SELLOFF_CUTS, *,
                     params: Mapping[str, Any] | None = None, columns: Sequence[str] | None = None,
                     atol: float = 1e-12, n_random: int = 3, full: pd.DataFrame | None = None) -> list[str]:
    """Look-ahead check: ``evaluate(frame.loc[:t])`` must equal ``evaluate(frame).loc[:t]`` for each cut t.

    Compares ``columns`` (default: every output column), NaN-equal, exactly or within ``atol``.
    Returns one problem per cut that differs, naming the first bar and column that changed.
    """
    problems = []
    for f in truncation_mismatches(spec, frame, cuts, params=params, columns=columns, atol=atol,
                                   n_random=n_random, full=full):
        if not isinstance(f, Leak):
            problems.append(f"signal {spec.name}: cut at {f[0]:%Y-%m-%d}: column '{f[1]}' is missing from "
                            "the output on the truncated data")
            continue
        problems.append(f"signal {spec.name}: cut at {f.cut:%Y-%m-%d}: '{f.column}' on {f.day:%Y-%m-%d} is "
                        f"{f.truncated!r} with data up to the cut but {f.full!r} with the full data: the value "
                        "at a bar depends on later rows (look-ahead: full-sample statistic, centred window, "
                        "bfill or shift(-n)?)")
    return problems


def declaration_problems(spec: SignalSpec) -> list[str]:
    """What a reader of ``riskoff signals show`` needs: a summary line and a paragraph (5+ docstring
    lines) and a description for every parameter."""
    problems = []
    if not spec.summary or len(spec.doc.splitlines()) < 5:
        problems.append(f"signal {spec.name}: docstring too short: give a summary line, a blank line and a "
                        "paragraph (5+ lines) saying what the reading measures and when it turns risk-off")
    for p in spec.params:
        if not p.description:
            problems.append(f"signal {spec.name}: parameter {p.name} has no description")
    return problems


def output_problems(spec: SignalSpec, frame: pd.DataFrame, params: Mapping[str, Any] | None = None,
                    out: pd.DataFrame | None = None) -> list[str]:
    """Deterministic (two runs equal), index equals the input index, states in {0, 1, 2, NaN}."""
    problems = []
    out = evaluate(spec, frame, params) if out is None else out
    again = evaluate(spec, frame, params)
    if not out.index.equals(frame.index):
        problems.append(f"signal {spec.name}: output index differs from the input index")
    if list(out.columns) != list(again.columns):
        problems.append(f"signal {spec.name}: two runs return different columns")
    else:
        for col in out.columns:
            hit = _first_mismatch(out[col], again[col], 0.0)
            if hit is not None:
                problems.append(f"signal {spec.name}: not deterministic: '{col}' on {hit[0]:%Y-%m-%d} is "
                                f"{hit[1]!r} then {hit[2]!r}")
                break
    st = out["state"].to_numpy(dtype="float64")
    bad = ~np.isnan(st) & ~np.isin(st, [RISK_ON, CAUTION, RISK_OFF])
    if bad.any():
        problems.append(f"signal {spec.name}: state {st[bad][0]!r} is not 0, 1, 2 or NaN")
    return problems


def complete_stretch(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[int, int]:
    """(start, stop) positions of the longest run of bars where every column is present."""
    ok = frame[list(columns)].notna().all(axis=1).to_numpy()
    best, start = (0, 0), None
    for i, v in enumerate(np.append(ok, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def warmup_problems(spec: SignalSpec, frame: pd.DataFrame, params: Mapping[str, Any] | None = None,
                    out: pd.DataFrame | None = None, min_after: int = 20) -> list[str]:
    """On the longest stretch where all required inputs are present, reading and state must be
    non-NaN from ``spec.warmup()`` bars after the stretch starts to its end."""
    out = evaluate(spec, frame, params) if out is None else out
    n = spec.warmup(params)
    lo, hi = complete_stretch(frame, spec.inputs)
    if hi - lo < n + min_after:
        return [f"signal {spec.name}: no stretch of {n + min_after} bars with all inputs {list(spec.inputs)} "
                f"present (longest: {hi - lo}); cannot check the declared warm-up of {n} bars"]
    problems = []
    for col in ("reading", "state"):
        seg = out[col].iloc[lo + n:hi]
        if seg.isna().any():
            day = seg.index[int(np.argmax(seg.isna().to_numpy()))]
            problems.append(f"signal {spec.name}: '{col}' is NaN on {day:%Y-%m-%d}, {frame.index.get_loc(day) - lo} "
                            f"bars into a stretch where all inputs are present (from {frame.index[lo]:%Y-%m-%d}); "
                            f"the declared warm-up is {n} bars")
    return problems


def param_problems(spec: SignalSpec) -> list[str]:
    """Out-of-range values and unknown names must raise ConfigError naming signal, parameter and range."""
    problems = []
    for p in spec.params:
        if p.choices is not None or isinstance(p.default, bool) or not isinstance(p.default, (int, float)):
            continue
        for bad in ([p.low - 1] if p.low is not None else []) + ([p.high + 1] if p.high is not None else []):
            bad = type(p.default)(bad)
            try:
                spec.resolve({p.name: bad})
            except ConfigError as exc:
                msg = str(exc)
                missing = [w for w in (spec.name, p.name, p.range_text()) if w not in msg]
                if missing:
                    problems.append(f"signal {spec.name}: error for {p.name}={bad!r} does not mention {missing}: {msg}")
            else:
                problems.append(f"signal {spec.name}: {p.name}={bad!r} is outside {p.range_text()} but was accepted")
    if spec.params:
        name = spec.params[0].name
        typo = name[:-1] + ("x" if name[-1] != "x" else "y")
        try:
            spec.resolve({typo: spec.params[0].default})
        except ConfigError as exc:
            if f"did you mean '{name}'" not in str(exc):
                problems.append(f"signal {spec.name}: unknown parameter '{typo}' gives no did-you-mean: {exc}")
        else:
            problems.append(f"signal {spec.name}: unknown parameter '{typo}' was accepted")
    return problems


def check_signal(spec: SignalSpec, frame: pd.DataFrame, cuts: Iterable[Any] = SELLOFF_CUTS,
                 params: Mapping[str, Any] | None = None) -> list[str]:
    """All conformance checks on one aligned frame; [] when the signal conforms. Documentation
    (:func:`declaration_problems`) is advice, not conformance: ``riskoff signals check`` prints it as
    notes, and only the built-in signals are held to it (tests/signals)."""
    try:
        out = evaluate(spec, frame, params)
    except RiskoffError as exc:
        return [f"signal {spec.name}: evaluate failed: {exc}"]
    return (output_problems(spec, frame, params, out)
            + warmup_problems(spec, frame, params, out) + truncation_leaks(spec, frame, cuts, params=params, full=out)
            + param_problems(spec))


# ------------------------------------------------------------------------------ strategy rules

def make_context(states: Any, close: Any = None, *, calendar: str = "us", asset: str = "TEST",
                 start: str = "2020-01-01") -> StrategyContext:
    """A rule context from a {label: list of states} mapping (or a frame) and an optional close path."""
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


def random_context(seed: int, n: int = 300, m: int = 3, *, calendar: str = "us", nan_rate: float = 0.1,
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
    return make_context(cols, close, calendar=calendar)


def rule_mismatches(spec: StrategySpec, ctx: StrategyContext, params: Mapping[str, Any] | None = None, *,
                    n_cuts: int = 8, seed: int = 0) -> list[Leak]:
    """Look-ahead check for a rule: its target on the context cut at t equals the full run up to t."""
    full = run_rule(spec, ctx, params)
    rng = np.random.default_rng(seed)
    found = []
    for cut in sorted(rng.choice(len(ctx.index), size=min(n_cuts, len(ctx.index)), replace=False)):
        t = ctx.index[cut]
        hit = _first_mismatch(run_rule(spec, ctx.truncate(t), params), full.loc[:t], 1e-12)
        if hit is not None:
            found.append(Leak(t, hit[0], "target", hit[1], hit[2]))
    return found


def check_rule(spec: StrategySpec, params: Mapping[str, Any] | None = None, *, seeds: Sequence[int] = (0, 1),
               calendars: Sequence[str] = ("us", "utc")) -> tuple[list[str], Leak | None]:
    """Conformance of one rule on random contexts: a summary docstring, exposures in range and no
    look-ahead. Returns (problems, the earliest leaking bar or None)."""
    problems = [] if spec.summary else [f"strategy rule {spec.name}: no docstring summary"]
    leaks: list[Leak] = []
    for calendar in calendars:
        for seed in seeds:
            try:
                leaks += rule_mismatches(spec, random_context(seed, n=260, calendar=calendar), params, seed=seed)
            except RiskoffError as exc:
                problems.append(f"strategy rule {spec.name}: {exc}")
                break
    first = first_leak(leaks)
    if first is not None:
        problems.append(f"strategy rule {spec.name}: look-ahead: target on {first.day:%Y-%m-%d} is "
                        f"{first.truncated!r} with data up to {first.cut:%Y-%m-%d} but {first.full!r} with "
                        "the full data")
    return problems, first
