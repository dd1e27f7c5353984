"""The review service's checks: the rules staging applies, said beside each field."""

from __future__ import annotations

from datetime import date

import pytest

from empowered.reviews import (
    RATINGS,
    TEXT_MAX,
    Outcome,
    PlanToReview,
    check_review,
    check_step,
    rating_text,
)

TODAY = date(2026, 3, 10)
PLAN = PlanToReview(
    "PL1",
    "100001",
    "sen_support_plan",
    date(2025, 9, 1),
    (Outcome("PO1", "communication", "Asks for help"), Outcome("PO2", None, None)),
)
EHC = PlanToReview("PL2", "100001", "ehc_plan", date(2024, 9, 1), ())


def _form(**changes: str) -> dict[str, str]:
    form = {
        "held_on": "2026-03-09",
        "attended": "Mum, class teacher, SENCo",
        "parents_met": "yes",
        "parent_views": "Pleased with reading.",
        "parent_discussion": "Agreed a writing frame.",
        "rating_PO1": "1",
        "rating_PO2": "-2",
        "next_review_due": "2026-06-30",
    }
    form.update(changes)
    return form


def test_a_complete_review_keeps_the_numbers_and_the_meeting() -> None:
    checked = check_review(PLAN, _form(), today=TODAY)
    assert checked.ok
    assert checked.progress == [("PO1", 1, None), ("PO2", -2, None)]
    assert checked.meeting["parents_met"] == "Y"
    assert checked.meeting["next_review_due"] == "2026-06-30"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"rating_PO1": ""}, "rating_PO1", "Choose how much progress"),
        ({"rating_PO2": "3"}, "rating_PO2", "Choose how much progress"),
        ({"rating_PO2": "x"}, "rating_PO2", "Choose how much progress"),
        ({"held_on": ""}, "held_on", "Enter the day"),
        ({"held_on": "2026-03-11"}, "held_on", "in the future"),
        ({"held_on": "2025-08-31"}, "held_on", "The plan started on 1 September 2025"),
        ({"held_on": "9/3/26"}, "held_on", "Enter the date as a date"),
        ({"next_review_due": "2026-03-09"}, "next_review_due", "after this one"),
        ({"attended": " "}, "attended", "Say who attended"),
        ({"parents_met": ""}, "parents_met", "Say whether the parents were met"),
        ({"parent_discussion": ""}, "parent_discussion", "Code of Practice 6.73"),
        ({"pupil_views": "x" * (TEXT_MAX + 1)}, "pupil_views", f"keep it to {TEXT_MAX}"),
    ],
)
def test_each_mistake_is_said_beside_its_field(
    changes: dict[str, str], field: str, says: str
) -> None:
    checked = check_review(PLAN, _form(**changes), today=TODAY)
    assert not checked.ok
    assert says in checked.errors[field]


def test_parents_not_met_need_no_discussion_and_the_scale_reads_in_words() -> None:
    assert check_review(PLAN, _form(parents_met="no", parent_discussion=""), today=TODAY).ok
    assert [rating_text(r) for r, _ in RATINGS] == [
        "-2 much less than expected",
        "-1 less than expected",
        "0 as expected",
        "+1 more than expected",
        "+2 much more than expected",
    ]


def test_only_an_ehc_plan_has_annual_review_steps() -> None:
    assert check_step(EHC, {"step": "papers_sent", "done_on": "2026-03-01"}, today=TODAY).ok
    assert (
        "Only an EHC plan" in check_step(PLAN, {"step": "papers_sent"}, today=TODAY).errors["step"]
    )
    future = check_step(EHC, {"step": "report_sent", "done_on": "2026-04-01"}, today=TODAY)
    assert "in the future" in future.errors["done_on"]
    assert (
        "Choose which step"
        in check_step(EHC, {"step": "x", "done_on": ""}, today=TODAY).errors["step"]
    )
