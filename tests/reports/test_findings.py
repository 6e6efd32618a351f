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


def test_per_window_lines_name_who_was_out_with_their_drawdowns(run_dir):
    text = findings_markdown(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    checked = 0
    for (wid, asset), rows in windows.groupby(["window", "asset"]):
        line = _asset_line(text, wid, asset)
        bh = rows[rows.strategy == "buy_and_hold"].iloc[0]
        assert f"buy & hold {bh.bh_max_dd * 100:.1f}%" in line
        rules = rows[rows.strategy != "buy_and_hold"]
        out = [r for _, r in rules.iterrows() if r.exposure_at_trough == 0]
        if out:
            listed = line.split("out at the trough: ", 1)[1].split("; partly", 1)[0].split("; held", 1)[0]
            for r in out:
                assert f"`{r.strategy}` {r.strategy_max_dd * 100:.1f}%" in listed
                checked += 1
        held = [r.strategy for _, r in rules.iterrows() if r.exposure_at_trough >= 0.99]
        if held and len(held) < len(rules):
            assert f"held through: {len(held)} of {len(rules)} rules" in line
    assert checked > 0


def test_cost_tables_put_cagr_given_up_next_to_protection(run_dir):
    text = findings_markdown(run_dir)
    stats = pd.DataFrame(json.loads((run_dir / "summary.json").read_text())["stats"]).set_index(["strategy", "asset"])
    for asset in ("SPY", "BTC-USD"):
        table = text.split(f"**{asset}** (", 1)[1].split("\n\n", 2)[1]
        for row in table.splitlines()[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            name = re.search(r"`(.+)`", cells[1]).group(1)
            given_up = stats.loc[("buy_and_hold", asset), "cagr"] - stats.loc[(name, asset), "cagr"]
            assert cells[4] == f"{given_up * 100:+.1f} pp/yr".replace("-0.0", "+0.0")
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
