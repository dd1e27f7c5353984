"""Holding a plan review in the app: the meeting and each outcome's progress, landed in raw.

A review (SEN Code of Practice 6.72-6.77; for an EHC plan the annual review, 9.166-9.176)
is ONE ``review_meetings`` record (the pupil's and parents' views, the discussion held with
the parents, who attended, what changes, the next steps, the next review date, held on
and by whom) and one ``plan_reviews`` record per outcome of the plan (a rating on the
closed -2..+2 scale Provision Map users know, and a sentence), landed together in ONE
transaction (``landing.land_app_records``) as source ``app-review``. Staging, core and the
marts take it from there: the plan's next review falls due from the latest review held
(``core.fct_plan.review_due_on``), so a plan reviewed here is no longer "overdue".

For an EHC plan, each step of the statutory calendar done (advice requested, papers
circulated, the review report sent: SEND Regulations 2014, reg 20) is ONE
``ehc_review_steps`` record, source ``app-ehc-review-step``.

The checks are the ones staging applies (their rule numbers are in the comments), so the
form says "Saved" only for a review that will be accepted. Landing and building are
separate (:func:`land_review`, then :func:`build_after`): the form calls both, the demo's
writer (``synth.app_reviews``) lands only and the demo builds once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES, ENTITIES
from empowered.sources.landing import land_app_records
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "app-review"
STEP_SOURCE = "app-ehc-review-step"
MEETINGS = APP_ENTITIES["review_meetings"]
STEPS_ENTITY = APP_ENTITIES["ehc_review_steps"]
PROGRESS = ENTITIES["plan_reviews"]

TEXT_MAX = 2000  # a view or a discussion: a few paragraphs
NOTE_MAX = 500  # the sentence beside each outcome's rating

# The closed scale, as Provision Map users know it: the number is kept, the words shown.
RATINGS: tuple[tuple[int, str], ...] = (
    (-2, "much less than expected"),
    (-1, "less than expected"),
    (0, "as expected"),
    (1, "more than expected"),
    (2, "much more than expected"),
)
RATING_WORDS: dict[int, str] = dict(RATINGS)
# Imported reviews give progress in words of their own.
PROGRESS_WORDS = {
    "not_started": "not started",
    "some": "some progress",
    "good": "good progress",
    "achieved": "achieved",
}

# The steps of an EHC plan's annual review a SENCo records as done (the meeting itself is
# a review held), in the order they fall.
STEPS: dict[str, str] = {
    "advice_requested": "Advice requested",
    "papers_sent": "Advice and papers circulated",
    "report_sent": "Review report sent",
}


def rating_text(rating: int) -> str:
    sign = "+" if rating > 0 else ""
    return f"{sign}{rating} {RATING_WORDS[rating]}"


@dataclass(frozen=True)
class Outcome:
    outcome_id: str
    area_of_need: str | None
    text: str | None


@dataclass(frozen=True)
class PlanToReview:
    """The plan a review is of, as core holds it (imported or written in the app)."""

    plan_id: str
    school_urn: str
    plan_type: str
    start_date: date
    outcomes: tuple[Outcome, ...]
    # When its next review falls due, from the latest review held (core.fct_plan).
    review_due_on: date | None = None

    @property
    def is_ehc(self) -> bool:
        return self.plan_type == "ehc_plan"


@dataclass
class CheckedReview:
    """A review form after checking: the meeting's values, each outcome's rating and
    sentence, and a message per bad field (by the field's name)."""

    meeting: dict[str, str | None] = field(default_factory=dict)
    progress: list[tuple[str, int, str | None]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _text(
    form: Mapping[str, str], name: str, checked: CheckedReview, *, limit: int, what: str
) -> str | None:
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        checked.errors[name] = f"{what} is {len(value)} characters: keep it to {limit}."
    return value or None


def _date(form: Mapping[str, str], name: str, checked: CheckedReview) -> date | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        checked.errors[name] = "Enter the date as a date, for example 2026-11-23."
        return None


def check_review(plan: PlanToReview, form: Mapping[str, str], *, today: date) -> CheckedReview:
    """Check a posted review form against the rules staging applies to it."""
    checked = CheckedReview()
    held_on = _date(form, "held_on", checked)
    if held_on is None and "held_on" not in checked.errors:  # staging rule 10
        checked.errors["held_on"] = "Enter the day the review was held."
    elif held_on is not None and held_on > today:  # staging rule 11
        checked.errors["held_on"] = "The day is in the future: a review is recorded once held."
    elif held_on is not None and held_on < plan.start_date:
        checked.errors["held_on"] = (
            f"The plan started on {long_date(plan.start_date)}: a review of it is held "
            "on that day or later."
        )
    due = _date(form, "next_review_due", checked)
    if due is not None and held_on is not None and due <= held_on:  # staging rule 13
        checked.errors["next_review_due"] = "The next review must be after this one."
    attended = _text(form, "attended", checked, limit=NOTE_MAX, what="Who attended")
    if not attended and "attended" not in checked.errors:
        checked.errors["attended"] = "Say who attended (roles, not names, are enough)."
    met = (form.get("parents_met") or "").strip()
    if met not in ("yes", "no"):
        checked.errors["parents_met"] = "Say whether the parents were met."
    values = {
        "pupil_views": _text(
            form, "pupil_views", checked, limit=TEXT_MAX, what="The pupil's views"
        ),
        "parent_views": _text(
            form, "parent_views", checked, limit=TEXT_MAX, what="The parents' views"
        ),
        "parent_discussion": _text(
            form, "parent_discussion", checked, limit=TEXT_MAX, what="The discussion"
        ),
        "changes": _text(form, "changes", checked, limit=TEXT_MAX, what="What changes"),
        "next_steps": _text(form, "next_steps", checked, limit=TEXT_MAX, what="The next steps"),
    }
    # Code of Practice 6.73: the parents' views are sought and the discussion recorded.
    if (
        met == "yes"
        and not values["parent_discussion"]
        and "parent_discussion" not in (checked.errors)
    ):
        checked.errors["parent_discussion"] = (
            "Say what was discussed with the parents (Code of Practice 6.73)."
        )
    for outcome in plan.outcomes:
        name = f"rating_{outcome.outcome_id}"
        raw = (form.get(name) or "").strip()
        try:
            rating = int(raw)
        except ValueError:
            rating = None
        if rating not in RATING_WORDS:  # staging rules 12 and 13
            checked.errors[name] = "Choose how much progress was made towards this outcome."
            continue
        note = _text(
            form, f"note_{outcome.outcome_id}", checked, limit=NOTE_MAX, what="The sentence"
        )
        checked.progress.append((outcome.outcome_id, rating, note))
    checked.meeting = {
        "held_on": held_on.isoformat() if held_on else None,
        "attended": attended,
        "parents_met": "Y" if met == "yes" else "N",
        "next_review_due": due.isoformat() if due else None,
        **values,
    }
    return checked


@dataclass(frozen=True)
class LandedReview:
    meeting_id: str
    batch_id: int  # the meeting's batch
    outcomes: int
    touched: frozenset[str]


def _already(con: duckdb.DuckDBPyConnection, source: str, seed: str, entity_name: str) -> bool:
    file_hash = hashlib.sha256(f"{seed}|{entity_name}".encode()).hexdigest()
    found = con.execute(
        "SELECT 1 FROM meta.batches WHERE source = ? AND file_hash = ?", [source, file_hash]
    ).fetchone()
    return found is not None


def land_review(
    con: duckdb.DuckDBPyConnection,
    plan: PlanToReview,
    checked: CheckedReview,
    *,
    held_by: str,
    keys: Keys,
    now: datetime,
    form_key: str | None = None,
) -> LandedReview | None:
    """Land the meeting and each outcome's progress in ONE transaction (no build). None
    when this person's form with this key landed already (a retried post)."""
    if not checked.ok:
        raise ValueError("a review with errors is never landed")
    seed = (
        f"{SOURCE}|{held_by}|key:{form_key}"
        if form_key
        else f"{SOURCE}|{plan.plan_id}|{held_by}|{now.isoformat()}|{secrets.token_hex(4)}"
    )
    if form_key and _already(con, SOURCE, seed, MEETINGS.name):
        return None
    meeting_id = f"RM-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    held_on = checked.meeting["held_on"]
    meeting = {
        **checked.meeting,
        "meeting_id": meeting_id,
        "school_urn": plan.school_urn,
        "plan_id": plan.plan_id,
        "held_by": held_by,
        "recorded_at": now.isoformat(timespec="seconds"),
    }
    progress = [
        {
            "review_id": f"{meeting_id}-{n}",
            "plan_id": plan.plan_id,
            "outcome_id": outcome_id,
            "review_date": held_on,
            "rating": str(rating),
            "note": note,
            "meeting_id": meeting_id,
        }
        for n, (outcome_id, rating, note) in enumerate(checked.progress, start=1)
    ]
    batch_ids = land_app_records(
        con,
        [(MEETINGS, [meeting]), (PROGRESS, progress)],
        source=SOURCE,
        file_name="review held in the app",
        seed=seed,
        keys=keys,
    )
    touched = {MEETINGS.raw_table} | ({PROGRESS.raw_table} if progress else set())
    return LandedReview(meeting_id, batch_ids[0], len(progress), frozenset(touched))


def build_after(
    con: duckdb.DuckDBPyConnection, touched: Sequence[str] | frozenset[str]
) -> BuildResult:
    """The incremental build of what a review or a step touched."""
    return build_duckdb(con, touched=set(touched))


@dataclass
class CheckedStep:
    step: str | None = None
    done_on: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_step(plan: PlanToReview, form: Mapping[str, str], *, today: date) -> CheckedStep:
    """Check a posted step of an EHC plan's annual review (staging's rules 1, 10-12)."""
    checked = CheckedStep()
    if not plan.is_ehc:
        checked.errors["step"] = "Only an EHC plan has annual review steps to record."
        return checked
    step = (form.get("step") or "").strip()
    if step not in STEPS:
        checked.errors["step"] = "Choose which step was done."
    else:
        checked.step = step
    text = (form.get("done_on") or "").strip()
    try:
        done_on = date.fromisoformat(text) if text else None
    except ValueError:
        done_on = None
        checked.errors["done_on"] = "Enter the date as a date, for example 2026-11-23."
    if done_on is None and "done_on" not in checked.errors:
        checked.errors["done_on"] = "Enter the day it was done."
    elif done_on is not None and done_on > today:
        checked.errors["done_on"] = "The day is in the future: record a step once it is done."
    checked.done_on = done_on
    return checked


@dataclass(frozen=True)
class LandedStep:
    step_id: str
    batch_id: int
    touched: frozenset[str]


def land_step(
    con: duckdb.DuckDBPyConnection,
    plan: PlanToReview,
    checked: CheckedStep,
    *,
    recorded_by: str,
    keys: Keys,
    now: datetime,
) -> LandedStep:
    """Land one step of an EHC plan's annual review as done, as a batch of its own."""
    if not checked.ok or checked.step is None or checked.done_on is None:
        raise ValueError("a step with errors is never landed")
    step_id = f"ES-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    values = {
        "step_id": step_id,
        "school_urn": plan.school_urn,
        "plan_id": plan.plan_id,
        "step": checked.step,
        "done_on": checked.done_on.isoformat(),
        "recorded_by": recorded_by,
        "recorded_at": now.isoformat(timespec="seconds"),
    }
    (batch_id,) = land_app_records(
        con,
        [(STEPS_ENTITY, [values])],
        source=STEP_SOURCE,
        file_name="EHC annual review step recorded in the app",
        seed=f"{STEP_SOURCE}|{step_id}",
        keys=keys,
    )
    return LandedStep(step_id, batch_id, frozenset({STEPS_ENTITY.raw_table}))
