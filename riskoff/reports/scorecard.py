"""scorecard.html: the signal scorecard as one offline page (plotly.js embedded once, inline).

Sections: the rules (how episodes and metrics are defined), a lead-time vs false-alarm scatter
(one point per signal x asset), a timeline per asset (close on a log scale, episodes shaded, one
row per signal with its risk-off spans, caution spans thinner), and the scorecard and episode
tables, and :func:`write_scorecard`, which writes them with scorecard.csv and episodes.csv. Every name that reaches the page goes through :func:`riskoff.reports.report.esc`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.evaluation.scorecard import Scorecard
from riskoff.reports.charts import log_ticks
from riskoff.reports.report import esc
from riskoff.run.folder import RunFolder
from riskoff.run.folder import default_out as run_folder_default_out

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
_TABLE_COLS = ["signal", "asset", "revised", "eligible", "caught", "catch_rate", "chance_rate", "catch_edge",
               "time_warning",
               "lead_median", "lead_p25", "lead_p75", "fall_at_fire", "false_alarms_per_year", "time_off",
               "cagr_given_up", "turnover", "named_caught", "named_eligible", "first_reading"]


def spans(mask: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) bar of each run of True in a boolean Series."""
    m = mask.to_numpy(dtype=bool)
    if not m.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    idx = mask.index
    return [(idx[a], idx[b - 1]) for a, b in zip(edges[::2], edges[1::2])]


def _span_trace(mask: pd.Series, y: int, color: str, width: int, name: str, show: bool):
    import plotly.graph_objects as go

    xs, ys = [], []
    for a, b in spans(mask):
        xs += [a, b + pd.Timedelta(days=1), None]
        ys += [y, y, None]
    return go.Scattergl(x=xs, y=ys, mode="lines", line={"color": color, "width": width}, name=name,
                        legendgroup=name, showlegend=show, hoverinfo="skip")


def timeline_figure(card: "Scorecard", asset: str):
    """Close (log) above; one row per signal: risk-off spans (thick red), caution (thin amber)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    close, states = card.closes[asset], card.states[asset]
    names = list(states.columns)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.03)
    traces = [go.Scattergl(x=close.index, y=close.to_numpy(), mode="lines", line={"color": "#222", "width": 1},
                           name=f"{asset} close", showlegend=False)]
    for i, name in enumerate(names):
        st = states[name]
        traces += [_span_trace(st == 1, i, "#f2b134", 3, "caution", i == 0),
                   _span_trace(st == 2, i, "#d62728", 7, "risk-off", i == 0)]
    fig.add_traces(traces, rows=[1] + [2] * (len(traces) - 1), cols=[1] * len(traces))
    shapes = []  # one layout update: add_vrect per episode re-validates the whole layout each time
    for e in card.episodes[card.episodes.asset == asset].itertuples():
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": e.peak,
                       "x1": e.trough if e.kind == "drawdown" else e.end, "y0": 0, "y1": 1, "line": {"width": 0},
                       "layer": "below",
                       "fillcolor": "rgba(70,110,200,0.13)" if e.kind == "drawdown" else "rgba(240,150,60,0.18)"})
    fig.update_layout(shapes=shapes)
    positive = close[close > 0]
    major = log_ticks(float(positive.min()), float(positive.max())) if len(positive) else None
    fig.update_yaxes(type="log", title_text="close", row=1, col=1,
                     **({"tickmode": "array", "tickvals": major["vals"], "ticktext": major["text"],
                         "minor": {"showgrid": False, "ticks": ""}} if major else {}))
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=[esc(n) for n in names], autorange="reversed",
                     row=2, col=1)
    fig.update_layout(height=260 + 22 * len(names), margin={"l": 150, "r": 20, "t": 30, "b": 30},
                      title=f"{esc(asset)}: drawdown episodes (blue, peak to trough), named windows (orange)",
                      legend={"orientation": "h", "y": 1.04, "x": 0.6})
    return fig


# The scatter's labels are laid out for a plot area this wide (a window of about 1000 px): wider
# plots only spread the points further apart, so labels that clear each other here clear there too.
_SCATTER_HEIGHT = 560
_SCATTER_MARGIN = {"l": 60, "r": 20, "t": 70, "b": 50}
_LABEL_WIDTH_PX = 900
_LABEL_FONT = 9
# plotly's textposition per point, nearest spots first, and where each puts the label's centre
# (in units of the marker radius r, the label's half width w and half height h; screen y points down).
_TEXT_SPOTS = [("top center", 0, 0, -1, -1), ("bottom center", 0, 0, 1, 1), ("middle right", 1, 1, 0, 0),
               ("middle left", -1, -1, 0, 0), ("top right", 1, 1, -1, -1), ("top left", -1, -1, -1, -1),
               ("bottom right", 1, 1, 1, 1), ("bottom left", -1, -1, 1, 1)]


def _front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points no other point beats on both counts: fewer (or as few) false alarms and a longer lead."""
    return np.array([not np.any((x <= xi) & (y >= yi) & ((x < xi) | (y > yi))) for xi, yi in zip(x, y)], dtype=bool)


def label_spots(points: pd.DataFrame, x_range: tuple[float, float], y_range: tuple[float, float],
                width: float = _LABEL_WIDTH_PX, height: float | None = None, max_labels: int = 40
                ) -> list[str | None]:
    """Where to label each scatter point (a plotly ``textposition``), or None to leave it unlabelled.

    The notable points come first: the lead-time vs false-alarm front over all assets, then each
    asset's front (no other signal on that asset warns earlier with as few false alarms), then the
    others, nearest the top-left corner first, up to ``max_labels``. Greedily, in that order, a point
    gets the first spot around its marker whose label overlaps no label already placed, no marker
    and stays inside the plot area; a point with no free spot stays unlabelled (its hover text still
    names it).

    Args:
        points: ``x``, ``y`` (data units), ``size`` (marker diameter, px), ``text``, ``asset``.
        x_range, y_range: the axes' fixed ranges.
        width, height: the plot area in pixels the layout assumes.
    """
    height = height or _SCATTER_HEIGHT - _SCATTER_MARGIN["t"] - _SCATTER_MARGIN["b"]
    x, y = points["x"].to_numpy(float), points["y"].to_numpy(float)
    px = (x - x_range[0]) / (x_range[1] - x_range[0]) * width
    py = (y_range[1] - y) / (y_range[1] - y_range[0]) * height
    r = points["size"].to_numpy(float) / 2 + 1
    boxes = [np.array([a - b, c - b, a + b, c + b]) for a, c, b in zip(px, py, r)]
    overall = _front(x, y)
    per_asset = np.zeros(len(points), dtype=bool)
    for asset in points["asset"].unique():
        idx = np.flatnonzero(points["asset"].to_numpy() == asset)
        per_asset[idx] = _front(x[idx], y[idx])
    # Then the rest where room is left, nearest the top-left corner (early and quiet) first.
    near = np.hypot((x - x_range[0]) / (x_range[1] - x_range[0]), (y_range[1] - y) / (y_range[1] - y_range[0]))
    order = sorted(range(len(points)), key=lambda i: (not overall[i], not per_asset[i], near[i]))[:max_labels]
    out: list[str | None] = [None] * len(points)
    placed: list[np.ndarray] = []
    for i in order:
        w = len(str(points["text"].iloc[i])) * 0.62 * _LABEL_FONT / 2 + 3  # half width, half height
        h = 0.65 * _LABEL_FONT + 2
        for name, kr, kw, lr, lh in _TEXT_SPOTS:
            cx, cy = px[i] + kr * r[i] + kw * w, py[i] + lr * r[i] + lh * h
            box = np.array([cx - w, cy - h, cx + w, cy + h])
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
            if inside and not any(_overlap(box, o) for o in placed + boxes):
                out[i] = name
                placed.append(box)
                break
    return out


def _overlap(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    """Boxes [left, top, right, bottom] overlap (touching edges do not)."""
    return bool(min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol)


def scatter_figure(card: "Scorecard"):
    """Median lead time (days) against false alarms per year, one point per signal x asset.

    Every point has hover text; only the notable ones carry a label (see :func:`label_spots`), so
    the labels stay readable however many signals there are.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    t = card.table
    assets = list(card.closes)
    sub = t[t.asset.isin(assets) & t.lead_median.notna() & t.false_alarms_per_year.notna()].copy()
    pts = pd.DataFrame({"x": sub.false_alarms_per_year.to_numpy(float), "y": sub.lead_median.to_numpy(float),
                        "size": (6 + 14 * sub.catch_rate.fillna(0)).to_numpy(float),
                        "text": sub.signal.astype(str).to_numpy(), "asset": sub.asset.to_numpy()})

    def padded(v: np.ndarray) -> tuple[float, float]:
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
        pad = max(hi - lo, 1.0) * 0.06
        return lo - pad, hi + pad

    x_range, y_range = padded(pts["x"].to_numpy()), padded(pts["y"].to_numpy())
    spots = label_spots(pts, x_range, y_range) if len(pts) else []
    sub["spot"] = spots
    for k, asset in enumerate(assets):
        rows = sub[sub.asset == asset]
        text = [f"{esc(r.signal)} on {esc(asset)}<br>caught {r.caught}/{r.eligible}, warning {r.time_warning:.0%} "
                f"of the time<br>CAGR given up {r.cagr_given_up:.2%}" for r in rows.itertuples()]
        color = _COLORS[k % len(_COLORS)]
        fig.add_trace(go.Scatter(x=rows.false_alarms_per_year, y=rows.lead_median, mode="markers+text",
                                 text=[esc(r.signal) if isinstance(r.spot, str) else "" for r in rows.itertuples()],
                                 textposition=[r.spot if isinstance(r.spot, str) else "top center"
                                               for r in rows.itertuples()],
                                 textfont={"size": _LABEL_FONT, "color": color}, hovertext=text, hoverinfo="text",
                                 name=esc(asset), cliponaxis=False,
                                 marker={"size": 6 + 14 * rows.catch_rate.fillna(0), "color": color,
                                         "opacity": 0.75}))
    fig.update_layout(height=_SCATTER_HEIGHT, xaxis_title="false alarms per year (warning runs not followed by a "
                      "7% fall, 15% crypto, within 60 days)", yaxis_title="median lead time (days before the trough)",
                      title="Lead time vs false alarms (marker size = share of drawdowns caught; labels where they "
                            "fit, best trade-offs first; hover any point)",
                      xaxis_range=list(x_range), yaxis_range=list(y_range),
                      legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
                      margin=_SCATTER_MARGIN)
    return fig


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.3g}"
    return esc(v)


def _table(df: pd.DataFrame, cols: list[str]) -> str:
    # Column names may wrap after an underscore (false_alarms_/per_year), so a column is as wide as
    # its numbers, not its name; the wrapper scrolls sideways only when even that cannot fit.
    head = "".join(f"<th>{esc(c).replace('_', '_<wbr>')}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
                   for row in df[cols].itertuples(index=False))
    return f"<div class='table-scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def scorecard_html(card: "Scorecard") -> str:
    """The whole page as a string (self-contained: works offline)."""
    from plotly.offline import get_plotlyjs

    from riskoff.evaluation import scorecard as sc

    figs = [("scatter", scatter_figure(card))] + [(f"timeline-{a}", timeline_figure(card, a)) for a in card.closes]
    divs = "\n".join(f'<section id="{esc(key)}">' + fig.to_html(full_html=False, include_plotlyjs=False) + "</section>"
                     for key, fig in figs)
    rules = esc(sc.__doc__ or "").replace("\n\n", "</p><p>")
    from riskoff.engine.annualisation import annualisation_note

    note = esc(annualisation_note(sorted({(c, "1d") for c in card.calendars.values()})))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>riskoff signal scorecard</title>
<style>body{{font-family:system-ui,sans-serif;margin:20px;color:#222}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ddd;padding:2px 5px;text-align:right}}th{{background:#f3f3f3;vertical-align:bottom}}
td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){{text-align:left}}td{{white-space:nowrap}}
.table-scroll{{max-width:100%;overflow-x:auto}}details p{{white-space:pre-wrap;font-size:12px}}</style>
<script>{get_plotlyjs()}</script></head><body>
<h1>Signal scorecard</h1>
<p>Created {esc(card.created)}. {len(card.table.signal.unique())} signals x {len(card.closes)} assets;
{int((card.episodes.kind == 'drawdown').sum())} drawdown episodes and {int((card.episodes.kind == 'named').sum())}
named windows. {note}.
Signals marked revised = true read latest-vintage data (history revised after the first print).</p>
<details><summary>How episodes and metrics are defined</summary><p>{rules}</p></details>
{divs}
<h2>Scorecard</h2>{_table(card.table, _TABLE_COLS)}
<h2>Episodes</h2>{_table(card.episodes, list(card.episodes.columns))}
</body></html>
"""


def default_out() -> Path:
    """results/<timestamp>-scorecard."""
    return run_folder_default_out("scorecard")


def write_scorecard(card: Scorecard, out: str | Path) -> Path:
    """Write scorecard.csv, episodes.csv and scorecard.html into ``out`` (atomically)."""
    with RunFolder(out, what="scorecard") as tmp:
        table = card.table.assign(revised=card.table["revised"].map({True: "true", False: "false"}))
        table.to_csv(tmp / "scorecard.csv", index=False, float_format="%.6g")
        card.episodes.to_csv(tmp / "episodes.csv", index=False, float_format="%.6g")
        (tmp / "scorecard.html").write_text(scorecard_html(card), encoding="utf-8")
    return Path(out)
