"""The dask backend gives the local backend's results (a LocalCluster started by the test)."""
from __future__ import annotations

import os
import platform

import pandas as pd
import pytest

from riskoff.sweep import plan_sweep, run_sweep
from tests.sweep.conftest import make_config

distributed = pytest.importorskip("distributed")


def test_dask_backend_equals_local_backend(data_dir):
    cfg = make_config({"signal.vix_mean_reversion.entry_z": [2.0, 3.0], "overlays.min_bars_out": [0, 5, 10],
                       "overlays.trailing_stop": [0.0, 0.1]},
                      strategy={"name": "vix", "rule": "any_off", "signals": ["vix_mean_reversion"]})
    cfg = cfg.with_walk_forward()
    plan = plan_sweep(cfg, data_dir=data_dir)
    local = run_sweep(plan, chunk_size=5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_sweep(plan, backend="dask", scheduler=cluster.scheduler_address, chunk_size=5)
    # the chunks ran in the cluster's two worker processes, not here
    assert len(remote.workers) == 2 and all(not w.endswith(f":{os.getpid()}") for w in remote.workers)
    assert local.workers == (f"{platform.node()}:{os.getpid()}",)
    assert remote.backend == "dask" and len(remote.results) == cfg.n_combos * len(cfg.assets)
    pd.testing.assert_frame_equal(local.results, remote.results, check_exact=True)
    pd.testing.assert_frame_equal(local.walkforward, remote.walkforward, check_exact=True)
    pd.testing.assert_frame_equal(local.baseline, remote.baseline, check_exact=True)
