"""findings.md: the run's own numbers in sentences, and the README block that quotes them."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from riskoff.reports.findings import (
    README_END,
    README_START,
    findings_markdown,
    readme_with_findings,
)


def _asset_line(text: str, window: str, asset: str) -> str:
    block = text.split(f"(`{window}`", 1)[1].split("\n- **", 1)[0]
    return next(line for line in block.splitlines() if line.strip().startswith(f"- {asset} "))


def _outcome(r) -> str:
    # the report's outcome classes, written out here from their definitions (not riskoff's helper)
    if r.bh_max_dd > -0.03:
        return "nothing"
    if r.drawdown_avoided >= 0.005:
        return "protected"
    if r.drawdown_avoided <= -0.005:
        return "worse"
    return "held" if pd.isna(r.exposure_at_trough) or r.exposure_at_trough >= 0.99 else "no_gain"


_LABELS = {"protected": "protected: ", "no_gain": "cut, no gain: ", "worse": "worse: ", "held": "held through: "}


def _segment(line: str, label: str) -> str:
    body = line.split(": ", 1)[1]
    if label not in body:
        return ""
    seg = body.split(label, 1)[1]
    for other in _LABELS.values():
        seg = seg.split("; " + other, 1)[0]
    return seg


def test_per_window_lines_classify_rules_as_the_outcome_table_does(run_dir):
    # one classification everywhere: a rule that avoided drawdown is "protected" even when it was
    # back in by the trough, and a rule out at the trough that gained nothing is not
    text = findings_markdown(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    checked = set()
    for (wid, asset), rows in windows.groupby(["window", "asset"]):
        line = _asset_line(text, wid, asset)
        bh = rows[rows.strategy == "buy_and_hold"].iloc[0]
        assert f"buy & hold {bh.bh_max_dd * 100:.1f}%" in line
        rules = rows[rows.strategy != "buy_and_hold"]
        kinds = {r.strategy: _outcome(r) for _, r in rules.iterrows()}
        if set(kinds.values()) == {"nothing"}:
            assert "nothing to avoid" in line
        for _, r in rules.iterrows():
            kind = kinds[r.strategy]
            if kind in ("protected", "no_gain", "worse"):
                seg = _segment(line, _LABELS[kind])
                assert f"`{r.strategy}` {r.strategy_max_dd * 100:.1f}%" in seg, (line, r.strategy, kind)
                if kind == "protected":
                    assert f"+{r.drawdown_avoided * 100:.1f} pp" in seg.split(f"`{r.strategy}`", 1)[1].split(")", 1)[0]
                checked.add(kind)
        held = [s for s, k in kinds.items() if k == "held"]
        if held and len(held) < len(rules):
            assert f"held through: {len(held)} of {len(rules)} rules" in line
            checked.add("held")
    assert {"protected", "held"} <= checked


def test_cost_tables_put_cagr_given_up_next_to_protection(run_dir):
    text = findings_markdown(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    stats = pd.DataFrame(json.loads((run_dir / "summary.json").read_text())["stats"]).set_index(["strategy", "asset"])
    for asset in ("SPY", "BTC-USD"):
        table = text.split(f"**{asset}** (", 1)[1].split("\n\n", 2)[1]
        for row in table.splitlines()[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            name = re.search(r"`(.+)`", cells[1]).group(1)
            given_up = stats.loc[("buy_and_hold", asset), "cagr"] - stats.loc[(name, asset), "cagr"]
            assert cells[5] == f"{given_up * 100:+.1f} pp/yr".replace("-0.0", "+0.0")
            # protection counts the windows where buy & hold fell at least 3%; every window beside it
            rows = windows[(windows.strategy == name) & (windows.asset == asset)]
            fell = rows[rows.bh_max_dd <= -0.03]
            expected = f"{round(fell.drawdown_avoided.mean() * 100, 1) + 0.0:+.1f} pp" if len(fell) else "n/a"
            assert cells[2] == expected and cells[3].endswith(f"/{len(fell)}")
            assert cells[4] == f"{round(rows.drawdown_avoided.mean() * 100, 1) + 0.0:+.1f} pp ({len(rows)})"
    assert "no random-timing p-values" in text


def test_findings_are_deterministic_and_the_readme_block_is_replaced(run_dir):
    text = findings_markdown(run_dir)
    assert text == findings_markdown(run_dir)
    readme = f"intro\n{README_START}\nold claims\n{README_END}\nrest\n"
    new = readme_with_findings(readme, text)
    assert "old claims" not in new and new.startswith("intro\n") and new.endswith(f"{README_END}\nrest\n")
    assert "#### Per window: who was out before the trough" in new and "# What the run finds" not in new
    with pytest.raises(ValueError, match="findings markers"):
        readme_with_findings("no markers", text)


def _hourly_copy(run_dir, tmp_path, lead_hours: float):
    """A copy of the synthetic run whose first window with a fall is read as an hourly asset's: its trough
    carries a UTC time, its first rule protected (out at the trough) and the rows lead_time_hours (the
    rest of windows.csv keeps daily troughs)."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    windows = pd.read_csv(copy / "windows.csv", dtype=str)
    fell = windows[(windows["strategy"] != "buy_and_hold") & (windows["bh_max_dd"].astype(float) <= -0.03)]
    wid, asset, rule = fell.iloc[0]["window"], fell.iloc[0]["asset"], fell.iloc[0]["strategy"]
    mask = (windows["window"] == wid) & (windows["asset"] == asset)
    # that rule protected and was out at the trough
    windows.loc[mask & (windows["strategy"] == rule), ["exposure_at_trough", "drawdown_avoided"]] = ["0.0", "0.05"]
    trough = windows.loc[mask, "trough"].iloc[0][:10] + "T21:20Z"
    windows.loc[mask, "trough"] = trough
    windows["lead_time_hours"] = ""
    windows.loc[mask, "lead_time_hours"] = str(lead_hours)
    windows.to_csv(copy / "windows.csv", index=False)
    return copy, wid, asset, trough


def test_findings_speak_in_hours_for_an_intraday_asset_and_follow_the_numbers(run_dir, tmp_path):
    # windows.csv mixing daily troughs with a UTC time must read back whole (it once became NaT and
    # crashed the writer), and the sentence is generated from lead_time_hours: editing it changes it
    copy, wid, asset, trough = _hourly_copy(run_dir, tmp_path / "a", 11.0)
    rows = pd.read_csv(copy / "windows.csv")
    out = rows[(rows.window == wid) & (rows.asset == asset) & (rows.strategy != "buy_and_hold")
               & (rows.exposure_at_trough == 0)]
    assert len(out), "the synthetic window needs a rule out at the trough"
    line = _asset_line(findings_markdown(copy), wid, asset)
    assert f"(trough {trough}," in line and "out at the trough hour, cut 11 h ahead)" in line
    assert " d ahead" not in line
    copy2, *_ = _hourly_copy(run_dir, tmp_path / "b", 0.25)
    line2 = _asset_line(findings_markdown(copy2), wid, asset)
    assert "out at the trough hour, cut 15 min ahead)" in line2 and "11 h" not in line2


def test_window_bounds_read_back_with_dates_and_utc_times_mixed(tmp_path):
    from riskoff.evaluation.windows import parse_instants
    from riskoff.reports.runfiles import read_windows_table
    from riskoff.util.errors import ConfigError

    pd.DataFrame({"strategy": ["a", "a"], "asset": ["BTC", "BTC-1H"], "window": ["w", "w"],
                  "start": ["2021-05-12", "2025-10-06T12:00Z"], "trough": ["2021-05-19", "2025-10-10T21:20Z"],
                  "end": ["2021-05-31", "2025-10-13"]}).to_csv(tmp_path / "windows.csv", index=False)
    table = read_windows_table(tmp_path)
    assert list(table["trough"]) == [pd.Timestamp("2021-05-19"), pd.Timestamp("2025-10-10 21:20")]
    assert list(table["start"]) == [pd.Timestamp("2021-05-12"), pd.Timestamp("2025-10-06 12:00")]
    assert not table[["start", "trough", "end"]].isna().any().any()
    # the significance stage locates window rows with the same parser (a time on `start` once failed there)
    assert list(parse_instants(["2020-03-01", "2020-03-12T15:00Z", None], "start")[:2]) == [
        pd.Timestamp("2020-03-01"), pd.Timestamp("2020-03-12 15:00")]
    with pytest.raises(ConfigError, match="start = '12/03/2020'"):
        parse_instants(["12/03/2020"], "start")
