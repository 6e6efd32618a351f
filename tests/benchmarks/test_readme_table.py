"""The README's Performance table is exactly what benchmarks/readme_table.py renders from the
benchmarks' JSON (so no figure is typed by hand), and every JSON carries its checks and the shared
definitions of cold, cold_cached and warm."""
from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import readme_table  # noqa: E402
from _timing import DEFINITIONS  # noqa: E402


def test_the_performance_table_is_generated_from_the_json():
    results = readme_table.load_results()
    assert set(results) == set(readme_table.ORDER)
    text = readme_table.README.read_text()
    assert readme_table.replace_block(text, readme_table.render(results)) == text


def test_every_benchmark_json_states_its_checks_and_the_shared_definitions():
    for name, r in readme_table.load_results().items():
        assert r["checks"], name
        assert all(DEFINITIONS[t] == d for t, d in r["definitions"].items()), name


def test_seconds_are_printed_in_a_readable_unit():
    assert [readme_table.secs(x) for x in (33e-6, 2.3e-3, 0.46, 34.04, 123.0)] == ["33 us", "2.3 ms", "0.46 s",
                                                                                   "34.0 s", "123 s"]
