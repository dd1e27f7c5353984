"""What the parent report says, in plain words, from what the view services gave.

Nothing here reads the warehouse: :mod:`empowered.documents.parent_report` asks the view
services with the document's scope (the redaction rules in ``access.documents``) and hands
their answers here, so this module can only word what a parent may see. Sentences are kept
short (the suite checks the reading age) and dates are written out in full.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from empowered.charts import Chart, bar_chart, line_chart
from empowered.documents.registry import child_line
from empowered.views.plan import PlanPage
from empowered.views.pupil import Enrolment, PupilPicture
from empowered.views.reviews import Progress, ReviewHeld

MOOD_WEEKS = 12  # the mood chart's span: a term or so, short enough for its table
RECENT_SUPPORT_DAYS = 365  # support that ended within a year is still worth telling

# A review's progress in a parent's words: rated reviews give "+1 more than expected"
# (reviews.rating_text), imported ones "some progress" (reviews.PROGRESS_WORDS).
_RATED = {
    "much more than expected": "Much better than we expected",
    "more than expected": "Better than we expected",
    "as expected": "As we expected",
    "less than expected": "Slower than we expected",
    "much less than expected": "Much slower than we expected",
}
_WORDED = {
    "not started": "Not started yet",
    "some progress": "Some progress",
    "good progress": "Good progress",
    "achieved": "Achieved",
    "not given": "Not given at the review",
}


def progress_words(progress: str) -> str:
    """'+1 more than expected' -> 'Better than we expected'."""
    words = re.sub(r"^[+-]?\d+\s+", "", progress.strip())
    return _RATED.get(words) or _WORDED.get(words) or words[:1].upper() + words[1:]


@dataclass(frozen=True)
class OutcomeNow:
    text: str
    area: str | None
    target_date: date | None
    going: str  # how it is going, in words
    reviewed_on: date | None
    note: str | None  # what the review said about it


@dataclass(frozen=True)
class PlannedSupport:
    what: str
    how_often: str
    who: str


@dataclass(frozen=True)
class Session:
    what: str
    started: date
    ended: date | None
    running: bool
    sessions: str  # "12 of 20 planned" / "20 planned (not counted yet)"


@dataclass(frozen=True)
class ParentReport:
    first_name: str
    name: str
    about: str  # "Sam Smith, Year 4"
    strengths: str | None
    important: str | None
    how_to_support: str | None
    has_plan: bool
    plan_since: date | None
    outcomes: tuple[OutcomeNow, ...]
    planned_support: tuple[PlannedSupport, ...]
    sessions: tuple[Session, ...]
    helps: tuple[str, ...]  # strategies that seem to help, by name
    attendance_line: str | None
    charts: tuple[tuple[str, str, Chart], ...]  # (heading, what it shows, chart)
    last_review: ReviewHeld | None
    next_review_due: date | None
    contact: str | None


def _first_name(name: str) -> str:
    return name.split()[0] if name.strip() else "your child"


def _outcomes(plan: PlanPage, reviews: Sequence[ReviewHeld]) -> tuple[OutcomeNow, ...]:
    """Each outcome of the current plan with the latest review's words about it."""
    if plan.current is None:
        return ()
    latest: dict[str, tuple[ReviewHeld, Progress]] = {}
    for review in reversed(reviews):  # oldest first, so the newest wins
        if review.plan_id == plan.current.plan_id:
            for p in review.progress:
                latest[p.outcome] = (review, p)
    out = []
    for o in plan.current.outcomes:
        found = latest.get(o.text or o.outcome_id)
        out.append(
            OutcomeNow(
                text=o.text or "An outcome without words yet",
                area=o.area_of_need,
                target_date=o.target_date,
                going=progress_words(found[1].progress) if found else "Not reviewed yet",
                reviewed_on=found[0].held_on if found else None,
                note=found[1].note if found else None,
            )
        )
    return tuple(out)


def _planned_support(plan: PlanPage) -> tuple[PlannedSupport, ...]:
    """The provision the plan names for each outcome: what, how often, who."""
    if plan.current is None:
        return ()
    found: dict[tuple[str, str, str], PlannedSupport] = {}
    for o in plan.current.outcomes:
        if o.provision:  # the same help for two outcomes is one line
            help_ = PlannedSupport(
                o.provision, o.how_often or "Not set yet", o.who or "Not set yet"
            )
            found.setdefault((help_.what, help_.how_often, help_.who), help_)
    return tuple(found.values())


def _sessions_text(e: Enrolment) -> str:
    if not e.sessions_planned:
        return f"{e.sessions_delivered} so far" if e.sessions_delivered else "Not counted"
    if e.delivery_rate is None and not e.sessions_delivered:
        return f"{e.sessions_planned} planned (sessions not recorded)"
    return f"{e.sessions_delivered or 0} of {e.sessions_planned} planned"


def _sessions(picture: PupilPicture) -> tuple[Session, ...]:
    """Groups running now, and those that ended in the last year."""
    kept = [
        e
        for e in picture.provision.enrolments
        if e.is_current
        or e.end_date is None
        or (picture.as_of - e.end_date).days <= RECENT_SUPPORT_DAYS
    ]
    kept.sort(key=lambda e: (not e.is_current, -e.start_date.toordinal()))
    return tuple(
        Session(e.intervention_name, e.start_date, e.end_date, e.is_current, _sessions_text(e))
        for e in kept
    )


def _attendance_line(picture: PupilPicture, first: str) -> str | None:
    """This school year's attendance (the newest year the view gives)."""
    years = [y for y in picture.attendance.years if y.get("possible")]
    if not years:
        return None
    year = max(years, key=lambda y: str(y["academic_year"]))
    rate = round(100 * float(year["attendance_rate"]))
    return (
        f"In the school year {year['academic_year']}, {first} came to {rate}% of school sessions "
        f"({year['present']} of {year['possible']})."
    )


def _term_label(row: dict[str, object]) -> str:
    return f"{str(row['term']).capitalize()} {row['academic_year']}"


def _charts(picture: PupilPicture, first: str) -> tuple[tuple[str, str, Chart], ...]:
    charts: list[tuple[str, str, Chart]] = []
    terms = [t for t in picture.attendance.terms if t.get("possible")]
    if terms:
        bars = [(_term_label(t), round(100 * float(t["attendance_rate"]), 1)) for t in terms]
        charts.append(
            (
                "Attendance each term",
                f"How much of each term {first} came to school.",
                replace(
                    bar_chart("Attendance each term", bars, value_label="% of sessions"),
                    table_columns=("term", "% of sessions"),
                ),
            )
        )
    if picture.assessments.results:
        chart = _tests_chart(picture)
        what = f"{first}'s results in the school's own tests."
        if "standardised score" in chart.table_columns or "standardised score" in chart.description:
            what += " On these tests, 100 is about average for a child of the same age."
        charts.append(("Tests in class", what, chart))
    mood = picture.wellbeing.mood[-MOOD_WEEKS:]
    if any(v is not None for _, v in mood):
        charts.append(
            (
                "Mood in recent weeks",
                f"How {first} felt at check-ins. 1 is low and 5 is very happy.",
                line_chart(
                    f"Mood over the last {len(mood)} weeks",
                    {"mood": mood},
                    y_label="average for the week, 1 to 5",
                    y_range=(1.0, 5.0),
                ),
            )
        )
    return tuple(charts)


def _tests_chart(picture: PupilPicture) -> Chart:
    """The results in the most used measure: a line per subject over the days of the tests,
    or bars of each subject when there is only one day so far."""
    results = picture.assessments.results
    measure = Counter(str(r["measure"]) for r in results).most_common(1)[0][0]
    label = measure.replace("_", " ")
    series: dict[str, list[tuple[date, float | None]]] = {}
    for r in sorted(results, key=lambda r: r["assessed_on"]):
        if str(r["measure"]) == measure and r["value"] is not None:
            series.setdefault(str(r["subject"]), []).append((r["assessed_on"], float(r["value"])))
    if all(len(points) < 2 for points in series.values()):
        bars = [(subject, points[-1][1] or 0.0) for subject, points in series.items()]
        chart = bar_chart("Test results", bars, value_label=label)
        return replace(chart, table_columns=("subject", label))
    return line_chart("Test results", series, y_label=label, x_label="day of the test")


def _helps(picture: PupilPicture) -> tuple[str, ...]:
    """Strategies staff use that the check-ins say help this child more than others."""
    return tuple(e.strategy_name for e in picture.what_helps.effects if e.stands_out)


def _text(plan: PlanPage, field: str) -> str | None:
    if plan.current is None:
        return None
    return next((t for name, _, t in plan.current.texts if name == field and t), None)


def parent_report(
    picture: PupilPicture,
    plan: PlanPage,
    reviews: Sequence[ReviewHeld],
    *,
    contact: str | None,
) -> ParentReport:
    name = picture.identity.name if picture.identity else "Your child"
    first = _first_name(name) if picture.identity else "your child"
    last = reviews[0] if reviews else None
    plan_due = next((p.next_review_due for p in picture.plans.plans if p.is_current), None)
    next_due = plan_due or (last.next_review_due if last else None)
    return ParentReport(
        first_name=first,
        name=name,
        about=child_line(picture, "Your child"),
        strengths=_text(plan, "strengths"),
        important=_text(plan, "important_to_me"),
        how_to_support=_text(plan, "how_to_support"),
        has_plan=plan.current is not None,
        plan_since=plan.current.start_date if plan.current else None,
        outcomes=_outcomes(plan, reviews),
        planned_support=_planned_support(plan),
        sessions=_sessions(picture),
        helps=_helps(picture),
        attendance_line=_attendance_line(picture, first),
        charts=_charts(picture, first),
        last_review=last,
        next_review_due=next_due,
        contact=contact,
    )
