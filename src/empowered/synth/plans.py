"""Support plans and EHC plans, their outcomes and reviews, and agreed actions.

EHC plans are reviewed once a year, near the anniversary of the plan; SEN support plans
are reviewed each term (assess, plan, do, review). About one review in eight does not
happen, which leaves the plan's next review overdue in the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from empowered.synth.codes import BROAD_AREA_OF
from empowered.synth.patterns import PatternPlan
from empowered.synth.people import Pupil
from empowered.synth.rng import substream
from empowered.synth.schools import School

Columns = dict[str, list[Any]]
MISSED_REVIEW = 0.12
AREAS = (
    "Communication and interaction",
    "Cognition and learning",
    "Social, emotional and mental health",
    "Sensory and/or physical",
)
OUTCOME_TEXT = {
    "Communication and interaction": (
        "Will use a visual timetable to move between activities with one adult prompt.",
        "Will ask an adult for help using words, signs or symbols.",
        "Will take turns in a small-group game for five minutes.",
        "Will follow a two-part spoken instruction in class.",
    ),
    "Cognition and learning": (
        "Will read and spell the next set of common exception words.",
        "Will recall number bonds to 20 with growing fluency.",
        "Will plan a short piece of writing using a writing frame.",
        "Will complete a short independent task with a checklist.",
    ),
    "Social, emotional and mental health": (
        "Will name their feelings using the class feelings chart.",
        "Will use a chosen calming strategy when becoming upset.",
        "Will return to learning within ten minutes after a difficult moment.",
        "Will join a structured lunchtime club twice a week.",
    ),
    "Sensory and/or physical": (
        "Will use the agreed seating and equipment in every lesson.",
        "Will form letters correctly using the sloped board.",
        "Will take part in daily sensory circuits and settle afterwards.",
        "Will move around school safely with the agreed support.",
    ),
}
REVIEW_NOTES = (
    "Progress discussed with the family.",
    "Targets adjusted for next term.",
    "Strategies working well; continue.",
    "More time needed on this outcome.",
    "Family and pupil views recorded.",
    "",
)
ACTION_TEXT = {
    "review": (
        "Share the updated targets with all staff who teach the pupil.",
        "Update the one-page profile with the family.",
        "Arrange a speech and language therapy assessment.",
        "Set up a home-school communication book.",
        "Review seating and sensory needs in class.",
    ),
    "trigger": (
        "Meet the family to agree attendance support.",
        "Review the behaviour support plan after recent incidents.",
    ),
    "meeting": (
        "Follow up actions from the multi-agency meeting.",
        "Request advice from the educational psychologist.",
    ),
}
PROGRESS = ("not_started", "some", "good", "achieved")


@dataclass
class PlanTables:
    plans: Columns = field(default_factory=dict)
    outcomes: Columns = field(default_factory=dict)
    reviews: Columns = field(default_factory=dict)
    actions: Columns = field(default_factory=dict)


def _weekday_before(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _new_tables() -> PlanTables:
    def cols(names: str) -> Columns:
        return {k: [] for k in names.split()}

    return PlanTables(
        plans=cols("plan_id school_urn upn plan_type start_date end_date next_review_due"),
        outcomes=cols("outcome_id plan_id area_of_need outcome_text target_date"),
        reviews=cols("review_id plan_id outcome_id review_date progress note"),
        actions=cols(
            "action_id school_urn upn raised_on source description owner_role due_date completed_on"
        ),
    )


def plans_and_actions(
    seed: int,
    school: School,
    pupils: list[Pupil],
    plan: PatternPlan,
    incident_days: dict[str, list[date]],
    next_ids: dict[str, int],
    through: date | None = None,
) -> PlanTables:
    """Plans, their outcomes and reviews, and actions. A trust cut off at ``through``
    (synth.through) gives the plans running on that day the next review due after it, or
    the first one missed before it."""
    rng = substream(seed, "plans", school.index)
    cal = school.calendar
    out = _new_tables()
    window_start = cal.half_terms[0].start
    window_end = cal.half_terms[-1].end
    cut = min(through, window_end) if through is not None else window_end
    termly = [
        _weekday_before(ht.end - timedelta(days=14))
        for ht in cal.half_terms
        if ht.half_term in (2, 4, 6)
    ]
    roles = ["senco", "teacher", "teaching_assistant", "pastoral"]
    if school.is_special:
        roles.append("therapist")

    def next_id(entity: str, prefix: str, width: int) -> str:
        n = next_ids[entity]
        next_ids[entity] += 1
        return f"{prefix}{n:0{width}d}"

    def action(p: Pupil, raised: date, source: str, text: str = "", owner: str = "") -> None:
        texts = ACTION_TEXT[source]
        due = raised + timedelta(days=int(rng.integers(14, 43)))
        done = ""
        if rng.random() < 0.75:
            finished = raised + timedelta(days=int(rng.integers(3, (due - raised).days + 15)))
            if finished <= window_end:
                done = finished.isoformat()
        row: tuple[str, ...] = (
            next_id("actions", "AC", 6),
            school.urn,
            p.upn,
            raised.isoformat(),
            source,
            text or texts[int(rng.integers(len(texts)))],
            owner or roles[int(rng.integers(len(roles)))],
            due.isoformat(),
            done,
        )
        for key, value in zip(out.actions, row, strict=True):
            out.actions[key].append(value)

    for p in pupils:
        end_of_roll = p.leaving or window_end
        for k, spell in enumerate(p.sen):
            if spell.provision not in ("E", "K"):
                continue
            spell_end = p.sen[k + 1].start if k + 1 < len(p.sen) else None
            stop = min(spell_end or end_of_roll, end_of_roll)
            if stop < window_start:
                continue
            ehcp = spell.provision == "E"
            if ehcp:
                due_dates = []
                anniversary = spell.start
                while anniversary <= stop:
                    anniversary = _add_year(anniversary)
                    if window_start <= anniversary <= stop:
                        due_dates.append(anniversary)
                review_dates = [
                    _weekday_before(d - timedelta(days=int(rng.integers(0, 29)))) for d in due_dates
                ]
            else:
                due_dates = [
                    d
                    for d in termly
                    if max(spell.start + timedelta(days=30), window_start) <= d <= stop
                ]
                review_dates = list(due_dates)
            held = [rng.random() >= MISSED_REVIEW for _ in due_dates]
            next_due = ""
            # Running on the last day the files speak for (ends after it are not known yet).
            running = (spell_end is None or spell_end > cut) and (
                p.leaving is None or p.leaving > cut
            )
            if running:
                next_due = _next_review(spell.start, due_dates, review_dates, held, cut, ehcp)
                if not next_due:
                    next_due = (window_end + timedelta(days=70)).isoformat()
            plan_id = next_id("plans", "PL", 6)
            end_date = "" if spell_end is None and p.leaving is None else stop.isoformat()
            plan_type = "ehc_plan" if ehcp else "sen_support_plan"
            row: tuple[str, ...] = (
                plan_id,
                school.urn,
                p.upn,
                plan_type,
                spell.start.isoformat(),
                end_date,
                next_due,
            )
            for key, value in zip(out.plans, row, strict=True):
                out.plans[key].append(value)
            first_area = BROAD_AREA_OF.get(spell.primary, AREAS[1])
            n_outcomes = int(rng.integers(3, 5) if ehcp else rng.integers(2, 4))
            others = [a for a in AREAS if a != first_area]
            areas = [first_area] + [
                others[int(i)] for i in rng.choice(len(others), size=n_outcomes - 1, replace=False)
            ]
            target = due_dates[-1] if due_dates else _add_year(spell.start)
            outcome_ids: list[str] = []
            for area in areas:
                oid = next_id("plan_outcomes", "PO", 7)
                outcome_ids.append(oid)
                texts = OUTCOME_TEXT[area]
                row = (oid, plan_id, area, texts[int(rng.integers(len(texts)))], target.isoformat())
                for key, value in zip(out.outcomes, row, strict=True):
                    out.outcomes[key].append(value)
            level = np.zeros(len(outcome_ids), dtype=np.int64)
            for when, ok in zip(review_dates, held, strict=True):
                if not ok:
                    continue
                level = np.clip(level + rng.integers(0, 2, len(level)), 0, 3)
                for oid, lv in zip(outcome_ids, level.tolist(), strict=True):
                    row = (
                        next_id("plan_reviews", "PR", 7),
                        plan_id,
                        oid,
                        when.isoformat(),
                        PROGRESS[lv],
                        REVIEW_NOTES[int(rng.integers(len(REVIEW_NOTES)))],
                    )
                    for key, value in zip(out.reviews, row, strict=True):
                        out.reviews[key].append(value)
                if rng.random() < 0.4:
                    action(p, when, "review")
        if p.sen[-1].provision in ("E", "K") and rng.random() < 0.05:
            action(p, window_start + timedelta(days=int(rng.integers(20, 250))), "meeting")
        days = incident_days.get(p.upn, [])
        if len(days) >= 15:
            action(p, days[14], "trigger", ACTION_TEXT["trigger"][1], "senco")
        rec = plan.attendance_decline.get(p.index)
        if rec is not None:
            # Three weeks into a planted decline someone notices and acts.
            raised = date.fromisoformat(rec.fields["start_date"]) + timedelta(days=21)
            action(p, raised, "trigger", ACTION_TEXT["trigger"][0], "pastoral")
    return out


def _next_review(
    start: date,
    due_dates: list[date],
    review_dates: list[date],
    held: list[bool],
    cut: date,
    ehcp: bool,
) -> str:
    """The first review missed by ``cut``, else the next one due after it ("" when a
    support plan has none due in the years generated)."""
    missed = [d for d, h in zip(due_dates, held, strict=True) if not h and d <= cut]
    if missed:
        return missed[0].isoformat()
    upcoming = [
        d
        for d, r, h in zip(due_dates, review_dates, held, strict=True)
        if d > cut and not (h and r <= cut)
    ]
    if upcoming:
        return upcoming[0].isoformat()
    if not ehcp:
        return ""
    last = due_dates[-1] if due_dates else start
    while last <= cut:
        last = _add_year(last)
    return last.isoformat()


def _add_year(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)
