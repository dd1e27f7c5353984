"""What the early-signs panel may say (issue 15, numbers staff can trust): evidence for
"the 28 days to X" lies in those 28 days, and a measure with no data in them says so
instead of "nothing unusual"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import numpy as np

from empowered.analytics.early_signs import (
    AttendanceDays,
    Series,
    attainment_indicator,
    attendance_alerts,
    behaviour_indicator,
    indicator_view,
    level_alerts,
)

START = date(2025, 9, 1)
DATE = re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}")


def days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def dates_in(text: str) -> list[date]:
    return [datetime.strptime(d, "%d %B %Y").date() for d in DATE.findall(text)]


def view_of(alerts: list, as_of: date, recorded: dict[str, list[date]] | None = None):  # type: ignore[type-arg]
    return indicator_view(
        "A",
        as_of,
        alerts,
        behaviour=behaviour_indicator([], days(200), as_of),
        attainment=attainment_indicator([], as_of),
        recorded=recorded,
    )


def test_a_long_fall_in_mood_is_evidenced_from_inside_the_window() -> None:
    """A fall that began months ago and still shows: the figures quoted are the latest
    ones, dated inside the 28 days, not the first signal's (an early sign "in the 28 days
    to 20 July" was backed by evidence from 23 January)."""
    rng = np.random.default_rng(1)
    x = rng.normal(3.5, 0.3, 200)
    x[60:] -= 0.02 * np.arange(140)  # a slow slide that goes on to the last day
    alerts = level_alerts(Series("A", "1", days(200), x), indicator="mood")
    as_of = days(200)[-1]
    view = view_of(alerts, as_of)
    mood = next(i for i in view.indicators if i.name == "mood")
    assert mood.fired
    assert alerts[-1].started_on < as_of - timedelta(days=28), "the fall began long before"
    quoted = dates_in(mood.evidence)
    assert quoted and quoted[0] >= as_of - timedelta(days=28), mood.evidence


def test_long_absence_is_evidenced_from_inside_the_window() -> None:
    rng = np.random.default_rng(4)
    possible = np.full(200, 2)
    absent = (rng.random((200, 2)) < 0.04).sum(axis=1)
    rising = np.clip(0.05 + 0.009 * np.arange(140), 0, 0.9)  # goes on to the last day
    absent[60:] = (rng.random((140, 2)) < rising[:, None]).sum(axis=1)
    alerts = attendance_alerts(
        AttendanceDays("A", "1", days(200), possible, absent), prior_rate=0.05
    )
    as_of = days(200)[-1]
    attendance = next(i for i in view_of(alerts, as_of).indicators if i.name == "attendance")
    assert attendance.fired
    quoted = dates_in(attendance.evidence)
    assert quoted and quoted[0] >= as_of - timedelta(days=28), attendance.evidence


def test_no_check_ins_is_not_nothing_unusual() -> None:
    as_of = days(200)[-1]
    view = view_of([], as_of, recorded={"mood": [], "engagement": [], "attendance": [as_of]})
    by = {i.name: i for i in view.indicators}
    for name in ("mood", "engagement"):
        assert not by[name].fired
        assert "Nothing unusual" not in by[name].evidence
        assert by[name].evidence.startswith("No check-ins recorded in the 28 days to")
    assert by["attendance"].evidence == "Nothing unusual."
    assert (
        "could not be judged" in view.summary
        and "Mood and engagement could not be judged" in view.summary
    )
