"""The run report: one self-contained HTML page built from a finished run folder.

The report only reads the files the runner leaves in a run folder (``summary.json``,
``windows.csv``, ``equity.csv``, ``exposure.csv``, ``prices.csv``, ``readings.csv``,
``states.csv``, ``events.csv``), so it can be rebuilt at any time without re-running a backtest.
The page works offline: the CSS and the small sorting/self-check script are inline and every chart
is a base64 PNG rendered by matplotlib. Every name that comes from a user (strategy, asset, signal
and window names, descriptions, config values) goes through :func:`html.escape` before it reaches
the page.

This module also holds the helpers that drive a headless Chromium (:func:`dump_dom`,
:func:`screenshot`), used by the browser tests and to produce the screenshot in ``docs/``.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BASELINE = "buy_and_hold"
ZOOM_BEFORE = pd.Timedelta(days=30)
ZOOM_AFTER = pd.Timedelta(days=60)
DPI = 90
_BASELINE_COLOR = "#222222"
_WINDOW_COLOR = "#f4a261"
_STATE_COLORS = {1: "#f6d55c", 2: "#e4572e"}  # caution, risk-off

__all__ = ["write_report", "screenshot", "dump_dom", "find_chromium", "read_summary", "read_dated_csv",
           "read_windows_table", "stats_frame", "split_column", "periods_per_year", "esc", "CHARTS_CHECK_JS"]


def esc(value: object) -> str:
    """HTML-escape any value (None becomes an empty string), quotes included.

    Args:
        value: anything; it is converted with ``str`` first.

    Returns:
        Text safe to place in element content and in quoted attribute values.
    """
    return html.escape("" if value is None else str(value), quote=True)


# ----------------------------------------------------------------------------------------------
# Reading a run folder
# ----------------------------------------------------------------------------------------------

def read_summary(run_dir: str | os.PathLike) -> dict:
    """Read ``summary.json`` from a run folder.

    Args:
        run_dir: the run folder.

    Returns:
        The parsed summary with the keys ``run``, ``config``, ``data``, ``versions``, ``stats`` and
        ``windows`` (missing keys are filled with empty values so callers need no guards).
    """
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a finished run folder?")
    summary = json.loads(path.read_text(encoding="utf-8"))
    for key, empty in (("run", {}), ("config", {}), ("data", {}), ("versions", {}), ("stats", []),
                       ("windows", [])):
        if summary.get(key) is None:
            summary[key] = empty
    return summary


def read_dated_csv(path: str | os.PathLike) -> pd.DataFrame | None:
    """Read one of the run's date-indexed CSV files (equity, exposure, prices, readings, states).

    Args:
        path: the CSV file; its first column is ``date``.

    Returns:
        A float frame on a sorted DatetimeIndex, or None when the file does not exist (the
        report then leaves out the sections that need it).
    """
    path = Path(path)
    if not path.is_file():
        return None
    frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    frame.columns = [str(c) for c in frame.columns]
    return frame.apply(pd.to_numeric, errors="coerce").astype("float64").sort_index()


def read_windows_table(run_dir: str | os.PathLike) -> pd.DataFrame:
    """Read ``windows.csv`` (one row per strategy x asset x window).

    Args:
        run_dir: the run folder.

    Returns:
        The table with ``start``/``trough``/``end`` as Timestamps and the metric columns as floats;
        an empty frame with the expected columns when the file is missing.
    """
    cols = ["strategy", "asset", "window", "start", "trough", "end", "strategy_return", "bh_return",
            "strategy_max_dd", "bh_max_dd", "drawdown_avoided", "exposure_at_trough", "lead_time_days",
            "reentry_lag_days", "return_given_up_60d"]
    path = Path(run_dir) / "windows.csv"
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    # Names stay text even when they look like numbers (a window called "2022").
    table = pd.read_csv(path, dtype={"strategy": str, "asset": str, "window": str}, keep_default_na=True)
    for col in ("start", "trough", "end"):
        if col in table:
            table[col] = pd.to_datetime(table[col], errors="coerce")
    for col in table.columns:
        if col not in ("strategy", "asset", "window", "start", "trough", "end"):
            table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    return table


def stats_frame(summary: dict) -> pd.DataFrame:
    """The summary's ``stats`` list as a frame, one row per strategy x asset.

    Args:
        summary: the parsed ``summary.json``.

    Returns:
        A frame with ``strategy`` and ``asset`` text columns and float metric columns.
    """
    frame = pd.DataFrame(summary.get("stats") or [])
    if frame.empty:
        return pd.DataFrame(columns=["strategy", "asset"])
    frame["strategy"] = frame["strategy"].astype(str)
    frame["asset"] = frame["asset"].astype(str)
    for col in frame.columns:
        if col not in ("strategy", "asset"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def split_column(column: str) -> tuple[str, str]:
    """Split a ``name/asset`` column label at its last slash.

    Args:
        column: an equity, exposure, readings or states column label.

    Returns:
        ``(name, asset)``; the asset is empty when the label has no slash.
    """
    name, _, asset = str(column).rpartition("/")
    return (name, asset) if name else (asset, "")


def periods_per_year(asset: str, stats: pd.DataFrame | None = None, series: pd.Series | None = None) -> int:
    """The annualisation factor the report uses for one asset.

    The stats rows written by the runner are authoritative. Without them the asset's catalog
    calendar decides, and for an asset the catalog does not know, a series with weekend
    observations is taken to trade on the 7-day UTC clock; both go through
    :func:`riskoff.annualisation.periods_per_year` (daily bars).

    Args:
        asset: the asset name.
        stats: the run's stats frame (see :func:`stats_frame`), optional.
        series: an equity or price series of the asset on its own calendar, optional.
    """
    from riskoff.annualisation import periods_per_year as clock_periods
    from riskoff.data.catalog import load_catalog

    if stats is not None and not stats.empty and "periods_per_year" in stats:
        values = stats.loc[stats["asset"] == asset, "periods_per_year"].dropna()
        if len(values):
            return int(values.mode().iloc[0])
    catalog = load_catalog()
    if asset in catalog and catalog[asset].calendar in ("us", "utc"):
        return clock_periods(catalog[asset].calendar)
    if series is not None:
        idx = series.dropna().index
        if isinstance(idx, pd.DatetimeIndex) and (idx.dayofweek >= 5).any():
            return clock_periods("utc")
    return clock_periods("us")


@dataclass
class _Window:
    id: str
    name: str
    start: pd.Timestamp
    trough: pd.Timestamp | None
    end: pd.Timestamp
    meta: dict


def _window_meta(summary: dict) -> dict[str, dict]:
    return {str(w.get("id")): w for w in summary.get("windows", []) if w.get("id") is not None}


def _ts(value) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    ts = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(ts) else pd.Timestamp(ts)


def _asset_windows(asset: str, wtable: pd.DataFrame, meta: dict[str, dict]) -> list[_Window]:
    """The windows evaluated for one asset, with that asset's own trough, ordered by start."""
    out: dict[str, _Window] = {}
    rows = wtable[wtable["asset"] == asset] if not wtable.empty else wtable
    for _, row in rows.drop_duplicates("window").iterrows():
        wid = str(row["window"])
        m = meta.get(wid, {})
        start, end = _ts(row.get("start")) or _ts(m.get("start")), _ts(row.get("end")) or _ts(m.get("end"))
        if start is None or end is None:
            continue
        out[wid] = _Window(wid, str(m.get("name", wid)), start, _ts(row.get("trough")) or _ts(m.get("trough")),
                           end, m)
    if not out:
        # No evaluated rows for this asset: fall back to the catalog's list of affected assets.
        for wid, m in meta.items():
            if asset in [str(a) for a in m.get("assets", [])]:
                start, end = _ts(m.get("start")), _ts(m.get("end"))
                if start is not None and end is not None:
                    out[wid] = _Window(wid, str(m.get("name", wid)), start, _ts(m.get("trough")), end, m)
    return sorted(out.values(), key=lambda w: w.start)


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------

def _isnum(x) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x)) and not pd.isna(x)


def _pct(x, dp: int = 1) -> str:
    return f"{x * 100:.{dp}f}%" if _isnum(x) else "&ndash;"


def _pp(x, dp: int = 1) -> str:
    if not _isnum(x):
        return "&ndash;"
    v = round(x * 100, dp)
    return f"{v:+.{dp}f}&nbsp;pp" if v != 0 else f"{0:.{dp}f}&nbsp;pp"  # no "-0.0"


def _num(x, dp: int = 2) -> str:
    return f"{x:.{dp}f}" if _isnum(x) else "&ndash;"


def _int(x) -> str:
    return f"{int(round(x))}" if _isnum(x) else "&ndash;"


def _date(x) -> str:
    ts = _ts(x)
    return ts.strftime("%Y-%m-%d") if ts is not None else "&ndash;"


def _sortval(x) -> str:
    return esc(f"{x:.10g}") if _isnum(x) else ""


def _cell(x, fmt) -> str:
    return f'<td class="n" data-v="{_sortval(x)}">{fmt(x)}</td>'


def _heat_color(value: float, cap: float) -> str:
    """Diverging colour: green = drawdown avoided (protection), red = deeper drawdown than B&H."""
    if not _isnum(value):
        return "#eeeeee"
    t = max(-1.0, min(1.0, value / cap))
    pos, neg, white = (26, 152, 80), (215, 48, 39), (255, 255, 255)
    target = pos if t >= 0 else neg
    a = abs(t) ** 0.8
    r, g, b = (round(w + (c - w) * a) for w, c in zip(white, target))
    return f"#{r:02x}{g:02x}{b:02x}"


# ----------------------------------------------------------------------------------------------
# Charts (matplotlib Figure objects, never pyplot: no global state, nothing to close)
# ----------------------------------------------------------------------------------------------

def _mpl_text(s: object) -> str:
    # A "$" in a user name would switch matplotlib to mathtext (and can raise); escape it.
    return str(s).replace("$", r"\$")


def _figure(nrows: int, heights: list[float], width: float = 12.5):
    from matplotlib.figure import Figure

    # Fixed margins in inches instead of bbox_inches="tight": tight bounding boxes cost a second full
    # draw per chart (about 40% of the report's build time).
    top_in, bottom_in = 0.45, 0.5
    height = sum(heights) + top_in + bottom_in
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, top=1 - top_in / height,
                        bottom=bottom_in / height, hspace=0.12)
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    return fig, list(axes)


def _finish_dates(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _img(fig, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="chart" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def _shade_windows(ax, windows: list[_Window], label: bool) -> None:
    for w in windows:
        ax.axvspan(w.start, w.end, color=_WINDOW_COLOR, alpha=0.22, lw=0, zorder=0)
        if label:
            ax.text(w.start, 0.98, _mpl_text(w.id), transform=ax.get_xaxis_transform(), rotation=90,
                    va="top", ha="right", fontsize=7, color="#8a4b0f")


def _strategy_colors(strategies: list[str]) -> dict[str, str]:
    from matplotlib import colormaps

    palette = [colormaps["tab10"](i % 10) for i in range(10)]
    colors, k = {}, 0
    for s in strategies:
        if s == BASELINE:
            colors[s] = _BASELINE_COLOR
        else:
            colors[s] = palette[k % len(palette)]
            k += 1
    return colors


def _equity_chart(asset: str, equity: pd.DataFrame, strategies: list[str], colors: dict, windows: list[_Window]) -> str:
    fig, (ax_eq, ax_dd) = _figure(2, [3.2, 1.6])
    positive = True
    for s in strategies:
        col = f"{s}/{asset}"
        if col not in equity:
            continue
        series = equity[col].dropna()
        if series.empty:
            continue
        positive &= bool((series > 0).all())
        lw, z = (1.6, 3) if s == BASELINE else (1.1, 2)
        ax_eq.plot(series.index, series.values, color=colors[s], lw=lw, zorder=z, label=_mpl_text(s))
        dd = series / series.cummax() - 1.0
        ax_dd.plot(dd.index, dd.values * 100, color=colors[s], lw=lw * 0.8, zorder=z)
    lo_hi = [equity[f"{s}/{asset}"].agg(["min", "max"]) for s in strategies if f"{s}/{asset}" in equity]
    span = max((float(x["max"]) for x in lo_hi), default=1.0) / max(min((float(x["min"]) for x in lo_hi),
                                                                        default=1.0), 1e-12)
    if positive and span > 4:  # on a narrow range a log axis only adds unreadable ticks
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        # Log scale so a -50% and a +100% look alike, with plain labels (0.5, 1, 2) not 10^x.
        ax_eq.set_yscale("log")
        ax_eq.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax_eq.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax_eq.yaxis.set_minor_formatter(NullFormatter())
    _shade_windows(ax_eq, windows, label=True)
    _shade_windows(ax_dd, windows, label=False)
    ax_eq.set_ylabel("equity (start = 1)")
    ax_dd.set_ylabel("drawdown %")
    ax_eq.set_title(_mpl_text(f"{asset}: equity and drawdown (shaded: sell-off windows)"), loc="left", fontsize=11)
    # Legend above the plot, so it never hides the window labels or the curves.
    ax_eq.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncol=min(4, max(1, len(strategies))),
                 frameon=False, borderaxespad=0.2)
    for ax in (ax_eq, ax_dd):
        ax.grid(alpha=0.3)
    _finish_dates(ax_dd)
    return _img(fig, f"{asset} equity and drawdown")


def _exposure_chart(asset: str, exposure: pd.DataFrame, strategies: list[str], colors: dict,
                    windows: list[_Window]) -> str | None:
    cols = [(s, f"{s}/{asset}") for s in strategies if s != BASELINE and f"{s}/{asset}" in exposure]
    if not cols:
        return None
    fig, axes = _figure(len(cols), [0.75] * len(cols))
    for ax, (s, col) in zip(axes, cols):
        series = exposure[col].dropna()
        ax.fill_between(series.index, 0, series.values, step="post", color=colors[s], alpha=0.55, lw=0)
        ax.step(series.index, series.values, where="post", color=colors[s], lw=0.6)
        _shade_windows(ax, windows, label=False)
        ax.set_ylim(-0.05, 1.15)
        ax.set_yticks([0, 1])
        ax.text(0.005, 0.92, _mpl_text(s), transform=ax.transAxes, va="top", fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})
    axes[0].set_title(_mpl_text(f"{asset}: exposure per strategy (1 = fully invested)"), loc="left", fontsize=11)
    _finish_dates(axes[-1])
    return _img(fig, f"{asset} exposure timeline")


def _state_runs(states: pd.Series):
    """(start, stop, state) runs of equal consecutive states, for background shading."""
    s = states.dropna()
    if s.empty:
        return []
    change = s.ne(s.shift()).cumsum()
    runs = []
    idx = s.index
    for _, grp in s.groupby(change, sort=False):
        start = grp.index[0]
        pos = idx.get_loc(grp.index[-1])
        stop = idx[pos + 1] if pos + 1 < len(idx) else grp.index[-1] + pd.Timedelta(days=1)
        runs.append((start, stop, int(grp.iloc[0])))
    return runs


def _window_chart(w: _Window, asset: str, prices, readings, states, exposure, strategies: list[str],
                  colors: dict) -> str | None:
    lo, hi = w.start - ZOOM_BEFORE, w.end + ZOOM_AFTER
    price = prices[asset].loc[lo:hi].dropna() if prices is not None and asset in prices else pd.Series(dtype=float)
    signal_cols = [c for c in (readings.columns if readings is not None else []) if split_column(c)[1] == asset]
    exp_cols = [(s, f"{s}/{asset}") for s in strategies
                if s != BASELINE and exposure is not None and f"{s}/{asset}" in exposure]
    if price.empty and not signal_cols and not exp_cols:
        return None
    heights = [1.9] + [0.85] * len(signal_cols) + ([1.3] if exp_cols else [])
    fig, axes = _figure(len(heights), heights)
    ax_p = axes[0]
    if not price.empty:
        ax_p.plot(price.index, price.values, color=_BASELINE_COLOR, lw=1.2)
    ax_p.set_ylabel("close", fontsize=8)
    ax_p.set_title(_mpl_text(f"{w.name} ({w.id}) - {asset}: price, signal readings, exposure"),
                   loc="left", fontsize=11)
    for k, col in enumerate(signal_cols):
        ax = axes[1 + k]
        r = readings[col].loc[lo:hi].dropna()
        if states is not None and col in states:
            for a, b, st in _state_runs(states[col].loc[lo:hi]):
                if st in _STATE_COLORS:
                    ax.axvspan(a, b, color=_STATE_COLORS[st], alpha=0.35, lw=0, zorder=0)
        ax.plot(r.index, r.values, color="#3b5b92", lw=1.0)
        ax.text(0.005, 0.92, _mpl_text(split_column(col)[0]), transform=ax.transAxes, va="top", fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})
        ax.tick_params(axis="y", labelsize=7)
    if exp_cols:
        ax_x = axes[-1]
        n = len(exp_cols)
        for j, (s, col) in enumerate(exp_cols):
            e = exposure[col].loc[lo:hi].dropna()
            # A small vertical offset keeps overlapping 0/1 lines distinguishable.
            off = (j - (n - 1) / 2) * 0.02
            ax_x.step(e.index, e.values + off, where="post", color=colors[s], lw=1.3, label=_mpl_text(s))
        ax_x.set_ylim(-0.1, 1.15)
        ax_x.set_ylabel("exposure", fontsize=8)
        ax_x.legend(loc="lower left", fontsize=7, ncol=min(4, n), framealpha=0.8)
    for ax in axes:
        ax.axvspan(w.start, w.end, color=_WINDOW_COLOR, alpha=0.15, lw=0, zorder=0)
        if w.trough is not None:
            ax.axvline(w.trough, color="#c0392b", lw=0.9, ls=":")
        ax.grid(alpha=0.3)
        ax.set_xlim(lo, hi)
    _finish_dates(axes[-1])
    return _img(fig, f"{w.name} {asset} zoom")


# ----------------------------------------------------------------------------------------------
# HTML pieces
# ----------------------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;color:#1d232b;
background:#f7f8fa;font-size:14px;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:18px 28px 60px;background:#fff}
h1{font-size:24px;margin:6px 0 4px}h2{font-size:19px;margin:30px 0 8px;border-bottom:2px solid #e3e6ea;
padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:12.5px}
th,td{border:1px solid #dde1e6;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#dde3ea}
table.meta td:first-child{font-weight:600;background:#f6f7f9;white-space:nowrap}
td.hm{text-align:center;font-variant-numeric:tabular-nums;white-space:nowrap;min-width:72px}
td.hm-mean{text-align:center;font-weight:600;white-space:nowrap}
tr.base td{color:#555;background:#fafafa}
.note{background:#f3f7fc;border-left:4px solid #4a7fc1;padding:8px 12px;margin:10px 0}
.muted{color:#667}.small{font-size:12px}
img.chart{max-width:100%;height:auto;display:block;margin:6px 0 14px;border:1px solid #eceff2}
nav a{margin-right:12px}code{background:#f1f3f5;padding:0 3px;border-radius:3px}
pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px;max-height:420px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.legend span{display:inline-block;width:14px;height:12px;margin:0 4px -2px 10px;border:1px solid #ccc}
"""

# The self-check sets body data-* attributes once every chart has decoded, so a headless browser
# (``--dump-dom``) can assert that the charts render; the sorter makes the ranking table sortable.
CHARTS_CHECK_JS = """
(function(){
  function check(){
    var imgs=Array.prototype.slice.call(document.images);
    var svgs=Array.prototype.slice.call(document.querySelectorAll('svg'));
    var broken=0;
    imgs.forEach(function(i){if(!(i.complete&&i.naturalWidth>0))broken++;});
    svgs.forEach(function(s){var r=s.getBoundingClientRect();if(!(r.width>0&&r.height>0))broken++;});
    var b=document.body;
    b.setAttribute('data-charts-total',String(imgs.length+svgs.length));
    b.setAttribute('data-charts-broken',String(broken));
    b.setAttribute('data-charts-ok',(broken===0&&imgs.length+svgs.length>0)?'true':'false');
  }
  window.addEventListener('load',check);
})();
"""

_SORT_JS = """
(function(){
  function key(td){var v=td.getAttribute('data-v');if(v!==null&&v!==''){return parseFloat(v);}
    return v===''?null:td.textContent.trim().toLowerCase();}
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,ci){
      th.addEventListener('click',function(){
        var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        var dir=th.getAttribute('data-dir')==='desc'?1:-1;th.setAttribute('data-dir',dir===1?'asc':'desc');
        rows.sort(function(a,b){var x=key(a.cells[ci]),y=key(b.cells[ci]);
          if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
          return (x<y?-1:x>y?1:0)*dir;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""


def _annualisation_note(stats: pd.DataFrame, assets: list[str], equity: pd.DataFrame | None) -> str:
    parts = []
    for a in assets:
        cols = [c for c in equity.columns if split_column(c)[1] == a] if equity is not None else []
        series = equity[cols[0]] if cols else None
        ppy = periods_per_year(a, stats, series)
        why = "calendar days, the asset trades every day" if ppy == 365 else "US trading days"
        parts.append(f"<b>{esc(a)}</b>: {ppy} periods/year ({why})")
    return ("Annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar) use each asset's own "
            "calendar: " + "; ".join(parts) + ".") if parts else ""


def _header(summary: dict, run_dir: Path, note: str) -> str:
    run, data, versions = summary["run"], summary["data"], summary["versions"]
    name = run.get("name") or run_dir.name
    rows = [("Run", name), ("Created", run.get("created")), ("Config file", run.get("config_file")),
            ("Config hash", run.get("config_hash")), ("Data dir", data.get("data_dir")),
            # a run is rendered inside its temporary folder (.NAME.tmp-PID) and renamed after
            ("Run folder", re.sub(r"(^|/)\.([^/]+)\.tmp-\d+$", r"\1\2", str(run_dir))),
            ("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))]
    meta = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, ""))
    how = (
        "<p><b>How to read this report.</b> Each <i>strategy</i> turns regime signals into an exposure "
        "between 0 (all cash) and 1 (fully invested) in one <i>asset</i>; <code>buy_and_hold</code> is "
        "the baseline that is always fully invested. The <b>ranking</b> orders strategies within each "
        "asset by their mean <b>drawdown avoided</b> across the documented sell-off windows: the "
        "strategy's maximum drawdown inside a window minus buy &amp; hold's, in percentage points, so "
        "<b>positive means protection</b> (e.g. +12 pp = the strategy lost 12 points less at its worst); "
        "ties are broken by the full-history Calmar ratio. The <b>heatmap</b> shows the same number per "
        "window (green protects, red hurts). The <b>charts</b> show full-history equity and drawdown "
        "with the sell-off windows shaded in orange, then each strategy's exposure over time. Finally "
        "every window gets a <b>zoomed panel</b> (30 days before the start to 60 days after the end) of "
        "the asset's price, each signal's reading with its state as background (yellow = caution, "
        "red = risk-off, none = risk-on) and the strategies' exposure; the red dotted line marks the "
        "trough. <i>Lead time</i> is how many days before the trough the strategy first cut exposure, "
        "<i>re-entry lag</i> how many days after the trough it was fully invested again, "
        "<i>return given up</i> the buy &amp; hold return missed in the 60 days after the trough.</p>")
    return (f"<h1>riskoff report &mdash; {esc(name)}</h1>"
            f'<table class="meta">{meta}</table>{how}'
            + (f'<div class="note">{note}</div>' if note else ""))


def _ranking(stats: pd.DataFrame, wtable: pd.DataFrame, assets: list[str]) -> str:
    if stats.empty:
        return "<p class='muted'>No stats in summary.json.</p>"
    frame = stats.copy()
    if not wtable.empty and "drawdown_avoided" in wtable:
        agg = wtable.groupby(["strategy", "asset"], sort=False)["drawdown_avoided"].agg(
            mean_avoided="mean", n_windows="count", protected=lambda s: int((s > 1e-9).sum()))
        frame = frame.merge(agg.reset_index(), on=["strategy", "asset"], how="left")
    else:
        frame["mean_avoided"] = np.nan
        frame["n_windows"] = np.nan
        frame["protected"] = np.nan
    order = {a: i for i, a in enumerate(assets)}
    frame["_a"] = frame["asset"].map(order).fillna(len(order))
    frame["_m"] = frame["mean_avoided"].fillna(-np.inf)
    frame["_c"] = frame["calmar"].fillna(-np.inf) if "calmar" in frame else -np.inf
    frame = frame.sort_values(["_a", "_m", "_c"], ascending=[True, False, False], kind="stable")
    frame["rank"] = frame.groupby("asset", sort=False).cumcount() + 1
    cols = [("cagr", "CAGR", _pct), ("volatility", "Vol", _pct), ("sharpe", "Sharpe", _num),
            ("sortino", "Sortino", _num), ("max_drawdown", "Max DD", _pct), ("calmar", "Calmar", _num),
            ("time_in_market", "Time in mkt", lambda x: _pct(x, 0)), ("turnover", "Turnover", _num),
            ("derisk_episodes", "De-risk episodes", _int), ("false_alarms", "False alarms", _int),
            ("total_return", "Total return", lambda x: _pct(x, 0)), ("periods_per_year", "Periods/yr", _int)]
    cols = [c for c in cols if c[0] in frame]
    head = ("<tr><th>#</th><th>Strategy</th><th>Asset</th><th title='mean over windows of strategy max DD "
            "minus buy &amp; hold max DD'>Mean DD avoided</th><th>Windows protected</th>"
            + "".join(f"<th>{esc(label)}</th>" for _, label, _ in cols) + "</tr>")
    body = []
    for _, r in frame.iterrows():
        prot = (f"{int(r['protected'])}/{int(r['n_windows'])}" if _isnum(r.get("n_windows")) and r["n_windows"] > 0
                else "&ndash;")
        cls = ' class="base"' if r["strategy"] == BASELINE else ""
        body.append(
            f"<tr{cls} data-strategy=\"{esc(r['strategy'])}\" data-asset=\"{esc(r['asset'])}\">"
            f"<td class='n' data-v='{int(r['rank'])}'>{int(r['rank'])}</td><td>{esc(r['strategy'])}</td>"
            f"<td>{esc(r['asset'])}</td>{_cell(r['mean_avoided'], _pp)}"
            f"<td class='n' data-v='{_sortval(r.get('protected'))}'>{prot}</td>"
            + "".join(_cell(r[c], f) for c, _, f in cols) + "</tr>")
    return (f'<table class="sortable" id="ranking"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
            "<p class='small muted'>Ranked within each asset by mean drawdown avoided across the sell-off "
            "windows (descending), ties by Calmar. Click a column header to re-sort.</p>")


def _heatmaps(wtable: pd.DataFrame, assets: list[str], strategies: list[str], meta: dict) -> str:
    if wtable.empty:
        return "<p class='muted'>No windows.csv in this run.</p>"
    parts = []
    for asset in assets:
        rows = wtable[(wtable["asset"] == asset) & (wtable["strategy"] != BASELINE)]
        if rows.empty:
            continue
        wins = _asset_windows(asset, wtable, meta)
        wids = [w.id for w in wins] + [x for x in rows["window"].unique() if x not in {w.id for w in wins}]
        names = {w.id: w.name for w in wins}
        cap = max(0.02, float(np.nanmax(np.abs(rows["drawdown_avoided"].to_numpy(dtype=float))))
                  if rows["drawdown_avoided"].notna().any() else 0.02)
        head = "<tr><th>Strategy</th>" + "".join(
            f"<th title=\"{esc(w)}\">{esc(names.get(w, w))}</th>" for w in wids) + "<th>Mean</th></tr>"
        body = []
        strats = [s for s in strategies if s in set(rows["strategy"])] + \
                 [s for s in rows["strategy"].unique() if s not in strategies]
        for s in strats:
            cells = []
            srows = rows[rows["strategy"] == s]
            for w in wids:
                hit = srows[srows["window"] == w]
                if hit.empty:
                    cells.append("<td class='muted'>&ndash;</td>")
                    continue
                r = hit.iloc[0]
                v = r["drawdown_avoided"]
                tip = (f"{s} on {asset}, {names.get(w, w)}: strategy max DD {_pct(r.get('strategy_max_dd'))}"
                       f" vs buy & hold {_pct(r.get('bh_max_dd'))}; return {_pct(r.get('strategy_return'))}"
                       f" vs {_pct(r.get('bh_return'))}; exposure at trough {_num(r.get('exposure_at_trough'))}")
                cells.append(
                    f"<td class=\"hm\" data-strategy=\"{esc(s)}\" data-asset=\"{esc(asset)}\" "
                    f"data-window=\"{esc(w)}\" style=\"background:{_heat_color(v, cap)}\" "
                    f"title=\"{esc(html.unescape(tip))}\">{_pp(v)}</td>")
            mean = srows["drawdown_avoided"].mean()
            cells.append(f"<td class='hm-mean' style='background:{_heat_color(mean, cap)}'>{_pp(mean)}</td>")
            body.append(f"<tr><td>{esc(s)}</td>{''.join(cells)}</tr>")
        parts.append(f"<h3>{esc(asset)}</h3><table class='heatmap'><thead>{head}</thead>"
                     f"<tbody>{''.join(body)}</tbody></table>")
    legend = ("<p class='small muted legend'>One table per asset (a window only counts for the assets it was "
              "evaluated on); buy &amp; hold is left out because it avoids 0 pp by definition. Cell = "
              "strategy max drawdown minus buy &amp; hold max drawdown inside the window, in percentage "
              "points.<span style='background:#1a9850'></span>protection<span style='background:#d73027'>"
              "</span>deeper drawdown than buy &amp; hold; colour saturates at each asset's largest absolute "
              "value (at least 2 pp). Hover a cell for the details.</p>")
    return legend + "".join(parts)


def _window_table(rows: pd.DataFrame) -> str:
    cols = [("strategy_return", "Return", _pct), ("bh_return", "B&H return", _pct),
            ("strategy_max_dd", "Max DD", _pct), ("bh_max_dd", "B&H max DD", _pct),
            ("drawdown_avoided", "DD avoided", _pp), ("exposure_at_trough", "Exposure at trough", _num),
            ("lead_time_days", "Lead time (d)", _int), ("reentry_lag_days", "Re-entry lag (d)", _int),
            ("return_given_up_60d", "Return given up 60d", _pct)]
    cols = [c for c in cols if c[0] in rows]
    head = "<tr><th>Strategy</th>" + "".join(f"<th>{esc(label)}</th>" for _, label, _ in cols) + "</tr>"
    body = "".join(
        "<tr><td>" + esc(r["strategy"]) + "</td>" + "".join(_cell(r[c], f) for c, _, f in cols) + "</tr>"
        for _, r in rows.iterrows())
    return f"<table>{head}{body}</table>"


def _events_table(events: pd.DataFrame | None, asset: str, lo, hi, limit: int = 40) -> str:
    if events is None or events.empty:
        return ""
    sel = events[(events["asset"] == asset) & (events["date"] >= lo) & (events["date"] <= hi)]
    if sel.empty:
        return "<p class='small muted'>No exposure changes in this range.</p>"
    rows = "".join(
        f"<tr><td>{_date(r['date'])}</td><td>{esc(r['strategy'])}</td>"
        f"<td class='n'>{_num(r.get('old_exposure'))} &rarr; {_num(r.get('new_exposure'))}</td>"
        f"<td class='small'>{esc(r.get('states', ''))}</td></tr>"
        for _, r in sel.head(limit).iterrows())
    more = f"<p class='small muted'>... and {len(sel) - limit} more.</p>" if len(sel) > limit else ""
    return (f"<details><summary>Exposure changes ({len(sel)})</summary><table><tr><th>Date</th><th>Strategy"
            f"</th><th>Exposure</th><th>Signal states</th></tr>{rows}</table>{more}</details>")


def _read_events(run_dir: Path) -> pd.DataFrame | None:
    path = run_dir / "events.csv"
    if not path.is_file():
        return None
    events = pd.read_csv(path, dtype={"strategy": str, "asset": str, "states": str})
    events["date"] = pd.to_datetime(events["date"], errors="coerce")
    for col in ("old_exposure", "new_exposure"):
        if col in events:
            events[col] = pd.to_numeric(events[col], errors="coerce")
    return events


def _order(first: list[str], rest) -> list[str]:
    out = list(dict.fromkeys(first))
    out += [x for x in dict.fromkeys(rest) if x not in out]
    return out


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------

def write_report(run_dir: str | os.PathLike) -> Path:
    """Build ``RUN/report.html``: one self-contained, offline page comparing the run's strategies.

    The page holds a header (run name, config, data dir, annualisation note), a "How to read this
    report" paragraph, a ranking table (within each asset, by mean drawdown avoided across the
    sell-off windows, ties by Calmar), a strategy x window heatmap of drawdown avoided per asset,
    equity/drawdown charts with the windows shaded, an exposure timeline per strategy, and for every
    window a zoomed panel (start - 30 days to end + 60 days) of price, signal readings and states,
    and exposure, with the window's metrics and exposure changes. Sections whose input file is
    missing are left out.

    Args:
        run_dir: a finished run folder (see the module docstring for its files).

    Returns:
        The path of the written ``report.html``.
    """
    from riskoff import _mpl

    _mpl.configure()
    t0 = time.perf_counter()
    run_dir = Path(run_dir).resolve()
    summary = read_summary(run_dir)
    stats = stats_frame(summary)
    wtable = read_windows_table(run_dir)
    equity = read_dated_csv(run_dir / "equity.csv")
    exposure = read_dated_csv(run_dir / "exposure.csv")
    prices = read_dated_csv(run_dir / "prices.csv")
    readings = read_dated_csv(run_dir / "readings.csv")
    states = read_dated_csv(run_dir / "states.csv")
    events = _read_events(run_dir)
    meta = _window_meta(summary)

    col_pairs = [split_column(c) for c in (equity.columns if equity is not None else [])]
    assets = _order(list(stats.get("asset", [])), [a for _, a in col_pairs] + list(wtable["asset"].unique()))
    strategies = _order(([BASELINE] if BASELINE in set(stats.get("strategy", [])) or
                         any(s == BASELINE for s, _ in col_pairs) else []) + list(stats.get("strategy", [])),
                        [s for s, _ in col_pairs] + list(wtable["strategy"].unique()))
    colors = _strategy_colors(strategies)

    sections: list[tuple[str, str, str]] = []  # (anchor, title, html)
    sections.append(("ranking", "Ranking", _ranking(stats, wtable, assets)))
    sections.append(("heatmap", "Drawdown avoided: strategy x window",
                     _heatmaps(wtable, assets, strategies, meta)))

    if equity is not None:
        charts = [_equity_chart(a, equity, strategies, colors, _asset_windows(a, wtable, meta)) for a in assets
                  if any(split_column(c)[1] == a for c in equity.columns)]
        sections.append(("equity", "Equity and drawdown", "".join(charts)))
    if exposure is not None:
        charts = [c for c in (_exposure_chart(a, exposure, strategies, colors, _asset_windows(a, wtable, meta))
                              for a in assets) if c]
        sections.append(("exposure", "Exposure timeline", "".join(charts)))

    # One block per window, in chronological order, with one zoomed panel per evaluated asset.
    win_html = []
    all_windows: dict[str, list[tuple[str, _Window]]] = {}
    for a in assets:
        for w in _asset_windows(a, wtable, meta):
            all_windows.setdefault(w.id, []).append((a, w))
    for wid, items in sorted(all_windows.items(), key=lambda kv: kv[1][0][1].start):
        w0 = items[0][1]
        m = w0.meta
        info = (f"<p><b>{_date(w0.start)}</b> to <b>{_date(w0.end)}</b>"
                + (f", trough {_date(m.get('trough') or w0.trough)}" if (m.get("trough") or w0.trough) else "")
                + (f", sample: {esc(m.get('sample'))}" if m.get("sample") else "") + ". "
                + esc(m.get("description", "")) + "</p>"
                + (f"<p class='small muted'>Source: {esc(m.get('source'))}</p>" if m.get("source") else ""))
        blocks = []
        # Zoomed charts for the assets the window hit (its catalog `assets`), tables for all: a
        # chart per asset per window would dominate the page's size and build time.
        hit = [a for a, _ in items if a in set(m.get("assets") or [])] or [items[0][0]]
        for asset, w in items:
            rows = wtable[(wtable["window"] == wid) & (wtable["asset"] == asset)]
            chart = (_window_chart(w, asset, prices, readings, states, exposure, strategies, colors)
                     if asset in hit else "<p class='muted small'>Not among the assets this window hit most; "
                                          "metrics only.</p>")
            blocks.append(f"<h3>{esc(w.name)} &mdash; {esc(asset)}</h3>"
                          + (f"<p class='small muted'>Trough for {esc(asset)}: {_date(w.trough)}</p>"
                             if w.trough is not None else "")
                          + (_window_table(rows) if not rows.empty else "")
                          + (chart or "<p class='muted'>No price, reading or exposure data in range.</p>")
                          + _events_table(events, asset, w.start - ZOOM_BEFORE, w.end + ZOOM_AFTER))
        win_html.append(f"<section class='window' id='w-{esc(re.sub(r'[^A-Za-z0-9_-]', '_', wid))}'>"
                        f"<h2>Window: {esc(w0.name)} <span class='muted small'>({esc(wid)})</span></h2>"
                        f"{info}{''.join(blocks)}</section>")

    data = summary["data"]
    fps = data.get("fingerprints") or {}
    appendix = ("<details><summary>Data fingerprints (" + str(len(fps)) + " series)</summary><table>"
                "<tr><th>Series</th><th>sha256</th></tr>"
                + "".join(f"<tr><td>{esc(k)}</td><td><code>{esc(v)}</code></td></tr>" for k, v in fps.items())
                + "</table></details><details><summary>Run configuration</summary><pre>"
                + esc(json.dumps(summary["config"], indent=2, sort_keys=True, default=str)) + "</pre></details>")

    nav = "<nav class='small'>" + "".join(f"<a href='#{a}'>{esc(t)}</a>" for a, t, _ in sections) + \
          ("<a href='#windows'>Sell-off windows</a>" if win_html else "") + "<a href='#appendix'>Appendix</a></nav>"
    name = summary["run"].get("name") or run_dir.name
    body = (_header(summary, run_dir, _annualisation_note(stats, assets, equity)) + nav
            + "".join(f"<h2 id='{a}'>{esc(t)}</h2>{h}" for a, t, h in sections)
            + (f"<div id='windows'>{''.join(win_html)}</div>" if win_html else "")
            + f"<h2 id='appendix'>Appendix</h2>{appendix}"
            + f"<p class='small muted'>Built in {time.perf_counter() - t0:.1f} s by riskoff.reports.</p>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>riskoff report: {esc(name)}</title><style>{_CSS}</style></head>"
            f"<body><main>{body}</main><script>{_SORT_JS}{CHARTS_CHECK_JS}</script></body></html>")
    out = run_dir / "report.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


# ----------------------------------------------------------------------------------------------
# Headless Chromium
# ----------------------------------------------------------------------------------------------

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_CONSOLE_RE = re.compile(r":CONSOLE[:(]|Uncaught")


def find_chromium() -> str | None:
    """Locate a Chromium/Chrome binary (``RISKOFF_CHROMIUM`` first, then the usual names on PATH).

    Returns:
        The executable path, or None when none is installed.
    """
    env = os.environ.get("RISKOFF_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(html_path: str | os.PathLike, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    chrome = find_chromium()
    if chrome is None:
        raise FileNotFoundError("Chromium not found: install the Debian package `chromium` "
                                "(apt-get install -y chromium) or set RISKOFF_CHROMIUM")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="riskoff-chromium-") as profile:
        # Offline, no first-run/background traffic; a throwaway profile so runs never interfere.
        cmd = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(html_path: str | os.PathLike, timeout: float = 120) -> tuple[str, list[str]]:
    """Load a page in headless Chromium and return its DOM after scripts ran, plus console output.

    Args:
        html_path: a local HTML file (loaded through ``file://``).
        timeout: seconds before the browser is killed.

    Returns:
        ``(dom, console_lines)``: the serialised DOM and every browser log line that reports a page
        console message or an uncaught exception (an empty list for a clean page).
    """
    proc = _run_chromium(html_path, ["--dump-dom"], timeout)
    if proc.returncode != 0 and not proc.stdout:
        raise RuntimeError(f"chromium failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    console = [line for line in proc.stderr.splitlines() if _CONSOLE_RE.search(line)]
    return proc.stdout, console


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1280,
               height: int = 2200, timeout: float = 120) -> Path:
    """Save a PNG screenshot of a local HTML page rendered by headless Chromium.

    Args:
        html_path: the page (for example a run's ``report.html``).
        png_path: where to write the PNG; parent folders are created.
        width: viewport width in pixels.
        height: viewport height in pixels (the capture is the top of the page, this tall).
        timeout: seconds before the browser is killed.

    Returns:
        The PNG path.
    """
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)  # so a stale file can never pass for a fresh capture
    proc = _run_chromium(html_path, [f"--screenshot={png_path}", f"--window-size={width},{height}"], timeout)
    if not png_path.is_file() or png_path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return png_path
