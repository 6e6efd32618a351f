"""Signal scorecard: each signal's record over every sell-off in each asset's history.

``riskoff signals score`` answers "which signal would have warned me, how early, how often did it
cry wolf and what would acting on it alone have cost?" for every signal x asset pair.

Episodes (``episodes.csv``), on each asset's own bars:
    drawdown  every fall of at least ``FALLS`` (10% for equities, gold and other assets, 20% for
              crypto) from a running peak close to the lowest close that follows. The episode ends
              when the close is back at the peak ("recovered") or has rallied by the same fraction
              off the trough ("rally": the start of a new up-leg, so a long bear market with
              separate legs, like 2022, counts each leg); then a new peak is tracked from that bar.
              An episode still under way at the end of the data is "open".
    named     the windows of ``data/windows.toml`` that list the asset (peak = the window's start,
              trough = its trough for that asset).

Per signal x asset (``scorecard.csv``). A *warning* is a bar where the signal reads risk-off or
caution; *acting on the signal alone* means holding cash while it reads risk-off and the asset
otherwise (and before its data begins: no opinion is no trade), the ``signals_alone`` rule of the
default run.
    eligible          drawdown episodes where the signal has a state on at least 90% of the bars
                      from ``CATCH_LOOKBACK_DAYS`` (30) before the peak to the trough
    caught            eligible episodes with a warning in that span; ``catch_rate`` = caught / eligible
    chance_rate       the catch rate expected by luck: the share of circular shifts of the signal's
                      own warning pattern (within its span of readings) that would have caught each
                      episode, averaged over the eligible episodes. A signal that is always on alert,
                      or fires a day here and there all year, catches long episodes by chance
    catch_edge        catch_rate minus chance_rate: 0 for an always-on alarm, > 0 only for timing
    lead_*            lead time in days (median, 25th and 75th percentile, count) with
                      ``riskoff.evaluation.evaluate.lead_time`` on the warning target: from the start of the
                      warning run that covers the trough to the trough (caught episodes whose
                      warning had already ended by the trough have no lead time)
    fall_at_fire      median share of the peak-to-trough fall already suffered at the first warning
                      (0 = warned at or before the peak, 1 = only at the trough)
    false_alarms_per_year  warning runs that buy & hold did not follow with a fall of 7% (15% crypto)
                      within 60 days (``riskoff.evaluation.evaluate.false_alarms_of``), per year of readings
    time_off, time_warning  share of bars with readings at risk-off, at caution or risk-off
    cagr, bh_cagr, cagr_given_up  acting alone vs buy & hold over the span the signal has readings
                      (engine defaults: next-close fills, the asset class's default costs, cash at
                      SOFR/EFFR), and the yearly turnover of that rule
    named_caught, named_eligible  the same catch rule on the named windows
    revised           the signal reads latest-vintage (revised) data

Years are 252 US sessions or 365 crypto days (the asset's calendar), as the outputs state.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskoff.data.align import load
from riskoff.data.catalog import get_spec, load_catalog
from riskoff.engine.account import DEFAULT_COSTS, Costs, simulate
from riskoff.engine.annualisation import annualisation_note, periods_per_year
from riskoff.engine.cash import money_market_rate
from riskoff.engine.metrics import FULL_METRICS, Metric, segment_stats_nb
from riskoff.evaluation.evaluate import derisk_episodes, false_alarms_of, lead_time
from riskoff.evaluation.windows import SellOffWindow, load_windows
from riskoff.signals.contract import CAUTION, RISK_OFF, SignalSpec, discover
from riskoff.signals.evaluate import map_to_calendar, run_signal
from riskoff.util.errors import ConfigError
from riskoff.util.paths import resolve_data_dir

DEFAULT_ASSETS = ("SPY", "QQQ", "BTC-USD", "GLD")
FALLS = {"crypto": 0.20, "default": 0.10}
CATCH_LOOKBACK_DAYS = 30
MIN_COVERAGE = 0.9

EPISODE_COLUMNS = ["asset", "kind", "id", "name", "peak", "trough", "end", "ended_by", "depth", "bars_to_trough"]
SCORE_COLUMNS = ["signal", "asset", "revised", "eligible", "caught", "catch_rate", "chance_rate", "catch_edge",
                 "lead_median",
                 "lead_p25", "lead_p75", "lead_n", "fall_at_fire", "false_alarms", "false_alarms_per_year",
                 "years", "time_off", "time_warning", "cagr", "bh_cagr", "cagr_given_up", "turnover",
                 "named_eligible", "named_caught", "first_reading", "periods_per_year"]


@dataclass(frozen=True)
class Episode:
    """One sell-off on one asset: peak (last high before the fall), trough, and when it ended."""

    asset: str
    kind: str  # "drawdown" or "named"
    id: str
    name: str
    peak: pd.Timestamp
    trough: pd.Timestamp
    end: pd.Timestamp | None
    ended_by: str  # "recovered", "rally", "open" or "window"
    depth: float  # close at trough / close at peak - 1
    bars_to_trough: int

    def as_row(self) -> dict:
        return {"asset": self.asset, "kind": self.kind, "id": self.id, "name": self.name,
                "peak": f"{self.peak:%Y-%m-%d}", "trough": f"{self.trough:%Y-%m-%d}",
                "end": "" if self.end is None else f"{self.end:%Y-%m-%d}", "ended_by": self.ended_by,
                "depth": self.depth, "bars_to_trough": self.bars_to_trough}


def fall_for(asset_class: str) -> float:
    """The peak-to-trough fall that makes a drawdown episode for this asset class."""
    return FALLS.get(asset_class, FALLS["default"])


def find_drawdowns(close: pd.Series, fall: float, rally: float | None = None
                   ) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp | None, str]]:
    """(peak, trough, end, ended_by) of every fall of at least ``fall`` from a running peak.

    The episode ends at the first bar back at the peak ("recovered") or ``rally`` (default: the
    same fraction as ``fall``) above the trough ("rally"); end is None ("open") if neither happened
    by the last bar. Tracking restarts from the ending bar. Ex-post labelling of history, not a
    signal: the trough is only known once the episode is over.
    """
    rally = fall if rally is None else rally
    px = close.dropna()
    v, idx = px.to_numpy(dtype="float64"), px.index
    out: list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp | None, str]] = []
    peak = trough = 0
    falling = False
    for i in range(1, len(v)):
        if not falling and v[i] >= v[peak]:
            peak = trough = i
            continue
        if v[i] < v[trough]:
            trough = i
        if not falling and v[trough] <= v[peak] * (1 - fall):
            falling = True
        if falling:
            how = "recovered" if v[i] >= v[peak] else ("rally" if v[i] >= v[trough] * (1 + rally) else "")
            if how:
                out.append((idx[peak], idx[trough], idx[i], how))
                peak = trough = i
                falling = False
    if falling:
        out.append((idx[peak], idx[trough], None, "open"))
    return out


def episodes_for(asset: str, close: pd.Series, asset_class: str,
                 windows: Mapping[str, SellOffWindow] | None = None) -> list[Episode]:
    """The drawdown episodes of ``close`` and the named windows that list ``asset``."""
    px = close.dropna()
    pos = {d: i for i, d in enumerate(px.index)}
    eps = []
    for k, (peak, trough, end, how) in enumerate(find_drawdowns(px, fall_for(asset_class))):
        eps.append(Episode(asset, "drawdown", f"dd{k + 1:03d}", f"{asset} -{(1 - px[trough] / px[peak]) * 100:.0f}% "
                           f"{peak:%Y-%m}", peak, trough, end, how, float(px[trough] / px[peak] - 1),
                           pos[trough] - pos[peak]))
    for w in (windows or {}).values():
        trough = w.trough_for(asset)
        if asset not in w.assets or px.index[0] > w.start or px.index[-1] < trough:
            continue
        p0, p1 = px.loc[:w.start].iloc[-1], px.loc[:trough].iloc[-1]
        eps.append(Episode(asset, "named", w.id, w.name, w.start, trough, w.end, "window", float(p1 / p0 - 1),
                           int(((px.index > w.start) & (px.index <= trough)).sum())))
    return eps


@dataclass(frozen=True)
class EpisodeBars:
    """Bar positions of episodes on one asset's index (shared by every signal scored there)."""

    episodes: tuple[Episode, ...]
    lookback: np.ndarray  # first bar on or after peak - CATCH_LOOKBACK_DAYS
    peak: np.ndarray
    trough: np.ndarray

    @classmethod
    def of(cls, index: pd.DatetimeIndex, episodes: Sequence[Episode]) -> "EpisodeBars":
        eps = tuple(episodes)
        return cls(eps, index.searchsorted([e.peak - pd.Timedelta(days=CATCH_LOOKBACK_DAYS) for e in eps]),
                   index.searchsorted([e.peak for e in eps], side="right") - 1,
                   index.searchsorted([e.trough for e in eps], side="right") - 1)


def chance_of_catch(warn: np.ndarray, span: int) -> float:
    """Share of the circular shifts of ``warn`` under which a window of ``span`` bars holds a warning
    (the catch rate of the same warnings at random times)."""
    m = len(warn)
    if m == 0 or span <= 0:
        return float("nan")
    span = min(span, m)
    c = np.concatenate([[0], np.cumsum(np.concatenate([warn, warn[:span - 1]]).astype(np.int64))])
    return float(((c[span:span + m] - c[:m]) > 0).mean())


def episode_records(state: pd.Series, close: pd.Series, bars: EpisodeBars) -> list[dict]:
    """Per episode: eligible (readings on >= 90% of the bars from the look-back to the trough),
    caught (a warning in that span), the first warning, lead time and share of the fall suffered."""
    s = state.to_numpy(dtype="float64")
    px = close.to_numpy(dtype="float64")
    warn = s >= CAUTION
    has_cum = np.concatenate([[0], np.cumsum(~np.isnan(s))])
    seen = np.flatnonzero(~np.isnan(s))
    target = warning_target(state)
    out = []
    for e, lo, pk, tr in zip(bars.episodes, bars.lookback, bars.peak, bars.trough):
        n = tr + 1 - lo
        eligible = n > 0 and (has_cum[tr + 1] - has_cum[lo]) / n >= MIN_COVERAGE
        hits = np.flatnonzero(warn[lo:tr + 1]) if n > 0 else np.array([], int)
        rec = {"episode": e, "eligible": bool(eligible), "caught": bool(len(hits)), "first_warning": None,
               "lead_days": float("nan"), "fall_at_fire": float("nan"),
               "chance": chance_of_catch(warn[seen[0]:seen[-1] + 1], n) if eligible else float("nan")}
        if len(hits):
            first = lo + hits[0]
            fall = px[pk] - px[tr]
            rec["first_warning"] = state.index[first]
            rec["fall_at_fire"] = float(np.clip((px[pk] - px[max(first, pk)]) / fall, 0.0, 1.0)) if fall > 0 else 0.0
            rec["lead_days"] = lead_time(target, e.trough)
        out.append(rec)
    return out


def warning_target(state: pd.Series) -> pd.Series:
    """Exposure of "out while warning": 0 at caution or risk-off, 1 otherwise (no opinion = in)."""
    return pd.Series(np.where(state.to_numpy() >= CAUTION, 0.0, 1.0), index=state.index)


def acting_target(state: pd.Series) -> pd.Series:
    """Exposure of acting on the signal alone: cash while risk-off, the asset otherwise."""
    return pd.Series(np.where(state.to_numpy() >= RISK_OFF, 0.0, 1.0), index=state.index)


def score_pair(state: pd.Series, close: pd.Series, bars: EpisodeBars, asset_class: str, calendar: str = "us"
               ) -> dict:
    """Every scorecard column except the cost ones, for one signal's states on one asset's bars
    (``calendar`` sets the bars per year, ``asset_class`` the false-alarm fall)."""
    ppy = periods_per_year(calendar)
    has = state.notna()
    years = float(has.sum()) / ppy
    recs = [r for r in episode_records(state, close, bars) if r["eligible"]]
    dd = [r for r in recs if r["episode"].kind == "drawdown"]
    named = [r for r in recs if r["episode"].kind == "named"]
    caught = [r for r in dd if r["caught"]]
    leads = np.array([r["lead_days"] for r in caught if not math.isnan(r["lead_days"])])
    time_warning = float((state[has] >= CAUTION).mean()) if has.any() else float("nan")
    rate = len(caught) / len(dd) if dd else float("nan")
    chance = float(np.mean([r["chance"] for r in dd])) if dd else float("nan")
    seen = close.loc[has.idxmax():] if has.any() else close.iloc[:0]
    warn_runs = derisk_episodes(warning_target(state.loc[seen.index]))
    alarms = len(false_alarms_of(warn_runs, seen, asset_class)) if len(seen) else 0

    def pct(q: float) -> float:
        return float(np.percentile(leads, q)) if len(leads) else float("nan")
    return {
        "eligible": len(dd), "caught": len(caught), "catch_rate": rate,
        "chance_rate": chance, "catch_edge": rate - chance if dd else float("nan"),
        "lead_median": pct(50), "lead_p25": pct(25), "lead_p75": pct(75), "lead_n": int(len(leads)),
        "fall_at_fire": float(np.median([r["fall_at_fire"] for r in caught])) if caught else float("nan"),
        "false_alarms": alarms, "false_alarms_per_year": alarms / years if years > 0 else float("nan"),
        "years": years,
        "time_off": float((state[has] >= RISK_OFF).mean()) if has.any() else float("nan"),
        "time_warning": time_warning,
        "named_eligible": len(named), "named_caught": sum(r["caught"] for r in named),
        "first_reading": f"{has.idxmax():%Y-%m-%d}" if has.any() else "",
        "periods_per_year": ppy,
    }


def acting_costs(close: pd.Series, states: pd.DataFrame, asset_class: str, calendar: str, cash_rate: pd.Series,
                 costs: Costs) -> pd.DataFrame:
    """CAGR of acting on each signal alone vs buy & hold over the span the signal has readings,
    and the rule's yearly turnover (one row per signal).

    One engine run per asset: every signal is a column, fully invested before its data begins, so
    the equity from its first reading on compares like with like with buy & hold over the same bars.
    CAGR is :func:`riskoff.engine.metrics.segment_stats_nb` (the run's and the sweeps' implementation) on
    the asset's bars per year; turnover is the sum of absolute target changes a year, as in
    :func:`riskoff.evaluation.evaluate.full_period_stats`.
    """
    ppy = periods_per_year(calendar)
    target = pd.DataFrame({name: acting_target(states[name]) for name in states.columns}, index=close.index)
    sim = simulate(close, target.assign(__buy_and_hold__=1.0), cash_rate=cash_rate, costs=costs, fill="next_close")
    eq = sim.equity.to_numpy(dtype="float64")
    pv = (sim.exposure * sim.equity).to_numpy(dtype="float64")
    bh = len(states.columns)  # the buy & hold column
    none, ones, buf, out = np.zeros(len(eq), np.int64), np.ones(len(eq)), np.empty(len(eq)), np.empty(len(FULL_METRICS))

    def cagr(j: int, a: int, b: int) -> float:
        segment_stats_nb(np.ascontiguousarray(eq[:, j]), np.ascontiguousarray(pv[:, j]), none, ones, buf, float(ppy),
                         a, b, out)
        return float(out[Metric.CAGR])
    rows = {}
    for j, name in enumerate(states.columns):
        has = np.flatnonzero(states[name].notna().to_numpy())
        if len(has) < 2:
            rows[name] = {"cagr": np.nan, "bh_cagr": np.nan, "turnover": np.nan}
            continue
        a, b = int(has[0]), int(has[-1])
        years = (b - a) / ppy
        rows[name] = {"cagr": cagr(j, a, b), "bh_cagr": cagr(bh, a, b),
                      "turnover": float(target[name].iloc[a:b + 1].diff().abs().sum() / years)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["cagr_given_up"] = frame["bh_cagr"] - frame["cagr"]
    return frame


@dataclass
class Scorecard:
    """The scorecard table, the episode list and what the HTML needs (closes and states per asset)."""

    table: pd.DataFrame
    episodes: pd.DataFrame
    closes: dict[str, pd.Series] = field(default_factory=dict)
    states: dict[str, pd.DataFrame] = field(default_factory=dict)
    asset_classes: dict[str, str] = field(default_factory=dict)
    calendars: dict[str, str] = field(default_factory=dict)
    created: str = ""


def signal_states(specs: Sequence[SignalSpec], calendars: set[str], *, data_dir=None, catalog=None
                  ) -> dict[str, dict[str, pd.Series]]:
    """Each signal's default states on each requested calendar ("us", "utc"), computed once per signal."""
    out: dict[str, dict[str, pd.Series]] = {}
    for spec in specs:
        native = run_signal(spec, calendar=spec.calendar, data_dir=data_dir, catalog=catalog)
        out[spec.name] = {}
        for cal in calendars:
            frame = native if cal == spec.calendar else map_to_calendar(native[["state"]], spec.calendar, cal,
                                                                        data_dir=data_dir, catalog=catalog)
            out[spec.name][cal] = frame["state"]
    return out


def build_scorecard(assets: Sequence[str] | None = None, signals: Sequence[str] | None = None, *,
                    data_dir: str | Path | None = None, windows: Mapping[str, SellOffWindow] | None = None,
                    progress: Callable[[str], None] | None = None) -> Scorecard:
    """Score ``signals`` (default: every discovered signal) on ``assets`` (default SPY, QQQ, BTC-USD, GLD)."""
    say = progress or (lambda _msg: None)
    data_path = resolve_data_dir(data_dir)[0]
    catalog = load_catalog()
    assets = list(dict.fromkeys(assets or DEFAULT_ASSETS))
    asset_specs = {a: get_spec(a, catalog) for a in assets}
    for a, spec in asset_specs.items():
        if "close" not in spec.columns:
            raise ConfigError(f"--assets {a}: series {a} has no close column (it is not a price series)")
    registry = discover()
    names = list(dict.fromkeys(signals)) if signals else sorted(registry.signals)
    specs = [registry.get(n) for n in names]
    windows = load_windows() if windows is None else windows
    say(f"scoring {len(specs)} signal(s) on {len(assets)} asset(s) ...")
    states = signal_states(specs, {asset_specs[a].calendar for a in assets}, data_dir=data_path, catalog=catalog)
    rows, episodes = [], []
    card = Scorecard(pd.DataFrame(), pd.DataFrame(),
                     created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    for asset in assets:
        spec = asset_specs[asset]
        close = load([asset], calendar=spec.calendar, data_dir=data_path, catalog=catalog, stale="allow")[f"{asset}.close"]
        close = close.loc[close.first_valid_index():close.last_valid_index()].ffill()
        eps = episodes_for(asset, close, spec.asset_class, windows)
        episodes += [e.as_row() for e in eps]
        bars = EpisodeBars.of(close.index, eps)
        st = pd.DataFrame({s.name: states[s.name][spec.calendar].reindex(close.index) for s in specs})
        cash = money_market_rate(close.index, spec.calendar, data_dir=data_path)
        costs = acting_costs(close, st, spec.asset_class, spec.calendar, cash,
                             DEFAULT_COSTS.get(spec.asset_class, DEFAULT_COSTS["equity"]))
        for s in specs:
            rows.append({"signal": s.name, "asset": asset, "revised": s.revised,
                         **score_pair(st[s.name], close, bars, spec.asset_class, spec.calendar),
                         **costs.loc[s.name].to_dict()})
        card.closes[asset], card.states[asset], card.asset_classes[asset] = close, st, spec.asset_class
        card.calendars[asset] = spec.calendar
    card.table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    card.episodes = pd.DataFrame(episodes, columns=EPISODE_COLUMNS)
    return card


def summary_text(card: Scorecard, top: int = 12) -> str:
    """Terminal summary: per asset, the signals with the best catch edge."""
    t = card.table
    lines = [f"{len(card.episodes[card.episodes.kind == 'drawdown'])} drawdown episodes, "
             f"{len(card.episodes[card.episodes.kind == 'named'])} named windows; "
             + annualisation_note(sorted({(c, "1d") for c in card.calendars.values()}))]
    cols = ["signal", "eligible", "caught", "catch_rate", "chance_rate", "catch_edge", "time_warning", "lead_median",
            "false_alarms_per_year", "cagr_given_up"]
    for asset in card.closes:
        sub = t[t.asset == asset].sort_values("catch_edge", ascending=False, na_position="last")
        shown = f" (the {top} with the best catch edge of {len(sub)} signals)" if len(sub) > top else ""
        with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
            lines += ["", f"{asset}{shown}:", sub[cols].head(top).to_string(index=False)]
    return "\n".join(lines + ["", "Every signal of every asset is in scorecard.csv and scorecard.html. catch_edge = "
                               "catch_rate - chance_rate; cagr_given_up and time_warning are fractions "
                               "(0.02 = 2 pp a year, 2% of the bars)."])
