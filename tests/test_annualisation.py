"""periods_per_year: one definition of a year per clock, and the sentence outputs state."""
import pytest

from riskoff.engine.annualisation import (
    annualisation_note,
    bar_timedelta,
    periods_per_year,
)
from riskoff.util.errors import ConfigError


@pytest.mark.parametrize("calendar, bar, expected", [
    ("us", "1d", 252), ("utc", "1d", 365), ("utc", "1h", 24 * 365), ("utc", "5m", 12 * 24 * 365),
    ("utc", "4h", 6 * 365), ("utc", "15min", 96 * 365)])
def test_bars_per_year_by_clock(calendar, bar, expected):
    assert periods_per_year(calendar, bar) == expected


@pytest.mark.parametrize("calendar, bar", [("us", "1h"), ("nyse", "1d"), ("utc", "7h"), ("utc", "soon"),
                                           ("utc", "-1h")])
def test_unknown_or_impossible_clocks_are_config_errors(calendar, bar):
    with pytest.raises(ConfigError, match="bar|calendar"):
        periods_per_year(calendar, bar)


def test_bar_lengths():
    assert bar_timedelta("5m").total_seconds() == 300
    assert bar_timedelta("1h").total_seconds() == 3600


def test_note_names_every_clock_once_with_its_figure():
    note = annualisation_note([("utc", "1d"), ("us", "1d"), ("utc", "1d"), ("utc", "1h")])
    assert note.count("365 bars/year") == 1 and "252 bars/year" in note and "8,760 bars/year" in note
    assert annualisation_note([("us", "1d")]).endswith("(NYSE sessions)")
