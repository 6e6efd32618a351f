"""Protection next to its cost: one table per run that every report reads.

For each strategy x asset it puts the protection the rule gave in the sell-off windows (mean
drawdown avoided, windows protected) beside what it cost over the whole run (CAGR given up and
Sharpe change against the same asset's buy & hold, turnover), plus the random-timing p-value when
the run has one. The ordering rule (:data:`ORDERING_RULE`) and the per-window outcome classes
(:func:`window_outcome`) live here too, so the report, findings.md, compare and the terminal
ranking cannot disagree.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from riskoff.evaluation.windows import NOTHING_TO_AVOID, something_to_avoid
from riskoff.reports.runfiles import BASELINE

__all__ = ["protection_table", "window_outcome", "significance_column", "significance_mark", "OUTCOMES",
           "ORDERING_RULE", "PROTECTED_PP", "NOTHING_TO_AVOID", "MEAN_RULE"]

PROTECTED_PP = 0.005       # drawdown avoided at or above +0.5 pp counts as protection (below -0.5 pp: worse)
HELD_EXPOSURE = 0.99       # exposure at the trough at or above this = held through the fall

MEAN_RULE = (f"Mean DD avoided and windows protected count the windows where buy & hold fell at least "
             f"{NOTHING_TO_AVOID:.0%} (something to avoid; their number after the slash); the mean over every "
             "window, falls or not, is shown beside it.")

ORDERING_RULE = ("Within each asset: rules on the protection-vs-cost frontier first (no other rule avoids "
                 "more drawdown for less CAGR given up), then the others; each group by mean drawdown "
                 "avoided, largest first; ties by CAGR given up, smallest first. Buy & hold is listed last "
                 "as the reference.")

# Outcome of one strategy in one window: (label, short cell text, colour class).
OUTCOMES = {
    "protected": "protected: avoided at least 0.5 pp of buy & hold's drawdown",
    "worse": "worse: a drawdown at least 0.5 pp deeper than buy & hold's",
    "held": "held through: stayed invested at the trough, so the fall was taken in full",
    "no_gain": "cut, no gain: exposure was cut but the drawdown matched buy & hold's within 0.5 pp",
    "nothing": "nothing to avoid: buy & hold fell less than 3% inside the window",
}

# "p_value", or the random-timing null's "dd_avoided_mean_p" (riskoff.significance), "sig_"-prefixed
# when merged from summary.json.
_P_RE = re.compile(r"(^|_)p_?value$|^pvalue$|^(sig_)?dd_avoided_mean_p$", re.I)


def window_outcome(row) -> str:
    """Classify one windows.csv row into a key of :data:`OUTCOMES`.

    "0.0 pp avoided" means different things: a rule that held 100% through a real fall, a rule that
    cut but gained nothing, and a window where the asset barely fell. They are told apart by buy &
    hold's own drawdown in the window and the rule's exposure at the trough.
    """
    avoided, bh_dd = row.get("drawdown_avoided"), row.get("bh_max_dd")
    if pd.notna(bh_dd) and not something_to_avoid(bh_dd):
        return "nothing"
    if pd.notna(avoided) and avoided >= PROTECTED_PP:
        return "protected"
    if pd.notna(avoided) and avoided <= -PROTECTED_PP:
        return "worse"
    held = row.get("exposure_at_trough")
    return "held" if pd.isna(held) or held >= HELD_EXPOSURE else "no_gain"


def significance_column(frame: pd.DataFrame) -> str | None:
    """The random-timing p-value column of a stats or windows table, if the run has one."""
    return next((c for c in frame.columns if _P_RE.search(str(c))), None)


def significance_mark(p) -> str:
    """``**`` for p < 0.01, ``*`` for p < 0.05, empty otherwise (and when there is no p-value)."""
    if p is None or pd.isna(p):
        return ""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


def _frontier(avoided: np.ndarray, given_up: np.ndarray) -> np.ndarray:
    """True where no other point has more (or equal) protection at lower (or equal) cost, one strictly."""
    on = np.ones(len(avoided), bool)
    for i in range(len(avoided)):
        better = (avoided >= avoided[i]) & (given_up <= given_up[i]) & (
            (avoided > avoided[i]) | (given_up < given_up[i]))
        on[i] = not better.any()
    return on


def protection_table(stats: pd.DataFrame, windows: pd.DataFrame, assets: list[str] | None = None) -> pd.DataFrame:
    """One row per strategy x asset: protection, cost, significance and the rank, in ranking order.

    Args:
        stats: the run's full-period stats (``summary.json`` "stats"), one row per strategy x asset.
        windows: the run's windows table (``windows.csv``).
        assets: the order of the assets; by default their order in ``stats``.

    Returns:
        The stats columns plus ``mean_dd_avoided`` and ``n_windows`` (over the windows where buy &
        hold fell at least NOTHING_TO_AVOID, see :data:`MEAN_RULE`), ``mean_dd_avoided_all`` and
        ``n_windows_all`` (over every window), ``windows_protected``,
        ``cagr_given_up`` (buy & hold CAGR minus the rule's), ``sharpe_change`` (the rule's Sharpe
        minus buy & hold's), ``p_value`` (NaN when the run has none), ``significance`` (the mark),
        ``on_frontier`` and ``rank`` (1 = first within its asset, see :data:`ORDERING_RULE`).
    """
    frame = stats.copy()
    if frame.empty:
        return frame
    if len(windows) and "drawdown_avoided" in windows:
        w = windows[windows["strategy"].notna()].copy()
        w["_prot"] = w.apply(window_outcome, axis=1) == "protected"
        w["_fell"] = w["drawdown_avoided"].where(something_to_avoid(w["bh_max_dd"]))
        agg = w.groupby(["strategy", "asset"], sort=False).agg(
            mean_dd_avoided=("_fell", "mean"), n_windows=("_fell", "count"),
            mean_dd_avoided_all=("drawdown_avoided", "mean"), n_windows_all=("drawdown_avoided", "count"),
            windows_protected=("_prot", "sum"))
        frame = frame.merge(agg.reset_index(), on=["strategy", "asset"], how="left")
    else:
        frame["mean_dd_avoided"], frame["n_windows"], frame["windows_protected"] = np.nan, 0, 0
        frame["mean_dd_avoided_all"], frame["n_windows_all"] = np.nan, 0
    base = frame[frame["strategy"] == BASELINE].set_index("asset")
    for col, out, sign in (("cagr", "cagr_given_up", -1), ("sharpe", "sharpe_change", 1)):
        ref = frame["asset"].map(base[col]) if col in frame and col in base else np.nan
        frame[out] = sign * (frame[col] - ref) if col in frame else np.nan
    pcol = significance_column(stats)
    frame["p_value"] = frame[pcol] if pcol else np.nan
    frame["significance"] = frame["p_value"].map(significance_mark)
    frame["on_frontier"] = False
    frame["rank"] = 0
    order = assets or list(dict.fromkeys(frame["asset"]))
    out = []
    for asset in order + [a for a in dict.fromkeys(frame["asset"]) if a not in order]:
        sub = frame[frame["asset"] == asset].copy()
        rules = sub[sub["strategy"] != BASELINE].copy()
        av = rules["mean_dd_avoided"].fillna(-np.inf).to_numpy(float)
        gu = rules["cagr_given_up"].fillna(np.inf).to_numpy(float)
        rules["on_frontier"] = _frontier(av, gu)
        rules["_av"], rules["_gu"] = av, gu
        rules = rules.sort_values(["on_frontier", "_av", "_gu", "strategy"], ascending=[False, False, True, True],
                                  kind="stable").drop(columns=["_av", "_gu"])
        sub = pd.concat([rules, sub[sub["strategy"] == BASELINE]])
        sub["rank"] = np.arange(1, len(sub) + 1)
        out.append(sub)
    return pd.concat(out, ignore_index=True)
