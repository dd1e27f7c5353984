"""Issue 13, item 3: an imported action showed on the timeline only as "Action agreed
(review)": what was agreed, who owns it, when it is due and whether it is overdue were
loaded and never shown."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil import pupil_picture
from empowered.views.timeline import build_timeline


def _imported(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "raised_on": date(2026, 1, 12),
        "source": "review",
        "description": "Ask the speech and language therapist to observe in class.",
        "owner_role": "class_teacher",
        "due_date": date(2026, 2, 27),
        "completed_on": None,
        "status": "open",
        "is_open": True,
    }
    return row | changes


def test_an_imported_action_shows_what_who_when_and_that_it_is_overdue() -> None:
    events = build_timeline(as_of=date(2026, 3, 20), actions=[_imported()])
    [agreed] = [e for e in events if e.kind == "action"]
    assert "Ask the speech and language therapist to observe in class." in agreed.text
    assert "owner: the class teacher" in agreed.text
    assert "due 27 February 2026" in agreed.text
    assert "overdue" in agreed.text


def test_an_action_not_yet_due_or_done_is_not_called_overdue() -> None:
    not_due = build_timeline(as_of=date(2026, 2, 1), actions=[_imported()])
    assert "overdue" not in not_due[0].text and "open" in not_due[0].text
    done = build_timeline(
        as_of=date(2026, 3, 20),
        actions=[_imported(completed_on=date(2026, 3, 2), status="done", is_open=False)],
    )
    texts = [e.text for e in done]
    assert not any("overdue" in t for t in texts)
    assert any(t.startswith("Action done") for t in texts)


def test_the_pupil_page_shows_an_imported_overdue_actions_description(
    built: duckdb.DuckDBPyConnection, cache: SchoolAnalyticsCache
) -> None:
    found = built.execute(
        "select a.pupil_key, a.school_urn, a.description from core.fct_action as a "
        "join marts.school_as_of as s on s.school_urn = a.school_urn "
        "where a.is_open and a.due_date < s.as_of_date and a.raised_on <= s.as_of_date "
        "and a.description is not null order by a.action_key limit 1"
    ).fetchone()
    assert found is not None, "the small trust has open overdue actions"
    pupil, school, description = found
    picture = pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)
    actions = [e.text for e in picture.timeline if e.kind == "action"]
    assert any(description in t and "overdue" in t for t in actions), actions
