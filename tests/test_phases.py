"""Per-phase timing and progress lines."""
from __future__ import annotations

import time

from riskoff.run.phases import Phases


def test_phases_accumulate_and_log_progress_for_slow_phases():
    lines: list[str] = []
    phases = Phases(lines.append, live=False, every=0.0)
    for _ in range(2):
        with phases.phase("work", total=2) as bar:
            bar.update()
            bar.update()
    with phases.phase("slow", total=1) as bar:
        time.sleep(1.05)
        bar.update()
    phases.record("written", 0.25)
    assert "work: 2/2" in " ".join(lines) and any(line.startswith("slow: done in 1.") for line in lines)
    assert not any(line.startswith("work: done") for line in lines)  # quick phases get no closing line
    summary = phases.summary()
    assert summary.startswith("timing: work ") and "| slow 1." in summary and "| written 0.2 s" in summary
    assert phases.seconds["work"] < 0.5 and phases.seconds["slow"] >= 1.0
