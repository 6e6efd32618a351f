"""The matched random-timing null: path construction, metrics, p-values and calibration."""
from __future__ import annotations

import itertools
import os
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from riskoff.engine.account import Costs, simulate
from riskoff.evaluation.evaluate import full_period_stats, max_drawdown, window_metrics
from riskoff.evaluation.windows import SellOffWindow
from riskoff.significance.null import (
    classify,
    compare,
    episode_paths,
    pair_rng,
    path_metrics,
    run_null,
    shift_paths,
)


def _episodes(path: np.ndarray) -> list[tuple[int, tuple[float, ...]]]:
    """(start, values) of every run below full, by a plain loop."""
    out, cur, start = [], [], None
    for i, v in enumerate(path):
        if v < 0.999:
            if start is None:
                start = i
            cur.append(float(v))
        elif start is not None:
            out.append((start, tuple(cur)))
            cur, start = [], None
    if start is not None:
        out.append((start, tuple(cur)))
    return out


def _discrete_target(n: int = 400, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.ones(n)
    for s in rng.choice(np.arange(20, n - 30, 25), size=8, replace=False):
        t[s:s + rng.integers(2, 15)] = rng.choice([0.0, 0.5])
    t[:10] = np.nan  # warm-up: no decision
    return t


# --- choice of null ---------------------------------------------------------------------------

def test_classify_discrete_continuous_and_never():
    assert classify(_discrete_target()).kind == "episodes"
    vol_like = 0.6 + 0.3 * np.sin(np.arange(500) / 7.0)  # moves every bar, always below full
    c = classify(vol_like)
    assert c.kind == "shift" and c.change_rate > 0.9 and c.free_share == 0.0
    assert classify(np.ones(300)).kind == "none"
    mostly_out = np.zeros(300)
    mostly_out[::40] = 1.0  # rarely moves, but under 10% of bars at full: no room to move episodes
    assert classify(mostly_out).kind == "shift"
    c = classify(_discrete_target())
    assert c.start == 10 and c.episodes == len(_episodes(np.nan_to_num(_discrete_target()[10:], nan=0.0)))


# --- episode placement ------------------------------------------------------------------------

def test_episode_paths_keep_every_episode_and_the_warmup():
    t = _discrete_target()
    paths = episode_paths(t, 50, pair_rng(0, "x/y"))
    orig = _episodes(t[10:])
    assert paths.shape == (len(t), 50)
    for j in range(50):
        p = paths[:, j]
        assert np.isnan(p[:10]).all() and not np.isnan(p[10:]).any()
        eps = _episodes(p[10:])
        assert Counter(v for _, v in eps) == Counter(v for _, v in orig)  # same durations and depths
        assert np.sum(p[10:] < 0.999) == np.sum(t[10:] < 0.999)
        assert set(p[10:][p[10:] >= 0.999]) == {1.0}
    assert not all(np.array_equal(paths[:, 0], paths[:, j]) for j in range(1, 50))


def test_episode_placement_is_uniform_over_admissible_arrangements():
    # 6 bars, episodes [0.0] and [0.5, 0.5]: every arrangement keeping them apart, by enumeration
    t = np.array([1.0, 0.0, 1.0, 0.5, 0.5, 1.0])
    admissible = set()
    for a, b in itertools.permutations(range(6), 2):
        p = np.ones(6)
        if a + 1 > 6 or b + 2 > 6:
            continue
        p[a] = 0.0
        p[b:b + 2] = 0.5
        eps = _episodes(p)
        if len(eps) == 2 and sorted(len(v) for _, v in eps) == [1, 2]:
            admissible.add(tuple(p))
    assert len(admissible) == 12  # 2 orders x 6 ways to split 3 free bars with a gap in between
    n = 24_000
    paths = episode_paths(t, n, np.random.default_rng(1))
    counts = Counter(tuple(paths[:, j]) for j in range(n))
    assert set(counts) == admissible
    freq = np.array([counts[a] for a in admissible]) / n
    assert np.all(np.abs(freq - 1 / 12) < 0.01), freq  # sd of each share is 0.0018


def test_paths_are_reproducible_from_the_seed():
    t = _discrete_target()
    a = episode_paths(t, 20, pair_rng(7, "ma_timing/SPY"))
    b = episode_paths(t, 20, pair_rng(7, "ma_timing/SPY"))
    c = episode_paths(t, 20, pair_rng(7, "ma_timing/QQQ"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_shift_paths_are_rotations():
    t = np.r_[np.nan, np.nan, 0.3 + 0.5 * np.random.default_rng(0).random(100)]
    paths = shift_paths(t, 30, np.random.default_rng(2))
    body = t[2:]
    for j in range(30):
        assert np.isnan(paths[:2, j]).all()
        shifts = [k for k in range(1, 100) if np.array_equal(np.roll(body, k), paths[2:, j])]
        assert len(shifts) == 1


# --- metrics against riskoff.evaluation.evaluate -------------------------------------------------------

def _synthetic_market(n: int = 900, seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2018-01-01", periods=n)
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n))), index=idx, name="X")
    cash = pd.Series(2.0, index=idx)
    return close, cash


def test_path_metrics_match_evaluation_per_path():
    close, cash = _synthetic_market()
    idx = close.index
    rng = np.random.default_rng(5)
    targets = pd.DataFrame({"bh": 1.0, **{f"r{i}": np.where(rng.random(len(idx)) < 0.1, 0.0, 1.0)
                                         for i in range(4)}}, index=idx)
    sim = simulate(close, targets, cash_rate=cash, costs=Costs(1, 2))
    windows = [SellOffWindow("w1", "w1", idx[100], idx[130], idx[160]),
               SellOffWindow("w2", "w2", idx[400], idx[410], idx[470])]
    spans = np.array([[idx.get_loc(w.start), idx.get_loc(w.end)] for w in windows])
    bh = sim.equity["bh"]
    bh_wdd = np.array([max_drawdown(bh.loc[w.start:w.end]) for w in windows])
    bh_stats = full_period_stats(bh, sim.exposure["bh"], targets["bh"], bh, "equity", "us")
    got = path_metrics(sim.equity.to_numpy(), 252, spans, bh_wdd, bh_stats["cagr"])
    for j, col in enumerate(targets.columns):
        ref = full_period_stats(sim.equity[col], sim.exposure[col], targets[col], bh, "equity", "us")
        assert got["cagr"][j] == pytest.approx(ref["cagr"], rel=1e-10)
        assert got["calmar"][j] == pytest.approx(ref["calmar"], rel=1e-10)
        assert got["max_drawdown"][j] == pytest.approx(ref["max_drawdown"], rel=1e-12)
        rows = [window_metrics(w, "X", sim.equity[col], bh, sim.exposure[col], targets[col]) for w in windows]
        for i, row in enumerate(rows):
            assert got["window_dd_avoided"][i, j] == pytest.approx(row["drawdown_avoided"], abs=1e-12)
        # the mean counts the windows where buy & hold fell at least 3% (something to avoid)
        counted = [r["drawdown_avoided"] for r in rows if r["bh_max_dd"] <= -0.03]
        assert counted, "the synthetic windows must include a fall"
        assert got["dd_avoided_mean"][j] == pytest.approx(np.mean(counted), abs=1e-12)


@pytest.mark.parametrize("kind", ["episodes", "shift"])
def test_run_null_paths_are_the_engine_on_the_drawn_paths(kind):
    # run_null generates, simulates and measures each path in one compiled pass; the reference
    # materialises the same seeded paths and runs them through the public simulate() and
    # path_metrics(), with open-price fills, costs and a cash rate
    close, cash = _synthetic_market(600, seed=4)
    opens = close.shift(1).fillna(close.iloc[0]) * 1.001
    if kind == "episodes":
        t = pd.Series(_discrete_target(600, seed=8), index=close.index)
        paths = episode_paths(t.to_numpy(), 40, pair_rng(3, "r/X"))
    else:
        t = pd.Series(np.r_[np.full(5, np.nan), 0.4 + 0.5 * np.random.default_rng(1).random(595)], index=close.index)
        paths = shift_paths(t.to_numpy(), 40, pair_rng(3, "r/X"))
    kw = dict(open=opens, cash_rate=cash, costs=Costs(3, 4), fill="next_open")
    eq = simulate(close, t, **kw).equity.iloc[:, 0]
    bh = simulate(close, pd.Series(1.0, index=close.index), **kw).equity.iloc[:, 0]
    spans = np.array([[50, 90], [300, 340], [500, 560]])
    res = run_null(close, t, eq, bh, ppy=252, spans=spans, paths=40, rng=pair_rng(3, "r/X"), **kw)
    assert res.choice.kind == kind and res.paths == 40
    ref_eq = simulate(close, pd.DataFrame(paths, index=close.index), **kw).equity.to_numpy()
    bh_wdd = np.array([max_drawdown(bh.iloc[a:b + 1]) for a, b in spans])
    one = pd.Series(1.0, index=close.index)
    bh_cagr = full_period_stats(bh, one, one, bh, "equity", "us")["cagr"]
    ref = path_metrics(ref_eq, 252, spans, bh_wdd, bh_cagr)
    for k in ("cagr", "max_drawdown", "calmar", "dd_avoided_mean", "window_dd_avoided"):
        np.testing.assert_allclose(res.null_values[k], ref[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_compare_percentile_and_p_hand_checked():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    assert compare(3.0, null) == (62.5, 0.6)          # beats 2, ties 1: (2 + .5)/4; (1 + 4 - 2)/5
    assert compare(5.0, null) == (100.0, 0.2)         # beats all: the +1 keeps p above 0
    assert compare(0.0, null) == (0.0, 1.0)
    assert compare(1.5, null, higher_is_better=False) == (75.0, 0.4)  # lower is better: beats 2, 3, 4
    assert np.isnan(compare(float("nan"), null)[1])


# --- calibration ------------------------------------------------------------------------------

def _noise_rule(n: int, rng: np.random.Generator, continuous: bool) -> np.ndarray:
    """A rule that knows nothing: a Markov in/out switch, or a slowly wandering exposure."""
    if continuous:  # AR(1) around 0.7
        x = lfilter([1.0], [1.0, -0.95], 0.3 * rng.normal(size=n))
        return np.clip(0.7 + 0.2 * x, 0.0, 1.0)
    # alternating runs in (geometric, mean 1/p_off bars) and out (mean 1/p_on bars, depth 0 or 0.5)
    p_off, p_on = rng.uniform(0.005, 0.03), rng.uniform(0.05, 0.2)
    k = n  # more runs than bars: enough
    ins, outs = rng.geometric(p_off, size=k), rng.geometric(p_on, size=k)
    depth = rng.choice([0.0, 0.5], size=k)
    values = np.column_stack([np.ones(k), depth]).ravel()
    lengths = np.column_stack([ins, outs]).ravel()
    return np.repeat(values, lengths)[:n]


def _calibration(n_walks: int, rules_per_walk: int, paths: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    n = 2000
    pvals, oracle = [], []
    for w in range(n_walks):
        idx = pd.bdate_range("2010-01-01", periods=n)
        r = rng.standard_t(4, size=n) * 0.01
        close = pd.Series(100 * np.exp(np.cumsum(r)), index=idx)
        cash = pd.Series(1.0, index=idx)
        starts = np.arange(100, n - 60, 230)
        spans = np.c_[starts, starts + 50]
        bh = simulate(close, pd.Series(1.0, index=idx), cash_rate=cash, costs=Costs(1, 2)).equity.iloc[:, 0]
        rules = {f"noise{k}": _noise_rule(n, rng, continuous=k % 4 == 3) for k in range(rules_per_walk)}
        # told the future: out for the bar whose return is among the worst 5% (decided 2 bars earlier:
        # a decision at t fills at the close of t + 1 and is exposed to the return of t + 2)
        worst = np.zeros(n, dtype=bool)
        worst[:-2] = r[2:] < np.quantile(r, 0.05)
        rules["oracle"] = np.where(worst, 0.0, 1.0)
        eq = simulate(close, pd.DataFrame(rules, index=idx), cash_rate=cash, costs=Costs(1, 2)).equity
        for k, (name, t) in enumerate(rules.items()):
            res = run_null(close, pd.Series(t, index=idx), eq[name], bh, ppy=252, spans=spans, paths=paths,
                           rng=pair_rng(seed, f"{w}/{name}"), cash_rate=cash, costs=Costs(1, 2))
            (oracle if name == "oracle" else pvals).append(res.p)
    return pd.DataFrame(pvals), pd.DataFrame(oracle)


#: RISKOFF_SOAK=1 runs the calibration 5x bigger (2,000 rules x 499 paths) with a tighter band
SOAK = os.environ.get("RISKOFF_SOAK") == "1"


def test_null_is_calibrated_on_noise_and_finds_the_oracle():
    # 400 pure-noise rules x 199 null paths on 2,000-bar random walks: the rejection rate at 5%
    # must lie within [1.5%, 8.5%] (a binomial 99.9% band around 5% for 400 rules), per metric;
    # the soak: 2,000 rules x 499 paths, band [3.4%, 6.6%]
    walks, rules, paths, lo, hi = (50, 40, 499, 0.034, 0.066) if SOAK else (20, 20, 199, 0.015, 0.085)
    pvals, oracle = _calibration(n_walks=walks, rules_per_walk=rules, paths=paths)
    assert len(pvals) == walks * rules
    for metric in ("dd_avoided_mean", "cagr_given_up", "calmar"):
        rate = float((pvals[metric] <= 0.05).mean())
        assert lo <= rate <= hi, (metric, rate)
    assert (oracle["dd_avoided_mean"] <= 0.01).all() and (oracle["calmar"] <= 0.01).all()
    assert (oracle["cagr_given_up"] <= 0.01).all()
