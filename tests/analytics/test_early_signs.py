from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from empowered.analytics.early_signs import (
    AttendanceDays,
    Indicator,
    Series,
    attainment_indicator,
    attendance_alerts,
    behaviour_indicator,
    indicator_view,
    level_alerts,
    poisson_at_least,
)

START = date(2025, 9, 1)


def days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def test_a_fall_in_mood_is_alerted_within_days_of_starting() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(3.5, 0.4, 120)
    x[70:] -= 1.2
    alerts = level_alerts(Series("A", "100001", days(120), x), indicator="mood")
    assert alerts, "a 3-sigma fall must be seen"
    first = alerts[0]
    assert (first.started_on - days(120)[70]).days in range(0, 10)
    assert first.recent < first.baseline - 0.3
    assert "Worth a conversation" in first.summary and "lower than usual" in first.summary
    # The rule staff read names no method or setting (issue 15: no λ, no "standard errors").
    assert not any(w in first.rule for w in ("λ", "standard error", "weighted recent"))


def test_steady_mood_raises_few_alerts() -> None:
    alerts = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        series = Series("A", "100001", days(190), rng.normal(3.5, 0.5, 190))
        alerts += len(level_alerts(series, indicator="mood"))
    assert alerts / 40 < 0.5  # fewer than one in two children-years with no change at all


def test_too_short_a_history_says_nothing() -> None:
    assert level_alerts(Series("A", "1", days(15), np.full(15, 3.0)), indicator="mood") == []


def test_attendance_falling_away_is_alerted() -> None:
    rng = np.random.default_rng(4)
    possible = np.full(150, 2)
    absent = (rng.random((150, 2)) < 0.04).sum(axis=1)
    absent[90:] = (rng.random((60, 2)) < 0.5).sum(axis=1)
    alerts = attendance_alerts(
        AttendanceDays("A", "1", days(150), possible, absent), prior_rate=0.05
    )
    assert alerts and 0 <= (alerts[0].started_on - days(150)[90]).days < 10
    assert alerts[0].summary.startswith("Missed ")
    assert "cumulative sum" not in alerts[0].rule


def test_indicators_are_shown_side_by_side_never_as_a_score() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(3.5, 0.4, 120)
    x[70:] -= 1.2
    alerts = level_alerts(Series("A", "1", days(120), x), indicator="mood")
    as_of = days(120)[-1]
    view = indicator_view(
        "A",
        as_of,
        alerts,
        behaviour=behaviour_indicator([], days(120), as_of),
        attainment=attainment_indicator(
            [
                {
                    "measure": "standardised_score",
                    "subject": "reading",
                    "assessed_on": START,
                    "value": 100,
                },
                {
                    "measure": "standardised_score",
                    "subject": "reading",
                    "assessed_on": as_of,
                    "value": 90,
                },
            ],
            as_of,
        ),
    )
    fired = [i.name for i in view.indicators if i.fired]
    assert fired == ["mood", "attainment"]
    assert view.fired_count == 2
    assert view.summary.startswith("2 of 5 early-sign measures stood out")
    assert not hasattr(view, "score")
    assert isinstance(view.indicators[0], Indicator)


def test_behaviour_indicator_compares_with_the_childs_own_rate() -> None:
    attended = days(60)
    quiet = [attended[i] for i in range(0, 50, 10)]  # 5 incidents in 50 days
    busy = quiet + attended[52:58]  # then 6 in the last 10 days
    assert not behaviour_indicator(quiet, attended, attended[-1]).fired
    assert behaviour_indicator(busy, attended, attended[-1]).fired


@pytest.mark.parametrize("mean", [0.05, 0.5, 1.0, 2.7, 9.5, 40.0])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 8, 13, 30, 60])
def test_poisson_tail_matches_scipy(count: int, mean: float) -> None:
    expected = float(stats.poisson.sf(count - 1, mean))
    got = poisson_at_least(count, mean)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)
