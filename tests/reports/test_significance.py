"""The report's significance columns: marks, intervals and the note, on a run folder with a block."""
from __future__ import annotations

import html
import json
import re
import shutil

import pandas as pd

from riskoff.reports import write_report
from riskoff.reports.significance import (
    merge_significance,
    significance_cells,
    significance_note,
)


def _pair(strategy: str, asset: str, p: float, q: float, lo: float) -> dict:
    return {"strategy": strategy, "asset": asset, "null_kind": "episodes", "null_paths": 1000, "n_windows": 9,
            "dd_avoided_mean_p": p, "dd_avoided_mean_pct": 99.0, "dd_avoided_mean_q": q, "calmar_p": 0.5,
            "calmar_pct": 50.0, "cagr_given_up_p": 0.9, "cagr_given_up_pct": 10.0, "cagr_diff": -0.02,
            "cagr_diff_lo": lo, "cagr_diff_hi": -0.005, "sharpe_diff": 0.1, "sharpe_diff_lo": -0.2,
            "sharpe_diff_hi": 0.4, "confidence": 0.95}


def test_cells_mark_significance_and_show_the_number_of_windows():
    stats = pd.DataFrame({"strategy": ["a", "b", "c"], "asset": ["X", "X", "X"], "cagr": [0.1, 0.1, 0.1]})
    summary = {"significance": {"null": {"paths": 1000}, "bootstrap": {"reps": 1000, "confidence": 0.95},
                                "pairs": [_pair("a", "X", 0.002, 0.03, -0.04), _pair("b", "X", 0.2, 0.5, -0.04)]}}
    frame = merge_significance(stats, summary)
    # the windows and the interval sit on a second line (a span) under the value: read it as a space
    a, b, c = (re.sub(r"<[^>]+>", " ", significance_cells(frame.iloc[i])) for i in range(3))
    assert "0.002 &#9733;&dagger; (9&nbsp;w)" in a           # p <= 0.05 and BH q <= 0.05
    assert "0.200 (9&nbsp;w)" in b and "&#9733;&dagger;" not in b
    assert "-2.0% &#9733; [-4.0, -0.5]" in a                   # interval excludes 0: marked
    assert "+0.10 [-0.20, +0.40]" in a and "+0.10 &#9733;" not in a  # includes 0: not marked
    assert c.count("&ndash;") == 5                             # no block for c: dashes
    note = significance_note(summary)
    assert "1 of 2 pairs have p &le; 0.05" in note and "(1 survive" in note
    assert "were off" in significance_note({})


def test_report_ranking_carries_the_columns(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    summary = json.loads((run / "summary.json").read_text())
    first = summary["stats"][1]
    summary["significance"] = {"null": {"paths": 1000}, "bootstrap": {"reps": 1000, "confidence": 0.95},
                               "pairs": [_pair(first["strategy"], first["asset"], 0.001, 0.01, -0.04)]}
    (run / "summary.json").write_text(json.dumps(summary))
    page = write_report(run).read_text(encoding="utf-8")
    table = re.search(r'<table class="sortable" id="ranking">(.*?)</table>', page, re.S).group(1)
    assert "DD avoided vs random (p)" in table and "Sharpe vs B&amp;H [CI]" in table
    row = re.search(rf'data-strategy="{re.escape(html.escape(first["strategy"]))}" '
                    rf'data-asset="{re.escape(html.escape(first["asset"]))}">(.*?)</tr>', table, re.S).group(1)
    assert "0.001 &#9733;&dagger;" in row
    assert "Skill or luck." in page
