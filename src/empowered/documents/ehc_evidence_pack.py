"""What goes into the EHC evidence pack, read through the pages' own view services.

Everything comes from :func:`~empowered.views.pupil.pupil_picture`,
:func:`~empowered.views.plan.plan_page`, :func:`~empowered.views.reviews.reviews_held`,
:func:`~empowered.views.reviews.ehc_steps` and
:func:`~empowered.views.contributions.pupil_contributions`, with the document's scope
(``access.documents``: no safeguarding, no staff-only notes, no early-warning). Two
questions the pages do not ask have their own SQL in ``documents/queries``: each
intervention's staff time and academic year, and behaviour counted by term (counts only:
an incident's narrative can name other children).

Decided where the issue is silent: an outcome's *baseline* is the entry score of an
intervention for the same broad area of need (the plan itself has no baseline field); a
*reviewed cycle* is one review held of one of the pupil's plans; the provision's *total
this year* is the cost per pupil of every enrolment in the academic year of the school's
latest data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from empowered.access.sections import Section
from empowered.analytics.wording import day_text, number
from empowered.identity import identity_reader
from empowered.plans import NEEDS
from empowered.provision import MEASURES
from empowered.school_years import academic_year_label, academic_year_of
from empowered.views import PupilScope, queries
from empowered.views.contributions import AREA_WORDS, Contribution, pupil_contributions
from empowered.views.plan import PlanOutcome, PlanPage, plan_page
from empowered.views.pupil import Enrolment, PupilPicture, pupil_picture
from empowered.views.register import SEN_PROVISION_LABELS
from empowered.views.reviews import ReviewHeld, StepDue, ehc_steps, reviews_held

Row = dict[str, Any]
NOTIONAL_BUDGET = 6000  # pounds a year: the notional SEN budget's element per pupil


def _rows(con: duckdb.DuckDBPyConnection, name: str, scope: PupilScope, **params: Any) -> list[Row]:
    """One of the pack's own queries (``documents/queries``), scoped as the views' are."""
    return queries.rows(con, name, scope=scope, package="empowered.documents", **params)


@dataclass(frozen=True)
class StatusPeriod:
    start: date
    end: date | None
    status: str  # "SEN support"
    need: str  # "Speech, language and communication needs" or ""


@dataclass(frozen=True)
class Cycle:
    """One assess-plan-do-review cycle: a plan, and one review held of it."""

    number: int
    plan_kind: str
    plan_started: date | None
    review: ReviewHeld


@dataclass(frozen=True)
class Baseline:
    on: date | None  # when the entry score was taken (None: not recorded)
    words: str  # "rating 2 at the start of Lego-based therapy on 10 September 2025"


@dataclass(frozen=True)
class ProvisionLine:
    enrolment: Enrolment
    academic_year: str | None
    this_year: bool
    sessions: str  # "12 of 30", "30 planned; delivery not recorded"
    delivered: int | None  # None: no register of sessions kept (not "0 delivered")
    staff_time: str  # "12 hours delivered", "about 15 hours planned", "not known"
    baseline: Baseline | None


@dataclass(frozen=True)
class YearCost:
    year: str  # "2025/26"
    interventions: int
    total: float  # pounds: the cost per pupil of each enrolment that year


@dataclass(frozen=True)
class AreaOfNeed:
    area: str
    needs: str | None  # the current plan's words
    outcomes: tuple[PlanOutcome, ...]
    interventions: tuple[str, ...]


@dataclass(frozen=True)
class EhcPack:
    picture: PupilPicture
    plan: PlanPage
    is_ehc: bool
    status_history: tuple[StatusPeriod, ...]
    cycles: tuple[Cycle, ...]  # oldest first
    areas: tuple[AreaOfNeed, ...]
    baselines: dict[str, Baseline]  # area of need: its earliest recorded starting point
    provision: tuple[ProvisionLine, ...]
    year: str  # the academic year of the school's latest data: "this school year"
    cost_by_year: tuple[YearCost, ...]  # oldest first, this year always last
    behaviour_terms: tuple[Row, ...]
    contributions: tuple[Contribution, ...]
    steps: tuple[StepDue, ...]

    @property
    def cost_this_year(self) -> float:
        return self.cost_by_year[-1].total

    @property
    def outcomes(self) -> tuple[PlanOutcome, ...]:
        return self.plan.current.outcomes if self.plan.current else ()

    def baseline(self, area: str | None, by: date | None = None) -> str | None:
        """The area's starting point in words; with ``by``, only one taken by that day (a
        score taken after a review is no baseline for it)."""
        found = self.baselines.get(area or "")
        if found is None or (by is not None and (found.on is None or found.on > by)):
            return None
        return found.words

    @property
    def views(self) -> tuple[ReviewHeld, ...]:
        """Reviews held with the child's or the parents' views, newest first."""
        return tuple(
            c.review for c in reversed(self.cycles) if c.review.pupil_views or c.review.parent_views
        )


def _status_history(rows: list[Row]) -> tuple[StatusPeriod, ...]:
    return tuple(
        StatusPeriod(
            r["valid_from"],
            r["valid_to"],
            SEN_PROVISION_LABELS.get(str(r["sen_provision"]), str(r["sen_provision"])),
            str(r["primary_need_name"] or r["primary_need"] or ""),
        )
        for r in rows
    )


def _cycles(picture: PupilPicture, reviews: tuple[ReviewHeld, ...]) -> tuple[Cycle, ...]:
    started = {p.plan_id: p.start_date for p in picture.plans.plans}
    return tuple(
        Cycle(n, r.plan_kind, started.get(r.plan_id), r)
        for n, r in enumerate(sorted(reviews, key=lambda r: r.held_on), start=1)
    )


def _staff_time(r: Row | None, e: Enrolment) -> str:
    if r is None:
        return "not known"
    if r["has_session_records"] and r["minutes_delivered"]:
        return f"{number(r['minutes_delivered'] / 60)} hours delivered"
    if e.sessions_planned and r["minutes_per_session"]:
        return f"about {number(e.sessions_planned * r['minutes_per_session'] / 60)} hours planned"
    return "not known"


def _sessions(r: Row | None, e: Enrolment) -> str:
    """Sessions delivered of those planned; a tracker without a session register has not
    delivered 0 sessions (as the pupil page says)."""
    if not e.sessions_planned:
        return "not recorded"
    if r is not None and r["has_session_records"] is False:
        return f"{e.sessions_planned} planned; delivery not recorded"
    return f"{e.sessions_delivered or 0} of {e.sessions_planned}"


def _baseline(r: Row | None, e: Enrolment) -> Baseline | None:
    if e.pre_score is None:
        return None
    what = dict(MEASURES).get(str(e.measure), "score").lower()
    on = r["pre_date"] if r else None
    when = f" on {day_text(on)}" if on else ""
    return Baseline(on, f"{what} {e.pre_score:g} at the start of {e.intervention_name}{when}")


def _provision(picture: PupilPicture, extras: list[Row]) -> tuple[ProvisionLine, ...]:
    by_id = {str(r["enrolment_id"]): r for r in extras}
    lines = []
    for e in picture.provision.enrolments:
        r = by_id.get(e.enrolment_id)
        lines.append(
            ProvisionLine(
                e,
                r["academic_year"] if r else None,
                bool(r and r["in_as_of_year"]),
                _sessions(r, e),
                None
                if r is not None and r["has_session_records"] is False
                else e.sessions_delivered,
                _staff_time(r, e),
                _baseline(r, e),
            )
        )
    return tuple(lines)


def _baselines(lines: tuple[ProvisionLine, ...]) -> dict[str, Baseline]:
    """Each area's earliest recorded starting point (the lines are newest first)."""
    out: dict[str, Baseline] = {}
    for line in lines:
        if line.baseline and line.enrolment.area_of_need:
            out[line.enrolment.area_of_need] = line.baseline
    return out


def _cost_by_year(lines: tuple[ProvisionLine, ...], this_year: str) -> tuple[YearCost, ...]:
    years = sorted({line.academic_year for line in lines if line.academic_year} - {this_year})
    return tuple(
        YearCost(
            y,
            len(mine := [line for line in lines if line.academic_year == y]),
            sum(line.enrolment.cost_per_pupil or 0.0 for line in mine),
        )
        for y in [*years, this_year]
    )


def _areas(plan: PlanPage, lines: tuple[ProvisionLine, ...]) -> tuple[AreaOfNeed, ...]:
    texts = {name: text for name, _, text in plan.current.texts} if plan.current else {}
    outcomes = plan.current.outcomes if plan.current else ()
    return tuple(
        AreaOfNeed(
            area,
            texts.get(field),
            tuple(o for o in outcomes if o.area_of_need == area),
            tuple(
                dict.fromkeys(
                    line.enrolment.intervention_name
                    for line in lines
                    if line.enrolment.area_of_need == area
                )
            ),
        )
        for field, area in NEEDS
    )


def gather(con: duckdb.DuckDBPyConnection, pupil_key: str, scope: PupilScope, **kw: Any) -> EhcPack:
    """The pack's contents. Raises :class:`~empowered.views.OutOfScope` for a pupil outside
    ``scope``. ``kw``: ``cache`` and ``keys`` (the identity reader's)."""
    picture = pupil_picture(con, pupil_key, scope=scope, cache=kw.get("cache"))
    plan = plan_page(con, pupil_key, scope=scope, cache=kw.get("cache"))
    lines = _provision(
        picture,
        _rows(con, "ehc_provision_costs", scope, pupil_key=pupil_key)
        if scope.shows_area("provision")
        else [],
    )
    year = academic_year_label(academic_year_of(picture.as_of))
    reader = identity_reader(scope, kw.get("keys")) if scope.identified else None
    is_ehc = picture.status.sen_provision == "E" or (
        plan.current is not None and plan.current.plan_type == "ehc_plan"
    )
    return EhcPack(
        picture=picture,
        plan=plan,
        is_ehc=is_ehc,
        status_history=_status_history(
            queries.rows(con, "pupil_sen_history", scope=scope, pupil_key=pupil_key)
            if scope.shows_area("register")
            else []
        ),
        cycles=_cycles(
            picture,
            reviews_held(con, pupil_key, scope=scope) if scope.shows(Section.REVIEWS_HELD) else (),
        ),
        areas=_areas(plan, lines),
        baselines=_baselines(lines),
        provision=lines,
        year=year,
        cost_by_year=_cost_by_year(lines, year),
        behaviour_terms=tuple(
            _rows(con, "ehc_behaviour_terms", scope, pupil_key=pupil_key)
            if scope.shows(Section.PUPIL_BEHAVIOUR) and scope.shows_area("behaviour")
            else []
        ),
        contributions=tuple(
            pupil_contributions(con, pupil_key, scope=scope, reader=reader)
            if reader is not None
            else []
        ),
        steps=ehc_steps(con, pupil_key, scope=scope)
        if is_ehc and scope.shows(Section.REVIEWS_EHC_CALENDAR)
        else (),
    )


def area_words(area: str) -> str:
    return AREA_WORDS.get(area, area)
