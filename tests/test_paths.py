"""Where riskoff looks: the user's project, plug-in folders, results and the data dir order."""
from __future__ import annotations

from pathlib import Path

import pytest

from riskoff.signals.contract import discover
from riskoff.util import paths
from riskoff.util.errors import PluginError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("RISKOFF_DATA_DIR", raising=False)
    return monkeypatch


def test_project_is_the_nearest_marked_folder_upward(tmp_path, monkeypatch):
    (tmp_path / "riskoff.toml").write_text('data_dir = "d"\n')
    inner = tmp_path / "a"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.riskoff]: not a project
    deep = inner / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    project = paths.find_project()
    assert project.root == tmp_path and project.path("data_dir") == tmp_path / "d"
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.riskoff]\nresults_dir = "out"\n')
    assert paths.find_project().root == inner and paths.results_dir() == inner / "out"


def test_outside_any_project_results_go_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.find_project() is None and paths.results_dir() == tmp_path / "results"


def test_data_dir_order(tmp_path, clean_env):
    proj = tmp_path / "proj"
    proj.mkdir()
    clean_env.chdir(proj)
    assert paths.resolve_data_dir() == (paths.LIVE_DATA_DIR, "the live cache (where `riskoff data fetch` writes)")
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    assert paths.resolve_data_dir()[0] == shared  # ../shared/data beside the working directory
    (proj / "riskoff.toml").write_text('data_dir = "mydata"\n')
    assert paths.resolve_data_dir() == (proj / "mydata", f"data_dir in {proj / 'riskoff.toml'}")
    clean_env.setenv("RISKOFF_DATA_DIR", str(tmp_path / "env"))
    assert paths.resolve_data_dir() == (tmp_path / "env", "RISKOFF_DATA_DIR")
    assert paths.resolve_data_dir(tmp_path / "x") == (tmp_path / "x", "--data-dir")


def test_plugin_folders_builtins_first_then_project_then_extra(tmp_path, monkeypatch):
    (tmp_path / "riskoff.toml").write_text('plugin_dirs = ["lib"]\n')
    monkeypatch.chdir(tmp_path)
    assert paths.plugin_folders("signals", [tmp_path / "more"]) == [
        paths.SIGNALS_DIR, tmp_path / "signals", tmp_path / "lib", tmp_path / "more"]
    monkeypatch.chdir(ROOT)  # the checkout is its own project: its signals/ are the built-ins, counted once
    assert paths.plugin_folders("signals") == [paths.SIGNALS_DIR]


def test_project_plugins_are_found_from_a_subfolder(tmp_path, monkeypatch):
    (tmp_path / "riskoff.toml").write_text("")
    (tmp_path / "signals").mkdir()
    (tmp_path / "signals" / "flat.py").write_text(
        '"""Always risk-on."""\nfrom riskoff import signal_frame\nINPUTS = ["SPY.close"]\n'
        "def compute(data):\n    return signal_frame(reading=data['SPY.close'] * 0, state=data['SPY.close'] * 0)\n")
    (tmp_path / "backtests").mkdir()
    monkeypatch.chdir(tmp_path / "backtests")
    reg = discover()
    assert "flat" in reg.signals and "vix_mean_reversion" in reg.signals


def test_user_plugin_named_like_a_builtin_is_an_error_naming_both_files(tmp_path, monkeypatch):
    (tmp_path / "riskoff.toml").write_text("")
    (tmp_path / "signals").mkdir()
    mine = tmp_path / "signals" / "ma_break.py"
    mine.write_text((paths.SIGNALS_DIR / "ma_break.py").read_text() + "# the user's own version\n")
    monkeypatch.chdir(tmp_path)
    reg = discover()
    assert "ma_break" not in reg.signals  # neither copy is used silently
    with pytest.raises(PluginError) as err:
        reg.get("ma_break")
    assert str(paths.SIGNALS_DIR / "ma_break.py") in str(err.value) and str(mine) in str(err.value)


def test_a_byte_identical_copy_of_a_builtin_is_the_same_plugin(tmp_path, monkeypatch):
    # a source checkout run as a project beside an installed wheel holds copies of every built-in:
    # the same code under the same name is no doubt, so the built-in is kept and nothing clashes
    (tmp_path / "riskoff.toml").write_text("")
    (tmp_path / "signals").mkdir()
    (tmp_path / "signals" / "ma_break.py").write_bytes((paths.SIGNALS_DIR / "ma_break.py").read_bytes())
    monkeypatch.chdir(tmp_path)
    reg = discover()
    assert "ma_break" not in reg.errors
    assert reg.get("ma_break").origin == str(paths.SIGNALS_DIR / "ma_break.py")


def test_run_folders_default_to_the_projects_results(tmp_path, monkeypatch):
    from riskoff.run.folder import default_out
    (tmp_path / "riskoff.toml").write_text("")
    (tmp_path / "backtests").mkdir()
    monkeypatch.chdir(tmp_path / "backtests")
    out = default_out("example")
    assert out.parent == tmp_path / "results" and out.name.endswith("-example")


def _project_with_outside_plugins(root: Path) -> Path:
    """A `riskoff init` project whose config also names a plug-in folder beside the project,
    ``plugin_dirs = ["../../plugins"]`` (relative to the config file); returns the config."""
    from riskoff.run.scaffold import init_project

    proj = root / "proj"
    init_project(proj)
    (root / "plugins").mkdir()
    example = (proj / "signals" / "spy_drawdown.py").read_text()
    (root / "plugins" / "spy_drawdown_outside.py").write_text(example)
    cfg = proj / "backtests" / "outside.toml"
    cfg.write_text((proj / "backtests" / "example.toml").read_text()
                   .replace('tearsheets = "none"', 'tearsheets = "none"\nplugin_dirs = ["../../plugins"]')
                   .replace('name = "spy_drawdown"', 'name = "spy_drawdown_outside"')
                   + '\n[[strategies]]\nname = "own_signal"\nrule = "any_off"\nsignals = ["spy_drawdown"]\n')
    return cfg


def test_config_paths_and_project_resolve_against_the_config_file_not_the_working_directory(tmp_path, monkeypatch):
    # `cd ~ && riskoff run ~/proj/backtests/x.toml`: the config's plugin_dirs are read from its own
    # folder, and the project (its signals/, riskoff.toml, results/) is the one holding the config
    from riskoff.run.config import load_config

    cfg_file = _project_with_outside_plugins(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(paths, "_anchor", None)
    paths.anchor_project(cfg_file)
    cfg = load_config(cfg_file)
    assert cfg.plugin_dirs == ((tmp_path / "plugins").resolve(),)
    assert {s.name for s in cfg.strategies} >= {"drawdown_exit", "own_signal"}
    assert paths.results_dir() == (tmp_path / "proj" / "results").resolve()
    paths.anchor_project(None)
    assert paths.find_project() is None  # back to the working directory, which is in no project


def test_a_plugin_folder_holding_signals_and_rules_lists_each_in_its_own_kind(tmp_path):
    # plugin_dirs hold signal and strategy modules side by side (riskoff init says so): a signal there
    # is not a BROKEN strategy, nor a rule a broken signal
    from riskoff.strategies.contract import discover_strategies

    mixed = tmp_path / "plugins"
    mixed.mkdir()
    (mixed / "my_signal.py").write_text((ROOT / "signals" / "ma_break.py").read_text().replace(
        "NAME = ", "_NAME = "))
    (mixed / "my_rule.py").write_text((ROOT / "strategies" / "any_off.py").read_text().replace("NAME = ", "_NAME = "))
    signals, rules = discover([mixed]), discover_strategies([mixed])
    assert "my_signal" in signals.items and "my_rule" not in signals.items and not signals.errors
    assert "my_rule" in rules.items and "my_signal" not in rules.items and not rules.errors
