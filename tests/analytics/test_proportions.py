from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from empowered.analytics.proportions import wilson


@pytest.mark.parametrize(
    ("successes", "n"), [(0, 1), (0, 9), (6, 9), (9, 9), (1, 40), (20, 20), (37, 120)]
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(successes: int, n: int, confidence: float) -> None:
    res = wilson(successes, n, confidence)
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert res.low == pytest.approx(low, abs=1e-12)
    assert res.high == pytest.approx(high, abs=1e-12)
    assert res.estimate == pytest.approx(successes / n)
    assert 0 <= res.low <= res.estimate <= res.high <= 1


def test_summary_gives_counts_and_range() -> None:
    res = wilson(6, 9)
    assert res.summary == "6 of 9 times (about 67%, likely 35\u201388%)."


def test_nothing_to_go_on() -> None:
    res = wilson(0, 0)
    assert math.isnan(res.estimate)
    assert "nothing to go on" in res.summary


def test_too_few_says_so_instead_of_a_percentage() -> None:
    res = wilson(2, 3)
    assert "too few" in res.summary
    assert "%" not in res.summary
    assert res.estimate == pytest.approx(2 / 3)


@pytest.mark.parametrize(("successes", "n"), [(-1, 3), (4, 3), (1, -1)])
def test_impossible_counts_are_refused(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(successes, n)
