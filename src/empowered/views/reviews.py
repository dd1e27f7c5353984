"""The reviews of one pupil's plans, read for the reviews page and the review form.

Reviews held come from core (meetings recorded in the app or imported, and the days an
imported file gave outcomes' progress with no meeting), newest first; an EHC plan's
annual review steps from ``marts.ehc_review_step``. Staff are named by account reference
in the records; the page turns that into a username (``access.users``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.analytics.wording import day_text
from empowered.reviews import PROGRESS_WORDS, STEPS, Outcome, PlanToReview, rating_text
from empowered.views import PupilScope, queries

STEP_WORDS = {**STEPS, "review_meeting": "Annual review meeting held"}
# What the SENCo is asked to do, worded for the home page ("Ask for advice for X's annual
# review by 3 March").
STEP_ASKS = {
    "advice_requested": "Ask for advice for {name}'s annual review by {day}",
    "papers_sent": "Send the advice and papers for {name}'s annual review by {day}",
    "review_meeting": "Hold {name}'s annual review by {day}",
    "report_sent": "Send the report of {name}'s annual review by {day}",
}


def plan_to_review(
    con: duckdb.DuckDBPyConnection, pupil_key: str, *, scope: PupilScope
) -> PlanToReview | None:
    """The pupil's running plan a review is of (an EHC plan first), with its outcomes."""
    found = queries.rows(con, "review_plan", scope=scope, pupil_key=pupil_key)
    if not found:
        return None
    p = found[0]
    outcomes = tuple(
        Outcome(str(o["outcome_id"]), o["area_of_need"], o["outcome_text"])
        for o in queries.rows(con, "review_plan_outcomes", plan_id=p["plan_id"])
    )
    return PlanToReview(
        str(p["plan_id"]),
        str(p["school_urn"]),
        str(p["plan_type"]),
        p["start_date"],
        outcomes,
        p["review_due_on"],
    )


@dataclass(frozen=True)
class Progress:
    outcome: str  # the outcome's words, or its id when an import gave none
    area_of_need: str | None
    progress: str  # in words: "+1 more than expected", "good progress"
    note: str | None


@dataclass(frozen=True)
class ReviewHeld:
    meeting_id: str | None  # None: an imported review with no meeting recorded
    plan_id: str
    plan_kind: str
    held_on: date
    held_by: str | None  # account reference
    attended: str | None
    parents_met: bool | None
    pupil_views: str | None
    parent_views: str | None
    parent_discussion: str | None
    changes: str | None
    next_steps: str | None
    next_review_due: date | None
    progress: tuple[Progress, ...]

    @property
    def title(self) -> str:
        return f"{self.plan_kind} review held on {day_text(self.held_on)}"


def _kind(plan_type: str | None) -> str:
    return "EHC plan" if plan_type == "ehc_plan" else "Support plan"


def reviews_held(
    con: duckdb.DuckDBPyConnection, pupil_key: str, *, scope: PupilScope
) -> tuple[ReviewHeld, ...]:
    """Every review held of the pupil's plans, newest first, each with its progress."""
    progress = queries.rows(con, "reviews_progress", scope=scope, pupil_key=pupil_key)

    def of(meeting_id: str | None, plan_id: str, day: date) -> tuple[Progress, ...]:
        rows = (
            [r for r in progress if r["meeting_id"] == meeting_id]
            if meeting_id
            else [
                r
                for r in progress
                if r["meeting_id"] is None and r["plan_id"] == plan_id and r["review_date"] == day
            ]
        )
        return tuple(
            Progress(
                str(r["outcome_text"] or r["outcome_id"] or "The plan as a whole"),
                r["area_of_need"],
                rating_text(int(r["rating"]))
                if r["rating"] is not None
                else PROGRESS_WORDS.get(str(r["progress"]), "not given"),
                r["note"],
            )
            for r in rows
        )

    return tuple(
        ReviewHeld(
            meeting_id=m["meeting_id"],
            plan_id=str(m["plan_id"]),
            plan_kind=_kind(m["plan_type"]),
            held_on=m["held_on"],
            held_by=m["held_by"],
            attended=m["attended"],
            parents_met=m["parents_met"],
            pupil_views=m["pupil_views"],
            parent_views=m["parent_views"],
            parent_discussion=m["parent_discussion"],
            changes=m["changes"],
            next_steps=m["next_steps"],
            next_review_due=m["next_review_due"],
            progress=of(m["meeting_id"], str(m["plan_id"]), m["held_on"]),
        )
        for m in queries.rows(con, "reviews_held", scope=scope, pupil_key=pupil_key)
    )


@dataclass(frozen=True)
class StepDue:
    plan_id: str
    step: str
    label: str
    due_on: date
    done_on: date | None
    overdue: bool

    @property
    def status(self) -> str:
        if self.done_on is not None:
            return f"done on {day_text(self.done_on)}"
        if self.overdue:
            return f"overdue: due by {day_text(self.due_on)}"
        return f"due by {day_text(self.due_on)}"


def ehc_steps(
    con: duckdb.DuckDBPyConnection, pupil_key: str, *, scope: PupilScope
) -> tuple[StepDue, ...]:
    """The statutory calendar of the pupil's current EHC plan's annual review."""
    return tuple(
        StepDue(
            str(s["plan_id"]),
            str(s["step"]),
            STEP_WORDS[str(s["step"])],
            s["due_on"],
            s["done_on"],
            bool(s["is_overdue"]),
        )
        for s in queries.rows(con, "ehc_review_steps_pupil", scope=scope, pupil_key=pupil_key)
    )


def step_ask(step: str, name: str, due_on: date) -> str:
    """The home page's plain words for a step ("Ask for advice for X's annual review by
    3 March 2027")."""
    return STEP_ASKS[step].format(name=name, day=day_text(due_on))


def latest_first(reviews: Sequence[ReviewHeld]) -> ReviewHeld | None:
    return reviews[0] if reviews else None
