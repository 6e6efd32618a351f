"""Intraday benchmark: events/s of the publication-time stream, the compiled hourly path, the
Python callback path (bars/s) and the intraday study, warm. Prints JSON.

- events: build the merged stream of BTC 1h bars, Binance funding, VIX, SPY, SOFR and EFFR over
  2021-2026 and take the point-in-time as-of at every hourly decision instant.
- compiled: BTC 1h 2021-2026 (~48,000 bars), a three-signal declarative rule (k_of_n over
  crash_speed, range_volume_shock, rv_spike) with overlays, signals + rule + overlays + engine,
  after data load (the parsed series are memoised in-process by the first, untimed, call).
- callback: the shipped entry-price stop example (entry_stop_thirds) on the same bars, the
  point-in-time view and the engine's per-bar account step included.
- study: `simulate_config` + evaluation + writing the run folder of backtests/intraday_crypto.toml
  (no report, no tearsheets), warm; skipped with ``--no-study``.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import best_of  # noqa: E402

H1 = "BINANCE-BTCUSDT-1H"
START, END = "2021-01-01", "2026-04-21"


def main(study_too: bool = True) -> dict:
    import pandas as pd

    from riskoff.data import load
    from riskoff.data.calendars import bar_range, decision_times
    from riskoff.data.events import event_stream
    from riskoff.engine.account import simulate
    from riskoff.run.config import load_config
    from riskoff.run.runner import simulate_config, write_run
    from riskoff.strategies.config import StrategyConfig
    from riskoff.strategies.contract import discover_strategies
    from riskoff.strategies.event_rules import run_event_rule
    from riskoff.strategies.exposure import build_exposure

    ids = [H1, "BINANCE-BTCUSDT", "VIX", "SPY", "SOFR", "EFFR"]
    bars = bar_range(START, END, pd.Timedelta("1h"))
    when = decision_times(bars, "1h")

    def events():
        stream = event_stream(ids, START, END)
        stream.asof_frame(when, bars, stale=True)
        return len(stream)

    n_events = events()
    t_events = best_of(events, 3)

    frame = load([H1], START, END, calendar="1h", stale="allow")
    close, opens = frame[f"{H1}.close"], frame[f"{H1}.open"]
    cfg = StrategyConfig(name="three", rule="k_of_n", signals=("crash_speed", "range_volume_shock", "rv_spike"),
                         params={"k": 2}, overlays={"min_bars_out": "24h", "cooldown_bars": "12h", "idle_exposure": 1.0})

    def compiled():
        run = build_exposure(cfg, H1, start=START, end=END, signal_cache={})
        return simulate(close, run.exposure.reindex(close.index).to_frame("three"), fill="next_open",
                        open=opens, engine="numba")

    compiled()
    t_compiled = best_of(compiled, 3)

    rule_type = discover_strategies().get("entry_stop_thirds").target.rule_class
    prices = close.to_numpy()

    def callback_run():
        rule = rule_type(stop=0.08, wait=24, lookback=24, exit_state=2)
        return run_event_rule(rule, close.index, prices, {}, {}, "1h")

    callback_run()
    t_callback = best_of(callback_run, 3)

    t_study = None
    if study_too:
        study_cfg = load_config(ROOT / "backtests" / "intraday_crypto.toml")

        def study():
            with tempfile.TemporaryDirectory() as tmp:
                result = simulate_config(study_cfg)
                write_run(result, Path(tmp) / "run", tearsheets=False, report=False)

        study()
        t_study = round(best_of(study, 2), 2)
    return {
        "events": {"events": n_events, "decision_instants": len(when), "seconds": round(t_events, 3),
                   "events_per_s": round(n_events / t_events)},
        "compiled_hourly_three_signal_rule": {"bars": len(close), "seconds": round(t_compiled, 3),
                                              "bars_per_s": round(len(close) / t_compiled),
                                              "events_per_s": round(n_events / t_compiled)},
        "callback_entry_stop_thirds": {"bars": len(prices), "seconds": round(t_callback, 3),
                                       "bars_per_s": round(len(prices) / t_callback)},
        "intraday_study_warm_s": t_study,
        "machine_note": "shared 2-core machine; best of 2-3 warm runs",
    }


if __name__ == "__main__":
    # --no-study: the three fast figures only (a few seconds; the study alone takes ~40 s warm x 3)
    print(json.dumps(main(study_too="--no-study" not in sys.argv), indent=2))
