"""``riskoff now`` reads out books (``[[portfolios]]``) as the run decides them, compared with ``==``.

Reference: the run's own book targets (``BookResult.target``) and invested share
(``BookResult.invested``) on the book's union calendar. A book row is decided once every asset has
decided its last bar at or before the row's date, at the latest of those decision instants; an
asset's order for a row fills at the asset's first fill instant after that. Both instants are written
here from the definitions (tests/test_now.py), not taken from riskoff.run.now.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_now import decision_instants, fill_instants

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def book_study(data_dir):
    from riskoff.data.calendars import clock_of
    from riskoff.data.context import DataContext
    from riskoff.run.config import load_config
    from riskoff.run.now import compute_history, history_end
    from riskoff.run.runner import simulate_config

    cfg = load_config(ROOT / "backtests" / "cross_asset_book.toml")
    cfg = dataclasses.replace(cfg, significance=dataclasses.replace(cfg.significance, null=False, bootstrap=False))
    data = DataContext.create(data_dir, cfg.series)
    result = simulate_config(cfg, data=data)
    clocks = {a: clock_of(data.catalog[a]) for a in cfg.assets}
    ends = {a: history_end(clocks[a], next(p for p in result.pairs if p.asset == a).target.index[-1])
            for a in cfg.assets}
    return cfg, data, result, compute_history(cfg, data, ends), clocks


def reference(book, clocks, result):
    """(row decision instants, per asset: row fill instants) of a run's book, from the definitions."""
    index = book.target.index
    decided = np.zeros(len(index), dtype="int64")
    fills = {}
    for a in book.book.assets:
        own = next(p for p in result.pairs if p.asset == a).target.index
        pos = np.searchsorted(own, index, side="right") - 1
        decided = np.maximum(decided, np.where(pos >= 0, decision_instants(own, clocks[a])[np.maximum(pos, 0)], 0))
        fills[a] = fill_instants(own, clocks[a], "next_close")
    for a, f in fills.items():
        k = np.searchsorted(f, decided, side="right")
        fills[a] = np.where(k < len(f), f[np.minimum(k, len(f) - 1)], np.iinfo("int64").max)
    return decided, fills


def test_a_book_reads_out_the_runs_targets_at_every_kind_of_instant(book_study):
    from riskoff.run.now import readout

    cfg, data, result, history, clocks = book_study
    books = [b for b in result.books if b.strategy != "static"]
    rng = np.random.default_rng(7)
    checked = 0
    for b in books[:2]:  # one book into cash, one into TLT + GLD; two rules each below
        decided_at, fills = reference(b, clocks, result)
        rows = np.sort(rng.choice(np.arange(30, len(decided_at) - 1), size=12, replace=False))
        for i in rows:
            for t in (decided_at[i] - 1_000_000_000, decided_at[i], decided_at[i] + 1_000_000_000):
                r = int(np.searchsorted(decided_at, t, side="right")) - 1
                out = readout(cfg, data, pd.Timestamp(t), history=history)
                rec = next(x for x in out.records if x.kind == "book" and x.asset == b.name
                           and x.strategy == b.strategy)
                row = b.target.index[r]
                assert rec.bar == f"{row:%Y-%m-%d}", (b.key, pd.Timestamp(t))
                assert rec.decided == b.invested.iloc[r], (b.key, pd.Timestamp(t))
                for a in b.book.assets:
                    assert rec.weights[a]["decided"] == b.target[a].iloc[r], (b.key, a, pd.Timestamp(t))
                    filled = np.flatnonzero(fills[a][: r + 1] <= t)
                    held = b.target[a].iloc[filled[-1]] if len(filled) else 0.0
                    assert rec.weights[a]["held"] == held, (b.key, a, pd.Timestamp(t))
                checked += 1
    assert checked == 2 * 12 * 3


def test_a_cut_book_sets_the_exit_code_and_shows_in_the_table(book_study):
    from riskoff.reports.now import render
    from riskoff.run.now import readout

    cfg, data, result, history, clocks = book_study
    b = next(b for b in result.books if b.strategy != "static" and (b.invested < 0.99).any())
    decided_at, _ = reference(b, clocks, result)
    r = int(np.flatnonzero(b.invested.to_numpy() < 0.99)[-1])
    out = readout(cfg, data, pd.Timestamp(decided_at[r]), history=history)
    rec = next(x for x in out.records if x.kind == "book" and x.asset == b.name and x.strategy == b.strategy)
    assert rec in out.derisked and out.exit_code in (3, 5)
    text = render(out.as_dict())
    assert f"{b.name} (book)" in text


def test_the_command_path_cut_at_bar_t_reads_the_same_book(book_study):
    """The command computes each asset's history only up to its own bar(T): a row that needs a bar
    the cut history does not hold yet (BTC's day, decided at 00:00 UTC) must not count as decided."""
    from riskoff.run.now import readout

    cfg, data, result, history, clocks = book_study
    b = next(b for b in result.books if b.strategy != "static")
    decided_at, _ = reference(b, clocks, result)
    us_close = int(np.flatnonzero(pd.DatetimeIndex(b.target.index).dayofweek == 2)[-40])  # a Wednesday
    for t in (decided_at[us_close] - 3 * 3600 * 10**9, decided_at[us_close], decided_at[us_close] + 10**9):
        full = [x for x in readout(cfg, data, pd.Timestamp(t), history=history).records if x.kind == "book"]
        cut = [x for x in readout(cfg, data, pd.Timestamp(t)).records if x.kind == "book"]
        assert cut == full, pd.Timestamp(t)
