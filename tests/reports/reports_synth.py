"""A small synthetic run folder in the exact layout the runner writes, for the report tests.

Two strategies (one of them named like an XSS payload, to prove escaping) plus the buy & hold
baseline, on SPY (US calendar: NaN on weekends in the union-calendar files) and BTC-USD (every day),
evaluated over two sell-off windows (covid_312 on both assets, china_519 on BTC-USD only).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

XSS = "<script>alert(1)</script>"
STRATEGIES = ("buy_and_hold", "vix_or_breadth", XSS)
ASSETS = ("SPY", "BTC-USD")
PPY = {"SPY": 252, "BTC-USD": 365}
# One US and one crypto page, and the US one carries the XSS-named strategy: enough to check
# both annualisation labels and title escaping while keeping quantstats' cost to two pages.
TEARSHEET_PAIRS = [f"{XSS}/SPY", "vix_or_breadth/BTC-USD"]
SIGNALS = {"SPY": ("vix_mean_reversion", "breadth_collapse"), "BTC-USD": ("mvrv_bands",)}
WINDOWS = [
    {"id": "covid_312", "name": "COVID crash (312)", "start": "2020-02-19", "trough": "2020-03-23",
     "end": "2020-04-30", "assets": ["SPY", "BTC-USD"], "troughs": {"BTC-USD": "2020-03-12"},
     "description": "Pandemic liquidation <b>& friends</b>", "source": "S&P 500 closes", "sample": "in"},
    {"id": "china_519", "name": "China mining ban (519)", "start": "2021-05-12", "trough": "2021-05-19",
     "end": "2021-05-31", "assets": ["BTC-USD"], "description": "China's crypto ban", "source": "CMC",
     "sample": "in"},
]


def _price_path(idx: pd.DatetimeIndex, rng, vol: float, crashes) -> pd.Series:
    r = rng.normal(0.0004, vol, len(idx))
    for start, trough, end, depth in crashes:
        down = (idx > pd.Timestamp(start)) & (idx <= pd.Timestamp(trough))
        up = (idx > pd.Timestamp(trough)) & (idx <= pd.Timestamp(end))
        if down.any():
            r[down] += np.log1p(-depth) / down.sum()
        if up.any():
            r[up] += -np.log1p(-depth) * 0.6 / up.sum()
    return pd.Series(100.0 * np.exp(np.cumsum(r)), index=idx)


def _max_dd(eq: pd.Series) -> float:
    return float((eq / eq.cummax() - 1.0).min()) if len(eq) else np.nan


def make_run(root: str | Path, name: str = "synthetic", seed: int = 0, config_hash: str = "cfg0001",
             fingerprints: dict | None = None, strategies=STRATEGIES) -> Path:
    """Write a run folder under ``root/name`` and return its path."""
    rng = np.random.default_rng(seed)
    run = Path(root) / name
    run.mkdir(parents=True, exist_ok=True)
    union = pd.date_range("2019-09-01", "2021-07-31", freq="D", name="date")  # ~700 days
    us = union[union.dayofweek < 5]
    close = {
        "SPY": _price_path(us, rng, 0.011, [("2020-02-19", "2020-03-23", "2020-04-30", 0.34)]),
        "BTC-USD": _price_path(union, rng, 0.035, [("2020-02-19", "2020-03-12", "2020-04-30", 0.45),
                                                   ("2021-05-12", "2021-05-19", "2021-05-31", 0.35)]),
    }
    prices = pd.DataFrame({a: s.reindex(union) for a, s in close.items()})

    readings, states, equity, exposure, events, stats, wrows = {}, {}, {}, {}, [], [], []
    for asset in ASSETS:
        px = close[asset]
        ret = px.pct_change().fillna(0.0)
        vol = ret.rolling(10, min_periods=5).std()
        sig_states = {}
        for k, sig in enumerate(SIGNALS[asset]):
            reading = vol * (1.0 + 0.3 * k) * 100 + rng.normal(0, 0.05, len(vol))
            q1, q2 = reading.quantile(0.7), reading.quantile(0.85)
            st = pd.Series(np.where(reading > q2, 2.0, np.where(reading > q1, 1.0, 0.0)), index=px.index)
            st[reading.isna()] = np.nan
            readings[f"{sig}/{asset}"], states[f"{sig}/{asset}"] = reading, st
            sig_states[sig] = st
        any_off = pd.concat(sig_states.values(), axis=1).max(axis=1)
        for j, strat in enumerate(strategies):
            if strat == "buy_and_hold":
                exp = pd.Series(1.0, index=px.index)
            else:
                level = 2.0 if j == 1 else 1.0
                exp = pd.Series(np.where(any_off.fillna(0) >= level, 0.0, 1.0), index=px.index)
            eq = (1.0 + exp.shift(1).fillna(1.0) * ret).cumprod()
            eq.iloc[0] = 1.0
            col = f"{strat}/{asset}"
            equity[col], exposure[col] = eq, exp
            changes = exp[exp.diff().fillna(0) != 0]
            for d, new in changes.items():
                old = exp.shift(1)[d]
                desc = "; ".join(f"{s}={['risk-on', 'caution', 'risk-off'][int(v)] if v == v else 'n/a'}"
                                 for s, v in ((s, st[d]) for s, st in sig_states.items()))
                events.append({"date": d.strftime("%Y-%m-%d"), "strategy": strat, "asset": asset,
                               "old_exposure": old, "new_exposure": new, "states": desc})
            r = eq.pct_change().dropna()
            ppy = PPY[asset]
            years = len(r) / ppy
            cagr = float(eq.iloc[-1] ** (1 / years) - 1)
            volat = float(r.std() * np.sqrt(ppy))
            mdd = _max_dd(eq)
            stats.append({"strategy": strat, "asset": asset, "periods_per_year": ppy, "cagr": cagr,
                          "volatility": volat, "sharpe": float(r.mean() / r.std() * np.sqrt(ppy)),
                          "sortino": float(r.mean() / r[r < 0].std() * np.sqrt(ppy)), "max_drawdown": mdd,
                          "calmar": cagr / abs(mdd), "time_in_market": float(exp.mean()),
                          "turnover": float(exp.diff().abs().sum() / years),
                          "derisk_episodes": int((exp.diff() < 0).sum()), "false_alarms": 0,
                          "total_return": float(eq.iloc[-1] - 1)})
        for w in WINDOWS:
            if asset not in w["assets"]:
                continue
            start, end = pd.Timestamp(w["start"]), pd.Timestamp(w["end"])
            trough = pd.Timestamp(w.get("troughs", {}).get(asset, w["trough"]))
            bh = equity[f"buy_and_hold/{asset}"].loc[start:end]
            for strat in strategies:
                eq = equity[f"{strat}/{asset}"].loc[start:end]
                exp = exposure[f"{strat}/{asset}"]
                sdd, bdd = _max_dd(eq), _max_dd(bh)
                cut = exp.loc[start:trough]
                lead = (trough - cut[cut < 1].index[0]).days if (cut < 1).any() else np.nan
                wrows.append({"strategy": strat, "asset": asset, "window": w["id"], "start": w["start"],
                              "trough": trough.strftime("%Y-%m-%d"), "end": w["end"],
                              "strategy_return": float(eq.iloc[-1] / eq.iloc[0] - 1),
                              "bh_return": float(bh.iloc[-1] / bh.iloc[0] - 1), "strategy_max_dd": sdd,
                              "bh_max_dd": bdd, "drawdown_avoided": sdd - bdd,
                              "exposure_at_trough": float(exp.asof(trough)), "lead_time_days": lead,
                              "reentry_lag_days": np.nan if strat == "buy_and_hold" else 7.0,
                              "return_given_up_60d": 0.0 if strat == "buy_and_hold" else 0.05})

    def dated(d: dict) -> pd.DataFrame:
        frame = pd.DataFrame({k: v.reindex(union) for k, v in d.items()})
        frame.index.name = "date"
        return frame

    dated(equity).to_csv(run / "equity.csv")
    dated(exposure).to_csv(run / "exposure.csv")
    prices.to_csv(run / "prices.csv")
    # The money-market rate (annual %, per asset on its own calendar): 1.5% until 2020-03-15, then 0.1%.
    dated({a: pd.Series(np.where(close[a].index < "2020-03-15", 1.5, 0.1), index=close[a].index)
           for a in ASSETS}).to_csv(run / "cash_rate.csv")
    dated(readings).to_csv(run / "readings.csv")
    dated(states).to_csv(run / "states.csv")
    pd.DataFrame(events).to_csv(run / "events.csv", index=False)
    pd.DataFrame(wrows).to_csv(run / "windows.csv", index=False)
    summary = {
        "run": {"name": name, "created": "2026-01-01T00:00:00Z", "config_file": "backtests/synthetic.toml",
                "config_hash": config_hash},
        "config": {"strategies": list(strategies), "assets": list(ASSETS), "note": "<i>config</i> & co"},
        "data": {"data_dir": "/data/snapshot<1>",
                 "fingerprints": fingerprints or {"SPY": "sha256:aaa", "BTC-USD": "sha256:bbb",
                                                  "VIX": "sha256:ccc"}},
        "versions": {"python": "3.11", "riskoff": "0.1.0", "vectorbt": "1.2.0", "pandas": pd.__version__},
        "stats": stats,
        "windows": WINDOWS,
    }
    (run / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return run
