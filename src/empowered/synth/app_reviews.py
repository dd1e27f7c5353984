"""The demo's plan reviews: reviews the SENCo held at the demo's school, landed through the
app's own service (``empowered.reviews``: checked as the form checks, landed as source
``app-review``), so the demo shows reviews with the pupil's and parents' views and plans
no longer overdue.

Most plans running at the school's as-of date that were overdue (all but about one in
five, and at most 14) get a review a few weeks before it; one EHC plan gets its annual
review eleven months before, with the next one set five weeks after the as-of date, so
its advice and papers come due on the SENCo's home page (and the report of the meeting
held is recorded as sent). Wording is varied and plausible; no names (the pupil is
"they", the parents "mum", "dad", "the family").
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import duckdb

from empowered.access.roles import Role
from empowered.reviews import (
    CheckedStep,
    Outcome,
    PlanToReview,
    check_review,
    land_review,
    land_step,
)
from empowered.sources.capture import staff_ref

if TYPE_CHECKING:  # app_sources lists this writer: imported there, not here
    from empowered.synth.app_sources import DemoContext

REVIEWS_AT_MOST = 14

ATTENDED = (
    "Mum, class teacher, SENCo",
    "Dad, class teacher, teaching assistant, SENCo",
    "Both parents, class teacher, SENCo, speech and language therapist",
    "Mum, form tutor, SENCo",
    "Carer, class teacher, SENCo, educational psychologist",
    "Mum and grandmother, class teacher, SENCo",
)
PUPIL_VIEWS = (
    "Says the quiet corner helps when the classroom gets loud.",
    "Likes working with the same adult each morning; finds lining up hard.",
    "Wants to be able to read the football results on their own.",
    "Says maths is getting easier but writing still makes their hand ache.",
    "Enjoys the lunchtime club and has a friend to sit with now.",
    "Finds it hard when plans change without warning; the visual timetable helps.",
    "Would like more time on the computer to finish written work.",
    "Says they feel calmer after the movement break.",
)
PARENT_VIEWS = (
    "Mum says reading at home is less of a battle and they ask for a bedtime story again.",
    "Dad is pleased with the progress in maths and worried about the move to the next class.",
    "The family feel mornings are calmer since the visual timetable came home too.",
    "Mum feels friendships are still a worry and would like this kept in the plan.",
    "Parents say homework causes upset most evenings and asked for it to be shortened.",
    "Mum reports better sleep and fewer complaints about school on Sunday nights.",
    "Dad would like more notice of trips and changes to the day.",
)
DISCUSSIONS = (
    "We went through each outcome together; parents agreed the targets still fit.",
    "Talked about the transition to the next class and agreed two visits in the summer term.",
    "Agreed to share the reading book list so practice at home matches school.",
    "Discussed a referral to the speech and language service; parents consented.",
    "Parents asked about the next steps if progress slows; we agreed to review sooner.",
    "We agreed a weekly message home on how the week has gone.",
)
CHANGES = (
    "Writing frame in English lessons; shorter homework tasks.",
    "Reading intervention moves to three mornings a week.",
    "Movement break added before the first lesson after lunch.",
    "Social skills group replaces the lunchtime club for one term.",
    "No change to the provision: the outcomes stay as they are.",
    "Visual timetable extended to the afternoon sessions.",
)
NEXT_STEPS = (
    "Class teacher to share the writing frame with home by the end of the month.",
    "SENCo to request the speech and language assessment.",
    "Teaching assistant to keep a weekly note of reading progress.",
    "Form tutor to arrange the transition visits.",
    "SENCo to update the plan with the changes agreed.",
)
NOTES = (
    "Steady progress with adult support.",
    "Met in most lessons now; less prompting needed.",
    "Harder since the change of class; more time needed.",
    "Achieved in small groups, not yet in the whole class.",
    "Much better than expected: uses the strategy unprompted.",
    "Little change this term; the approach needs rethinking.",
)
# Ratings lean towards progress, as reviews do; a few show less than expected.
RATING_WEIGHTS = ((-2, 1), (-1, 2), (0, 5), (1, 4), (2, 2))


def _plans(con: duckdb.DuckDBPyConnection, school: str) -> tuple[date | None, list[PlanToReview]]:
    found = con.execute(
        "SELECT as_of_date FROM marts.school_as_of WHERE school_urn = ?", [school]
    ).fetchone()
    as_of: date | None = found[0] if found else None
    if as_of is None:
        return None, []
    rows = con.execute(
        "SELECT p.plan_id, p.plan_type, p.start_date, r.review_overdue "
        "FROM core.fct_plan AS p JOIN marts.register_pupil AS r "
        "ON r.current_plan_id = p.plan_id AND r.school_urn = p.school_urn "
        "WHERE p.school_urn = ? AND p.is_active ORDER BY p.plan_id",
        [school],
    ).fetchall()
    outcomes: dict[str, list[Outcome]] = {}
    for plan_id, outcome_id, area, text in con.execute(
        "SELECT plan_id, outcome_id, area_of_need, outcome_text FROM core.fct_plan_outcome "
        "WHERE school_urn = ? ORDER BY plan_id, outcome_id",
        [school],
    ).fetchall():
        outcomes.setdefault(str(plan_id), []).append(Outcome(str(outcome_id), area, text))
    plans = [
        PlanToReview(str(p), school, str(kind), start, tuple(outcomes.get(str(p), ())))
        for p, kind, start, overdue in rows
        if overdue
    ]
    return as_of, plans


def _form(rng: random.Random, plan: PlanToReview, held_on: date, due: date) -> dict[str, str]:
    ratings, weights = zip(*RATING_WEIGHTS, strict=True)
    form = {
        "held_on": held_on.isoformat(),
        "attended": rng.choice(ATTENDED),
        "parents_met": "yes",
        "pupil_views": rng.choice(PUPIL_VIEWS),
        "parent_views": rng.choice(PARENT_VIEWS),
        "parent_discussion": rng.choice(DISCUSSIONS),
        "changes": rng.choice(CHANGES),
        "next_steps": rng.choice(NEXT_STEPS),
        "next_review_due": due.isoformat(),
    }
    for o in plan.outcomes:
        form[f"rating_{o.outcome_id}"] = str(rng.choices(ratings, weights)[0])
        form[f"note_{o.outcome_id}"] = rng.choice(NOTES)
    return form


def write_reviews(con: duckdb.DuckDBPyConnection, context: DemoContext) -> int:
    """Land the demo's reviews (no build); how many records were landed."""
    senco = context.staff.get(Role.SENCO)
    if senco is None:
        return 0
    as_of, plans = _plans(con, context.school_urn)
    if as_of is None or not plans:
        return 0
    rng = random.Random(context.seed * 31 + 13)
    held_by = staff_ref(senco.user_id)
    ehc = next((p for p in plans if p.is_ehc), None)
    chosen = [p for p in plans if p is not ehc]
    rng.shuffle(chosen)
    # About one in five the SENCo has not got to yet: home still has reviews overdue.
    chosen = chosen[: min(REVIEWS_AT_MOST - 1, len(chosen) - len(chosen) // 5)]
    landed = 0
    for n, plan in enumerate([*([ehc] if ehc else []), *chosen]):
        if plan.is_ehc:
            # Eleven months ago, the next one five weeks after the as-of date: the advice
            # and papers fall due three weeks after it, so they show on the home page now.
            held_on = max(plan.start_date, as_of - timedelta(days=335))
            due = as_of + timedelta(days=35)
        else:
            held_on = max(plan.start_date, as_of - timedelta(days=rng.randint(5, 45)))
            due = held_on + timedelta(weeks=rng.choice((12, 13, 14)))
        checked = check_review(plan, _form(rng, plan, held_on, due), today=context.today)
        if not checked.ok:
            continue
        now = datetime.combine(held_on, time(15, 30)) + timedelta(minutes=n)
        review = land_review(con, plan, checked, held_by=held_by, keys=context.keys, now=now)
        if review is None:
            continue
        landed += 1 + review.outcomes
        if plan.is_ehc:
            # The report of that meeting went out ten days after it.
            step = CheckedStep("report_sent", held_on + timedelta(days=10))
            land_step(con, plan, step, recorded_by=held_by, keys=context.keys, now=now)
            landed += 1
    return landed
