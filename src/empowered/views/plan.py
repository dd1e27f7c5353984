"""The plan page: a pupil's current plan, its history, and what helps read against it.

Every version of a plan is a row staging accepted (the latest current, the rest history:
:mod:`empowered.plans`); each version's outcomes are the outcome rows saved with it. The
strategies the plan names for each outcome are read with what the strategy-effects
analytics already say about each for this pupil (the same results as the pupil page's
"What helps", cached per school and build), in plain words. Nothing here decides access
(the scope comes from the access layer) and nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb

from empowered.access.sections import Section
from empowered.access.users import get_user
from empowered.analytics.strategies import StrategyEffect, for_pupil
from empowered.analytics.wording import count_phrase
from empowered.plans import AGREED_WITH, NEEDS, PLAN_TYPES, TEXTS
from empowered.sources.capture import long_date
from empowered.views import OutOfScope, PupilScope, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache

Row = dict[str, Any]
STAFF_PREFIX = "app-user-"


@dataclass(frozen=True)
class OutcomeStrategy:
    code: str
    name: str
    helps: str  # what the strategy-effects analytics say for this pupil, in words


@dataclass(frozen=True)
class PlanOutcome:
    outcome_id: str
    area_of_need: str | None
    text: str | None
    target_date: date | None
    provision: str | None
    who: str | None
    how_often: str | None
    strategy_codes: tuple[str, ...]
    strategies: tuple[OutcomeStrategy, ...] = ()


@dataclass(frozen=True)
class PlanVersion:
    plan_id: str
    version: int | None  # None: an imported plan without versions
    number: int  # its place in the plan's history, from 1
    plan_type: str
    type_label: str
    start_date: date
    next_review_due: date | None
    texts: tuple[tuple[str, str, str | None], ...]  # (field, label, text)
    status: str | None
    agreed_on: date | None
    agreed_by: str | None  # the account's username, never a staff reference
    agreed_with: str | None  # in words
    saved_by: str | None
    saved_at: str | None
    is_current: bool
    outcomes: tuple[PlanOutcome, ...]

    @property
    def heading(self) -> str:
        """ "Version 3, agreed 12 March 2026 by senco" or "Version 2, a draft saved ..."."""
        head = f"Version {self.number}"
        if self.status == "agreed":
            when = long_date(self.agreed_on) if self.agreed_on else "on a day not recorded"
            head += f", agreed {when}"
            if self.agreed_by:
                head += f" by {self.agreed_by}"
            if self.agreed_with:
                head += f" with {self.agreed_with}"
        elif self.status == "draft":
            head += ", a draft not yet agreed"
            if self.saved_by:
                head += f", saved by {self.saved_by}"
        else:
            head += ", imported from the school's records"
        return head

    def form(self) -> dict[str, list[str]]:
        """This version as a posted form (the agreement re-saves it unchanged)."""
        posted: dict[str, list[str]] = {
            "plan_id": [self.plan_id],
            "base_version": [str(self.version or "")],
            "plan_type": [self.plan_type],
            "start_date": [self.start_date.isoformat()],
            "next_review_due": [self.next_review_due.isoformat() if self.next_review_due else ""],
            "outcome_count": [str(len(self.outcomes))],
        }
        for name, _, text in self.texts:
            posted[name] = [text or ""]
        for n, o in enumerate(self.outcomes):
            posted.update(
                {
                    f"o{n}_id": [o.outcome_id],
                    f"o{n}_text": [o.text or ""],
                    f"o{n}_area": [o.area_of_need or ""],
                    f"o{n}_target": [o.target_date.isoformat() if o.target_date else ""],
                    f"o{n}_provision": [o.provision or ""],
                    f"o{n}_who": [o.who or ""],
                    f"o{n}_how_often": [o.how_often or ""],
                    f"o{n}_strategy": list(o.strategy_codes),
                }
            )
        return posted


@dataclass(frozen=True)
class PlanPage:
    pupil_key: str
    school_urn: str
    current: PlanVersion | None
    history: tuple[PlanVersion, ...]  # the current plan's earlier versions, newest first
    other_plans: tuple[PlanVersion, ...]  # other plans of the pupil (ended, earlier)
    what_helps_shown: bool
    summary: str


def _user_names(con: duckdb.DuckDBPyConnection) -> Callable[[str | None], str | None]:
    """Turns a staff reference ("app-user-N") into the account's username."""
    found: dict[str, str | None] = {}

    def name(ref: str | None) -> str | None:
        if not ref or not ref.startswith(STAFF_PREFIX):
            return None
        if ref not in found:
            number = ref.removeprefix(STAFF_PREFIX)
            user = get_user(con, int(number)) if number.isdigit() else None
            found[ref] = user.username if user else "a former member of staff"
        return found[ref]

    return name


def _outcomes(rows: Sequence[Row]) -> tuple[PlanOutcome, ...]:
    return tuple(
        PlanOutcome(
            str(o["outcome_id"]),
            o["area_of_need"],
            o["outcome_text"],
            o["target_date"],
            o["provision"],
            o["who"],
            o["how_often"],
            tuple(c for c in str(o["strategy_codes"] or "").split(";") if c),
        )
        for o in rows
    )


def _helps(effect: StrategyEffect | None, uses: int) -> str:
    if effect is not None:
        return effect.summary
    if uses:
        return (
            f"Used {count_phrase(uses, 'time')}, but not yet with a check-in before and "
            "after, so there is nothing to judge it by."
        )
    return "Not recorded as used with this pupil yet."


def plan_page(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
) -> PlanPage:
    """The plan page's content. Raises :class:`OutOfScope` for a pupil outside ``scope``
    (or unknown), before reading anything else."""
    cache = DEFAULT_CACHE if cache is None else cache
    found = queries.rows(con, "pupil_in_scope", scope=scope, pupil_key=pupil_key)
    if not found:
        raise OutOfScope(pupil_key)
    school = str(found[0]["school_urn"])
    names = _user_names(con)
    plan_rows = queries.rows(con, "plan_versions", scope=scope, pupil_key=pupil_key)
    outcome_rows = queries.rows(con, "plan_version_outcomes", scope=scope, pupil_key=pupil_key)
    labels = dict(PLAN_TYPES)
    with_whom = dict(AGREED_WITH)
    by_plan: dict[str, list[Row]] = {}
    for r in plan_rows:
        by_plan.setdefault(str(r["plan_id"]), []).append(r)
    versions: dict[str, list[PlanVersion]] = {}
    for plan_id, rows in by_plan.items():
        made = []
        for number, r in enumerate(reversed(rows), start=1):  # oldest first
            version = r["plan_version"]
            mine = [
                o
                for o in outcome_rows
                if o["plan_id"] == plan_id
                and (version is None or o["plan_version"] == version)
                and (version is not None or o["plan_version"] is None)
            ]
            if version is None:  # an imported plan: its outcomes' latest rows
                latest: dict[str, Row] = {}
                for o in mine:
                    latest[str(o["outcome_id"])] = o
                mine = list(latest.values())
            made.append(
                PlanVersion(
                    plan_id=plan_id,
                    version=version,
                    number=number,
                    plan_type=str(r["plan_type"]),
                    type_label=labels.get(str(r["plan_type"]), "Plan"),
                    start_date=r["start_date"],
                    next_review_due=r["next_review_due"],
                    texts=tuple((name, label, r[name]) for name, label in _TEXT_LABELS),
                    status=r["status"],
                    agreed_on=r["agreed_on"],
                    agreed_by=names(r["agreed_by"]),
                    agreed_with=with_whom.get(str(r["agreed_with"])),
                    saved_by=names(r["saved_by"]),
                    saved_at=r["saved_at"],
                    is_current=bool(r["is_current"]),
                    outcomes=_outcomes(mine),
                )
            )
        versions[plan_id] = list(reversed(made))  # newest first
    # The plan the page is about: the latest started that has not ended.
    open_plans = [
        pid
        for pid, rows in by_plan.items()
        if rows[0]["end_date"] is None and rows[0]["is_current"]
    ]
    current_id = open_plans[0] if open_plans else None
    current = versions[current_id][0] if current_id else None
    what_helps_shown = scope.shows(Section.PLAN_WHAT_HELPS)
    if current is not None and what_helps_shown:
        current = _with_strategies(con, cache, current, pupil_key, school, scope)
    others = tuple(v[0] for pid, v in versions.items() if pid != current_id)
    if current is None:
        summary = "No current plan yet." if not others else "No current plan; earlier plans below."
    else:
        summary = (
            f"{current.type_label} since {long_date(current.start_date)}, with "
            f"{count_phrase(len(current.outcomes), 'outcome')}."
        )
    return PlanPage(
        pupil_key,
        school,
        current,
        tuple(versions[current_id][1:]) if current_id else (),
        others,
        what_helps_shown,
        summary,
    )


_TEXT_LABELS: tuple[tuple[str, str], ...] = tuple(
    (name, f"Needs: {label.lower()}" if (name, label) in NEEDS else label) for name, label in TEXTS
)


def _with_strategies(
    con: duckdb.DuckDBPyConnection,
    cache: SchoolAnalyticsCache,
    plan: PlanVersion,
    pupil_key: str,
    school: str,
    scope: PupilScope,
) -> PlanVersion:
    try:
        rows = queries.rows(con, "plan_outcome_strategies", scope=scope, pupil_key=pupil_key)
    except duckdb.CatalogException:  # a warehouse built before the mart existed
        rows = []
    effects = {
        e.strategy_code: e for e in for_pupil(cache.strategy_effects(con, school), pupil_key)
    }
    outcomes = []
    for o in plan.outcomes:
        mine = [r for r in rows if r["outcome_id"] == o.outcome_id]
        outcomes.append(
            replace(
                o,
                strategies=tuple(
                    OutcomeStrategy(
                        str(r["strategy_code"]),
                        str(r["strategy_name"]),
                        _helps(effects.get(str(r["strategy_code"])), int(r["uses"] or 0)),
                    )
                    for r in mine
                ),
            )
        )
    return replace(plan, outcomes=tuple(outcomes))


def blank_form(today: date) -> dict[str, list[str]]:
    """A new plan's form: a SEN support plan starting today, reviewed in a term."""
    return {"plan_type": ["sen_support_plan"], "start_date": [today.isoformat()]}
