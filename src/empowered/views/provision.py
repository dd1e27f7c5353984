"""The provision page: provision by area of need, its cost, reach and impact.

Reach and cost come from ``marts.provision_enrolment`` filtered by the scope in SQL; the
impact of each intervention (gain, effect size, verdict) comes from
:func:`empowered.analytics.impact.provision_overview` per school in scope (the whole trust
when the scope is every school). Impact is a school-level judgement, so a scope limited
to some pupils gets reach and cost only. Pupil counts go through the suppression rule of
:func:`empowered.views.count_table`, and impact rows carry counts as display text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb

from empowered.access.sections import Section
from empowered.analytics.disclosure import THRESHOLD, DisclosedTable
from empowered.analytics.impact import Impact
from empowered.analytics.wording import number
from empowered.views import PupilScope, count_table, needs_suppression, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache


@dataclass(frozen=True)
class AreaCost:
    area_of_need: str
    total_cost: float | None  # None when the pupil count behind it is hidden
    cost_per_pupil: float | None
    delivery_rate: float | None  # sessions delivered of those planned


@dataclass(frozen=True)
class ImpactRow:
    school_urn: str
    intervention_code: str
    intervention_name: str
    measure: str
    pupils: str  # display text: the count, or the hidden symbol
    with_scores: str  # pupils with scores before and after, display text
    effect_size: float | None
    ratio_gain: float | None
    cost_per_pupil: float | None
    cost_band: str | None
    verdict: str  # keep, review, too early to say
    evidence: str


@dataclass(frozen=True)
class SchoolProvision:
    school_urn: str | None  # None = the whole trust
    reach: DisclosedTable  # interventions x (pupils, with scores before and after)
    summary: str


@dataclass(frozen=True)
class ProvisionPage:
    by_area: DisclosedTable  # area of need x (pupils, current pupils)
    area_costs: tuple[AreaCost, ...]
    schools: tuple[SchoolProvision, ...]
    keep: tuple[ImpactRow, ...]
    review: tuple[ImpactRow, ...]
    too_early: tuple[ImpactRow, ...]
    summary: str


def provision_page(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
) -> ProvisionPage:
    cache = DEFAULT_CACHE if cache is None else cache
    # The same for every user of the same scope while the trust's analytics inputs (the
    # provision enrolments among them) are the same: a repeat view reads nothing. Under
    # ten users its two queries and 180 impact rows queued behind the other pages.
    return cache.derived(
        con, "provision_page", None, scope, lambda: _provision_page(con, scope, cache)
    )


def _provision_page(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, cache: SchoolAnalyticsCache
) -> ProvisionPage:
    # The whole page is the provision area's (or an analyst's suppressed counts): a scope
    # the policy does not give it reads nothing.
    shown = scope.shows(Section.PROVISION_MAP)
    areas = queries.rows(con, "provision_by_area", scope=scope) if shown else []
    by_area = replace(
        count_table(
            scope,
            [[int(a["pupils"]), int(a["current_pupils"])] for a in areas] or [[0, 0]],
            row_labels=tuple(str(a["area_of_need"]) for a in areas) or ("no provision recorded",),
            column_labels=("pupils", "pupils now"),
        ),
        adds_across=False,  # pupils now are some of the pupils
    )
    costs = []
    for i, a in enumerate(areas):
        hidden = bool(by_area.hidden[i, 0])
        planned = a["sessions_planned"] or 0
        costs.append(
            AreaCost(
                str(a["area_of_need"]),
                None if hidden or a["total_cost"] is None else float(a["total_cost"]),
                None
                if hidden or a["total_cost"] is None or not a["pupils"]
                else float(a["total_cost"]) / int(a["pupils"]),
                float(a["sessions_delivered"] or 0) / planned if planned else None,
            )
        )
    schools: list[SchoolProvision] = []
    impacts: list[ImpactRow] = []
    for school in _impact_schools(con, scope) if shown else ():
        overview = cache.provision_overview(con, school)  # the same for every user: cached
        schools.append(SchoolProvision(school, overview.table, overview.summary))
        impacts += [_impact_row(i, suppressed=needs_suppression(scope)) for i in overview.impacts]
    keep = tuple(i for i in impacts if i.verdict == "keep")
    review = tuple(i for i in impacts if i.verdict == "review")
    early = tuple(i for i in impacts if i.verdict not in ("keep", "review"))
    total = sum(c.total_cost for c in costs if c.total_cost is not None)
    summary = (
        f"{len(areas)} areas of need with provision, costing about £{total:,.0f} in all "
        "(shown areas only)."
        if areas
        else "No provision recorded."
    )
    if schools:
        summary += (
            f" Intervention results per school: worth keeping {len(keep)}, worth reviewing "
            f"{len(review)}, too early to say {len(early)}."
        )
    return ProvisionPage(by_area, tuple(costs), tuple(schools), keep, review, early, summary)


def _impact_schools(con: duckdb.DuckDBPyConnection, scope: PupilScope) -> Sequence[str | None]:
    if scope.pupils is not None:
        return []
    if scope.schools is None:
        return [None]
    return [str(r["school_urn"]) for r in queries.rows(con, "scope_schools", scope=scope)]


def _shown(n: int, suppressed: bool) -> str:
    return "c" if suppressed and 0 < n < THRESHOLD else str(n)


def _impact_row(i: Impact, *, suppressed: bool) -> ImpactRow:
    evidence = i.summary
    if suppressed and 0 < i.with_pre_and_post < THRESHOLD:
        # The analytics sentence names the small count; a suppressed view must not.
        evidence = (
            f"{i.intervention_name}: fewer than {THRESHOLD} pupils with scores before and "
            "after, so no average is shown yet."
        )
        if i.cost_per_pupil is not None and i.pupils >= THRESHOLD:
            evidence += f" It costs about £{i.cost_per_pupil:,.0f} per pupil."
    elif i.effect_size is not None:
        evidence += f" Effect size about {number(i.effect_size, 2)}."
    small = suppressed and 0 < i.pupils < THRESHOLD
    return ImpactRow(
        school_urn=i.school_urn,
        intervention_code=i.intervention_code,
        intervention_name=i.intervention_name,
        measure=i.measure,
        pupils=_shown(i.pupils, suppressed),
        with_scores=_shown(i.with_pre_and_post, suppressed),
        effect_size=i.effect_size,
        ratio_gain=i.ratio_gain,
        cost_per_pupil=None if small else i.cost_per_pupil,
        cost_band=i.cost_band,
        verdict=i.verdict,
        evidence=evidence,
    )
