"""Parameter sweeps: one base strategy over a grid of signal, rule and overlay parameters.

    riskoff sweep backtests/sweep_vix.toml [--walk-forward] [--backend dask [--scheduler ADDR]]

Config (TOML; see ``backtests/sweep_vix.toml``)::

    [run]                        # the run schema, parsed by riskoff.run.config.parse_config
    name = "vix_thresholds"      # (or instead: run = "selloffs.toml", a run config beside this file)
    assets = ["SPY", "QQQ", "BTC-USD"]
    start = 2015-01-01
    end = "auto"                 # or a date; "auto" = last date every required series covers
    fill = "next_close"
    cash = "money_market"        # [costs.*], [windows.*], [series.*] as in a run config

    [sweep]                      # sweep-only keys
    metric = "calmar"            # what results are ranked by (any column below, e.g. "dd_avoided_mean")
    heatmap = ["signal.vix_mean_reversion.entry_z", "signal.vix_mean_reversion.exit_z"]
    window_metric = "drawdown_avoided"   # what the per-window heatmaps show
    stability_penalty = 1.0      # lambda of the stability score (below)
    memory_mb = 512              # memory budget of one chunk; chunk_size = 0 -> derived from it
    max_combinations = 5000000   # a larger grid is refused before any work (with its memory and time)
    kernel = "fused"             # "fused" (default), "numba" (riskoff.engine.account.simulate) or "vectorbt"

    [strategy]                   # the base strategy: the same table as one [[strategies]] entry
    name = "vix"
    rule = "any_off"
    signals = ["vix_mean_reversion"]
    overlays = { min_bars_out = 2 }

    [grid]                       # every key is swept; the Cartesian product is the set of combinations
    "signal.vix_mean_reversion.entry_z" = { start = 1.5, stop = 3.0, step = 0.25 }   # stop inclusive
    "signal.vix_mean_reversion.exit_z" = [0.0, 0.5, 1.0]
    "rule.caution_is_off" = [false, true]
    "overlays.min_bars_out" = [0, 5, 10]

    [walk_forward]               # optional (or --walk-forward for the defaults); see below

Grid keys: ``signal.<label>.<param>`` (a signal of the base strategy, by its label),
``rule.<param>`` (a parameter of the base rule) and ``overlays.<field>`` (hysteresis,
min_bars_out, cooldown_bars, trailing_stop, stop_reentry_bars, max_leverage). Names and every
value are checked against the declared :class:`riskoff.Param` (type and range) before any data is
loaded; a misspelt name is a ConfigError with a did-you-mean. Values are a list, a single value or
a range table ``{ start, stop, step }`` (stop inclusive; whole numbers for integer parameters).
Constraints between parameters (a rule's ``check``, ``exit_z < entry_z`` in a signal, hysteresis
below max_leverage) are checked per combination: a value that no combination can use is a
ConfigError; other rejected combinations are left out and listed in ``skipped.csv``.

Combinations are numbered in a fixed order: the dims of each signal (in the base strategy's
signal order), then the rule's, then the overlays' (each group in config order), the last one
varying fastest. Each distinct signal parameter set is computed once per decision calendar (the
assets on US days share it; cached), each distinct (signal sets, rule params) raw target once per
asset; overlays, simulation and metrics are numba.

Kernels. ``fused`` (default) runs, per combination and in parallel over combinations, the
overlays, the single-asset account simulation and the metrics in one pass with per-column
scratch buffers: no (bars x combinations) matrix is ever built. It re-implements
``riskoff.engine.account._simulate_kernel`` for one asset per account, and tests/sweep checks it against
``riskoff.engine.account.simulate`` (numba and vectorbt engines) and against ``build_exposure`` +
``simulate`` + ``riskoff.evaluation.evaluate`` one combination at a time, to 1e-9. ``numba`` and
``vectorbt`` build the exposure matrix of a chunk, simulate the chunk in one
``riskoff.engine.account.simulate`` call and run the numba metrics pass over its equity matrix (slower;
the cross-checks).

Memory. Combinations run in chunks of ``chunk_size`` columns, by default
``memory_mb * 2**20 // (bars x 8 bytes x arrays)``, with ``bars`` the longest full history of an
asset and ``arrays`` = 2 for the fused kernel (raw targets + outputs) or 8 for the engine
kernels (exposure, target copy, equity, weight, fills, returns, frames). The signal and raw-target
caches are LRU caches bounded by a quarter of the budget each. Results grow with the number of
combinations only (one row of floats per combination x asset). Sizes are counted in exact Python
integers before any work: a grid over ``max_combinations`` and a chunk over ``memory_mb`` (one column
alone, or an explicit ``chunk_size``) are refused with their estimated memory and time.

Metrics (the definitions of ``riskoff.evaluation.evaluate``; annualised with 365 bars a year for crypto on
the UTC calendar, 252 for US assets; zero risk-free rate because cash already earns the
money-market rate inside the equity curve):
    total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar, time_in_market as in
    ``evaluation.full_period_stats`` (quantstats formulas); ``trades`` = number of fills.
    ``w.<window>.strategy_return``, ``.strategy_max_dd``, ``.drawdown_avoided`` (strategy_max_dd
    - buy & hold max_dd, positive = protection), ``.exposure_at_trough`` as in
    ``evaluation.window_metrics``, for every window of the catalog the asset's run covers
    (NaN otherwise); ``dd_avoided_mean`` = their mean; ``windows_covered`` = how many.
    Buy & hold is the ``buy_and_hold`` rule through the normal path, same costs and cash.

Outputs (one folder, written atomically: temp folder + rename, nothing left on failure):
    results.parquet / results.csv  one row per combination x asset ("wide" layout): ``combo``,
        ``asset``, one column per grid key, the full-period metrics, the window metrics as
        ``w.<window>.<metric>`` columns, period metrics of the walk-forward folds as
        ``p.<segment>.<metric>``, ``stability`` and ``rank`` (1 = best ``metric`` per asset).
    baseline.csv    buy & hold per asset: the same metrics.
    skipped.csv     rejected combinations with the reason (only when there are some).
    walkforward.csv the walk-forward folds (when enabled).
    sweep.html      self-contained report: top combinations, heatmaps of ``metric`` and of the
        stability score over the two ``heatmap`` parameters (full period) and of
        ``window_metric`` per window, the walk-forward table. Heatmaps are slices through the
        best combination (the other grid parameters fixed at its values).
    summary.json    config, span, timings, chunking, counts, the best combination per asset.

Stability score (per asset, of the ranking metric m; a minimised metric is negated first): for
each combination, its neighbourhood is every combination whose index differs by at most one step
in every grid dimension (itself included: 3^d cells inside the grid). ``stability = mean(m over
the neighbourhood) - stability_penalty x sd(m over the neighbourhood)`` (population sd, skipped
neighbours ignored). A broad plateau keeps its level; an isolated peak is pulled down by its
lower neighbours and by their dispersion.

Walk-forward ``[walk_forward]``: parameters are chosen on in-sample data only and evaluated on the
held-out data; the in-sample objective minus the out-of-sample one is the degradation.
    mode = "windows" (default): one fold. In-sample: the sell-off windows that end before
        ``fit_end`` (default 2024-01-01) and the period start .. fit_end; out-of-sample: the
        windows that start on or after ``test_start`` (default 2025-01-01) and test_start .. end.
    mode = "anchored" | "rolling": folds of ``train_years`` (default 4) then ``test_years``
        (default 1), stepping by test_years; anchored folds always train from ``start``.
    objective = "dd_avoided_cost" (default): mean drawdown_avoided over the segment's windows
        (0 when it has none) minus ``cost_weight`` (default 1) x max(0, buy & hold CAGR - strategy
        CAGR) over the segment. Drawdown avoided alone is maximised by sitting in cash; the
        penalty charges the return given up for it. Any metric name (sharpe, calmar ...) can
        be used instead (a segment metric; volatility and trades are minimised).
    select = "objective" (default: the best in-sample objective) or "stability" (the best
        stability score of the in-sample objective over the grid: prefers plateaus).
Ties go to the lowest combination number. ``walkforward.csv`` has one row per fold x asset.

Backends: ``local`` runs the chunks in this process; ``dask`` sends them to a dask.distributed
cluster (``--scheduler ADDRESS``, or a LocalCluster started for the run) with ``Client.map``;
the plan is scattered once, every worker loads the data from the same data dir (it must be
reachable from the workers) and keeps per-process caches; results are merged in combination
order, identical to the local backend.

Modules (one job each): ``config`` (parse and validate), ``grid`` (combination numbering and the
parameters of one combination), ``plan`` (span, walk-forward folds, per-asset contexts),
``kernels`` (the numba kernels), ``chunks`` (a range of combinations through the kernels),
``backends`` (local / dask, merging), ``selection`` (ranking, stability, walk-forward) and
``output`` (the sweep folder and its HTML). The ``riskoff sweep`` command lives in riskoff/cli.py.
"""
from __future__ import annotations

from riskoff.util.lazy import lazy_exports

# The package loads its modules on first use (PEP 562): the CLI's argument parser reads
# riskoff.sweep.config for the choices of `riskoff sweep`, and every other command (`riskoff run`)
# must not pay for the kernels, the output and scipy.stats that a sweep needs.
_HOME = {
    "FULL_METRICS": "riskoff.engine.metrics", "WINDOW_METRICS": "riskoff.engine.metrics",
    "SweepResult": "riskoff.sweep.backends", "run_sweep": "riskoff.sweep.backends",
    "ChunkResult": "riskoff.sweep.chunks", "chunk_size_for": "riskoff.sweep.chunks",
    "run_chunk": "riskoff.sweep.chunks", "sweep_equity": "riskoff.sweep.chunks",
    "BACKENDS": "riskoff.sweep.config", "KERNELS": "riskoff.sweep.config", "GridDim": "riskoff.sweep.config",
    "SweepConfig": "riskoff.sweep.config", "WalkForwardSpec": "riskoff.sweep.config",
    "load_sweep_config": "riskoff.sweep.config", "parse_sweep_config": "riskoff.sweep.config",
    "rankable_metrics": "riskoff.sweep.config",
    "combo_indices": "riskoff.sweep.grid", "combo_params": "riskoff.sweep.grid", "combo_strategy": "riskoff.sweep.grid",
    "default_out": "riskoff.sweep.output", "render_html": "riskoff.sweep.output", "write_sweep": "riskoff.sweep.output",
    "SweepPlan": "riskoff.sweep.plan", "asset_context": "riskoff.sweep.plan", "clear_caches": "riskoff.sweep.plan",
    "plan_sweep": "riskoff.sweep.plan", "run_config": "riskoff.sweep.plan",
    "stability_scores": "riskoff.sweep.selection", "walk_forward": "riskoff.sweep.selection",
}


__getattr__, __dir__ = lazy_exports("riskoff.sweep", globals(), _HOME)


__all__ = ["SweepConfig", "GridDim", "WalkForwardSpec", "SweepPlan", "SweepResult", "ChunkResult",
           "load_sweep_config", "parse_sweep_config", "rankable_metrics", "plan_sweep", "run_sweep", "run_chunk",
           "write_sweep", "render_html", "default_out", "combo_params", "combo_strategy", "combo_indices",
           "stability_scores", "walk_forward", "sweep_equity", "asset_context", "run_config", "clear_caches",
           "chunk_size_for", "FULL_METRICS", "WINDOW_METRICS", "KERNELS", "BACKENDS"]
