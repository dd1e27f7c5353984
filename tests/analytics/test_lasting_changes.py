"""Lasting changes in a child's days, and mood before and after a strategy began: planted
truths recovered, flat data left alone, thin data said to be thin (issue 15, item 6)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import ruptures

from empowered.analytics.before_after import before_after
from empowered.analytics.changepoints import default_penalty, mean_shifts, serial_penalty
from empowered.analytics.lasting_changes import MIN_DAYS, lasting_changes


def school_days(n: int, monday: date = date(2025, 9, 1)) -> list[date]:
    """``n`` weekdays from a Monday on."""
    return [monday + timedelta(days=7 * (i // 5) + i % 5) for i in range(n)]


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float = 0.5) -> np.ndarray:
    e = rng.normal(0, sd, n)
    y = np.zeros(n)
    for i in range(n):
        y[i] = (phi * y[i - 1] if i else 0.0) + e[i]
    return y


def test_a_planted_drop_in_mood_is_dated_and_sized_in_the_scales_units() -> None:
    rng = np.random.default_rng(11)
    days = school_days(120)
    mood = np.clip(np.r_[rng.normal(3.4, 0.5, 70), rng.normal(2.3, 0.5, 50)], 1, 5)
    found = lasting_changes("mood", days, list(mood))
    (change,) = found.changes
    assert abs(days.index(change.starts_on) - 70) <= 3
    assert change.lower and found.enough
    text = change.summary
    assert text.startswith(f"Mood was lower from about {change.starts_on.day} ")
    assert "out of 5" in text and f"{mood[: days.index(change.starts_on)].mean():.1f}" in text


def test_flat_days_give_no_change_and_thin_days_say_so() -> None:
    rng = np.random.default_rng(12)
    flat = lasting_changes("engagement", school_days(150), list(rng.normal(3.2, 0.5, 150)))
    assert flat.changes == () and flat.enough
    assert flat.summary.startswith("Engagement: no lasting change stands out over the 150 days")
    thin = lasting_changes("mood", school_days(2 * MIN_DAYS - 1), [3.0] * (2 * MIN_DAYS - 1))
    assert not thin.enough
    assert "not enough days yet" in thin.summary and "at least 20" in thin.summary


def test_a_small_step_is_not_reported_however_long_the_stretches() -> None:
    rng = np.random.default_rng(13)
    mood = np.r_[rng.normal(3.2, 0.3, 100), rng.normal(3.0, 0.3, 100)]
    assert lasting_changes("mood", school_days(200), list(mood)).changes == ()


def test_the_serial_penalty_stops_good_and_bad_weeks_reading_as_changes() -> None:
    """Days carry over (a good week, a bad week): the BIC-like default finds a change in
    most such series of plain noise; the page's penalty in almost none, and still finds a
    real step in the same noise."""
    rng = np.random.default_rng(14)
    series = [ar1(rng, 160, 0.4) for _ in range(40)]
    default = sum(bool(mean_shifts(x, min_size=10, penalty=default_penalty(x))) for x in series)
    serial = sum(bool(mean_shifts(x, min_size=10, penalty=serial_penalty(x))) for x in series)
    assert default >= 10 and serial <= 2, (default, serial)
    stepped = [x + np.r_[np.zeros(80), np.full(80, -1.2)] for x in series[:10]]
    found = [mean_shifts(x, min_size=10, penalty=serial_penalty(x)) for x in stepped]
    assert sum(any(abs(s.index - 80) <= 5 for s in f) for f in found) >= 9


def test_the_compiled_search_finds_what_pelt_finds() -> None:
    rng = np.random.default_rng(15)
    for _ in range(5):
        x = np.r_[rng.normal(0, 1, 40), rng.normal(2, 1, 30), rng.normal(0.5, 1, 30)]
        pen = default_penalty(x)
        pelt = ruptures.Pelt(model="l2", min_size=5, jump=1).fit(x.reshape(-1, 1))
        assert [s.index for s in mean_shifts(x, penalty=pen)] == pelt.predict(pen=pen)[:-1]


def planted_strategy(seed: int) -> tuple[list[date], list[float], date]:
    """Mood 2 or 3 (evenly) before the strategy, 3 or 4 after: a day after beats a day
    before in 7 of 8 pairs with ties counted half, so the planted NAP is 0.875."""
    rng = np.random.default_rng(seed)
    days = school_days(80)
    mood = np.r_[rng.choice([2.0, 3.0], 40), rng.choice([3.0, 4.0], 40)]
    return days, list(mood), days[40]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_planted_strategy_effect_has_a_range_that_holds_it(seed: int) -> None:
    days, mood, began = planted_strategy(seed)
    result = before_after("VT", "Visual timetable", began, days, mood)
    assert result.method == "NAP" and result.clear
    assert result.low is not None and result.high is not None
    assert result.low <= 0.875 <= result.high
    assert result.summary.startswith(
        f"After Visual timetable began on {began.day} {began:%B %Y}, about"
    )
    assert "had a better mood than a typical day before it" in result.summary
    assert "from 30 school days with a mood rating before and 30 after" in result.summary
    for word in ("NAP", "Tau", "\u03c4"):
        assert word not in result.summary


def test_no_effect_is_not_a_clear_change_and_too_few_days_say_not_enough() -> None:
    rng = np.random.default_rng(5)
    days = school_days(80)
    same = list(rng.choice([2.0, 3.0, 4.0], 80))
    result = before_after("X", "Quiet space", days[40], days, same)
    assert not result.clear and "no clear change yet" in result.summary
    early = before_after("X", "Quiet space", days[4], days, same)
    assert early.method is None and "not enough days yet" in early.summary
    assert "4 days with a mood rating before it" in early.summary
    # In use from the very first check-in: more days will never bring a "before".
    first = before_after("X", "Quiet space", days[0], days, same)
    assert first.method is None and "not enough days yet" not in first.summary
    assert "no days before it to compare with" in first.summary


def test_a_baseline_already_rising_is_allowed_for() -> None:
    days = school_days(60)
    rising = [2.0 + 0.05 * i + 0.3 * ((i * 7) % 3 - 1) for i in range(60)]
    result = before_after("X", "Movement break", days[30], days, rising)
    assert result.method == "Tau-BC"
    assert "allowing for the trend already there before it" in result.summary
    assert not result.clear  # the rise simply went on: no change to credit the strategy


def test_a_change_of_level_inside_the_baseline_is_not_read_as_a_trend() -> None:
    rng = np.random.default_rng(7)
    days = school_days(90)
    mood = list(np.r_[rng.normal(3.5, 0.3, 50), rng.normal(2.0, 0.3, 40)])
    began = days[56]  # six days after mood fell
    result = before_after("X", "Choice offered", began, days, mood, level_changes=[days[50]])
    assert result.method is None
    assert f"since mood changed on {days[50].day} {days[50]:%B %Y}" in result.summary
    # A change found a day or two before the start is the start's own.
    own = before_after("X", "Adult check-in", days[51], days, mood, level_changes=[days[50]])
    assert own.method == "NAP" and own.clear and "lower mood" in own.summary
