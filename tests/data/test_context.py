"""The data context: resolved once per command, overridable by the older keywords, shipped without its cache."""
from __future__ import annotations

import pickle
from pathlib import Path

from riskoff.data.context import DataContext


def test_create_resolves_the_data_dir_and_adds_the_config_series(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKOFF_DATA_DIR", str(tmp_path))
    ctx = DataContext.create(series={"MYIDX": {"family": "prices", "calendar": "us", "asset_class": "equity"}})
    assert (ctx.data_dir, ctx.data_dir_from) == (tmp_path.resolve(), "RISKOFF_DATA_DIR")
    assert "MYIDX" in ctx.catalog and "SPY" in ctx.catalog
    assert "MYIDX" not in DataContext.create(tmp_path).catalog
    assert DataContext.create(tmp_path / "x").data_dir_from == "--data-dir"


def test_of_returns_the_context_unless_an_older_keyword_overrides_it(tmp_path):
    ctx = DataContext.create(tmp_path)
    ctx.cache["k"] = 1
    assert DataContext.of(ctx) is ctx
    moved = DataContext.of(ctx, data_dir=tmp_path / "other")
    assert moved.data_dir == tmp_path / "other" and moved.catalog is ctx.catalog and moved.cache is ctx.cache
    fresh = DataContext.of(None, data_dir=tmp_path)
    assert fresh.data_dir == Path(tmp_path).resolve() and fresh.cache == {} and "SPY" in fresh.catalog


def test_pickled_context_keeps_dir_and_catalog_but_not_the_cache(tmp_path):
    ctx = DataContext.create(tmp_path)
    ctx.cache["big"] = list(range(1000))
    back = pickle.loads(pickle.dumps(ctx))
    assert back == ctx and back.catalog == ctx.catalog and back.cache == {}
