"""The sweep's numba kernels (compiled on first use, so importing the package, e.g. for the CLI
parser, does not import numba; cached on disk like the engine's). Call them through :func:`compiled`."""
from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import numpy as np

# =============================================================================================
# Numba kernels (compiled on first use so that importing this module, e.g. for the CLI parser,
# does not import numba; cached on disk like the engine's)
# =============================================================================================
prange = range  # replaced by numba.prange before the kernels compile


def _k_overlay(raw, minpos, close, prevmax, first, settings, out):  # pragma: no cover
    """One combination's overlays: ``riskoff.strategies.overlays.overlay_stream_nb`` (the shared per-bar step)."""
    overlay_stream_nb(settings, raw, minpos, close, prevmax, first, out)


def _k_sim(x, pos, close, price, growth, fee, slip, floor_frac, init_cash, eq, pv, fl):  # pragma: no cover
    """One account holding one asset, stepped by ``riskoff.engine.account.account_bar_nb`` (no rebalancing rules).

    Writes the equity, the position value (units x last close; weight = pv / equity) and the fill
    flags of every bar. ``x[pos[t]]`` is the exposure decided at bar t (cash where pos < 0).
    """
    state = initial_account_state(init_cash)
    for t in range(close.shape[0]):
        k = pos[t]
        tgt = x[k] if k >= 0 else 0.0
        state, eq[t], pv[t], filled = account_bar_nb(state, t, price[t], close[t], growth[t], tgt, fee, slip,
                                                     floor_frac, np.inf, False)
        fl[t] = 1 if filled != 0.0 else 0


def _k_metrics(eq, pv, fl, growth, rbuf, ppy, segs, wins, bh_wdd, edges, st, wo, bs):  # pragma: no cover
    """Segment statistics, window metrics and the per-block sums of excess returns (``bs``: (2, S),
    for the sweep's PBO) of one combination: ``riskoff.engine.metrics``' numba steps."""
    block_sums_nb(eq, growth, edges, bs[0], bs[1])
    for s in range(segs.shape[0]):
        segment_stats_nb(eq, pv, fl, growth, rbuf, ppy, segs[s, 0], segs[s, 1], st[s])
    for k in range(wins.shape[0]):
        if wins[k, 0] == 0:
            for m in range(wo.shape[1]):
                wo[k, m] = np.nan
            continue
        window_stats_nb(eq, pv, wins[k, 1], wins[k, 2], wins[k, 3], wins[k, 4], bh_wdd[k], wo[k])


def _k_fused_one(j, raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos, close, price, growth, fee,
                 slip, floor_frac, init_cash, ppy, segs, wins, bh_wdd, edges, st_out, w_out, b_out, store, eq_store,
                 w_store, xb, eq, pv, rb, fl):  # pragma: no cover
    """One combination of ``_k_fused`` with the caller's scratch buffers."""
    _k_overlay(raw[ridx[j]], minpos[ridx[j]], close_full, prevmax[pmidx[j]], first, settings[j], xb)
    _k_sim(xb, pos, close, price, growth, fee, slip, floor_frac, init_cash, eq, pv, fl)
    _k_metrics(eq, pv, fl, growth, rb, ppy, segs, wins, bh_wdd, edges, st_out[j], w_out[j], b_out[j])
    s = store[j]
    if s >= 0:
        for t in range(close.shape[0]):
            eq_store[s, t] = eq[t]
            w_store[s, t] = weight_nb(pv[t], eq[t])


def _k_fused(raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos,
             close, price, growth, fee, slip, floor_frac, init_cash, ppy, segs, wins, bh_wdd, edges, st_out, w_out,
             b_out, store, eq_store, w_store):  # pragma: no cover
    """Overlays + simulation + metrics per combination, parallel over combinations."""
    n = ridx.shape[0]
    nf = raw.shape[1]
    nb = close.shape[0]
    nblk = min(n, 64)
    for blk in prange(nblk):  # scratch buffers allocated once per block of combinations
        xb = np.empty(nf)
        eq = np.empty(nb)
        pv = np.empty(nb)
        rb = np.empty(nb)
        fl = np.empty(nb, np.int64)
        for j in range(blk * n // nblk, (blk + 1) * n // nblk):
            _k_fused_one(j, raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, pos, close, price, growth,
                         fee, slip, floor_frac, init_cash, ppy, segs, wins, bh_wdd, edges, st_out, w_out, b_out, store,
                         eq_store, w_store, xb, eq, pv, rb, fl)


def _k_overlay_batch(raw, minpos, ridx, close_full, prevmax, pmidx, first, settings, out):  # pragma: no cover
    for j in prange(ridx.shape[0]):
        _k_overlay(raw[ridx[j]], minpos[ridx[j]], close_full, prevmax[pmidx[j]], first, settings[j], out[j])


def _k_metrics_batch(eq, pv, fl, growth, ppy, segs, wins, bh_wdd, edges, st_out, w_out, b_out):  # pragma: no cover
    for j in prange(eq.shape[0]):
        rb = np.empty(eq.shape[1])
        _k_metrics(eq[j], pv[j], fl[j], growth, rb, ppy, segs, wins, bh_wdd, edges, st_out[j], w_out[j], b_out[j])


_KERNELS = {"_k_overlay": {}, "_k_sim": {},
            "_k_metrics": {},
            "_k_fused_one": {}, "_k_fused": {"parallel": True}, "_k_overlay_batch": {"parallel": True},
            "_k_metrics_batch": {"parallel": True}}
_jit_lock = threading.Lock()
_jitted = False


def _jit() -> None:
    """Compile (or load from numba's on-disk cache) the kernels above, once per process."""
    global _jitted, prange
    if _jitted:
        return
    with _jit_lock:
        if _jitted:
            return
        import numba

        import riskoff.engine.account
        import riskoff.engine.metrics
        import riskoff.strategies.overlays
        from riskoff.engine.account import (
            account_bar_nb,
            initial_account_state,
            weight_nb,
        )
        from riskoff.engine.metrics import (
            block_sums_nb,
            segment_stats_nb,
            window_stats_nb,
        )
        from riskoff.strategies.overlays import overlay_stream_nb
        from riskoff.util.numba_cache import drop_stale

        # the kernels below inline steps from these modules; numba's cache would not notice a change
        drop_stale(sys.modules[__name__], [riskoff.engine.account, riskoff.engine.metrics, riskoff.strategies.overlays])

        prange = numba.prange
        g = globals()
        # the shared per-bar steps, resolved by the kernels below as globals when they compile
        g.update(overlay_stream_nb=overlay_stream_nb, account_bar_nb=account_bar_nb,
                 initial_account_state=initial_account_state, weight_nb=weight_nb,
                 segment_stats_nb=segment_stats_nb, window_stats_nb=window_stats_nb, block_sums_nb=block_sums_nb)
        for name, opts in _KERNELS.items():  # callees first: the callers resolve them as globals
            g[name] = numba.njit(cache=True, nogil=True, **opts)(g[name])
        _jitted = True




_COMPILED: SimpleNamespace | None = None


def compiled() -> SimpleNamespace:
    """The compiled kernels by role (compiled, or loaded from numba's on-disk cache, on first call).

    Callers use ``compiled().fused(...)`` and never import a kernel by name: the names above are
    rebound to their compiled versions by ``_jit``, so an imported name would stay pure Python.
    """
    global _COMPILED
    if _COMPILED is None:
        _jit()
        g = globals()
        _COMPILED = SimpleNamespace(overlay=g["_k_overlay"], sim=g["_k_sim"], metrics=g["_k_metrics"],
                                    fused_one=g["_k_fused_one"], fused=g["_k_fused"],
                                    overlay_batch=g["_k_overlay_batch"], metrics_batch=g["_k_metrics_batch"])
    return _COMPILED
