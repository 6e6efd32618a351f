"""The mutation set stays runnable: every original snippet occurs exactly once in its file.

When code moves, this fails and names the mutation to re-point (tests/mutation/mutations.py); the
mutation check itself (run_mutations.py) runs only on request.
"""
from __future__ import annotations

from mutations import MUTATIONS
from run_mutations import ROOT, snippet_problems

NAMED_IN_ISSUE_17 = {"us_signal_one_day_early_on_utc_bars", "crypto_default_costs_1_plus_2",
                     "no_effr_fallback_before_sofr", "crypto_false_alarm_threshold_ignored",
                     "turnover_not_annualised", "staleness_bound_one_day_looser", "sofr_publication_lag_dropped"}


def test_every_mutation_snippet_is_found_exactly_once():
    assert snippet_problems(ROOT, MUTATIONS) == []


def test_the_set_is_named_unique_and_covers_the_issue():
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names)) >= 15
    assert NAMED_IN_ISSUE_17 <= set(names)
    assert all(m.original != m.replacement and m.tests for m in MUTATIONS)
