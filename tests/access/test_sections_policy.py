"""The policy's answer for every section of every page, for each role and each single-area
visitor, and who gets suppressed counts (issue 10, findings 4 and 5)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A, in_a_month, one_of_each

from empowered.access.policy import (
    Permission,
    can_see_area,
    has,
    may_see_section,
    must_suppress,
    scope_for,
    visible_areas,
    visible_sections,
)
from empowered.access.roles import AREAS, Role
from empowered.access.sections import MEASURE_AREA, SECTION_RULES, TIMELINE_AREA, Section
from empowered.access.users import add_user

pytestmark = pytest.mark.usefixtures("fast_hashing")
TODAY = date.today()
S = Section


def test_every_section_has_a_rule_and_every_area_is_real() -> None:
    assert set(SECTION_RULES) == set(Section)
    for rule in SECTION_RULES.values():
        assert rule.area is None or rule.area in AREAS
        assert rule.permission is None or Permission(rule.permission)
    assert set(MEASURE_AREA.values()) <= set(AREAS)
    assert set(TIMELINE_AREA.values()) <= set(AREAS)


@pytest.mark.parametrize("area", AREAS)
def test_a_single_area_visitor_sees_only_that_areas_sections(
    schools: duckdb.DuckDBPyConnection, area: str
) -> None:
    user = add_user(
        schools, f"v-{area}", PASSWORD, Role.VISITING_PROFESSIONAL, school_urn=SCHOOL_A,
        pupils=["pa4"], areas=[area], expires_on=in_a_month(),
    )  # fmt: skip
    scope = scope_for(schools, user, today=TODAY)
    assert visible_areas(scope) <= {area}
    for section, rule in SECTION_RULES.items():
        if rule.area is not None and rule.area != area:
            assert not may_see_section(scope, section), (area, section)
        if rule.limited_area is not None and rule.limited_area != area:
            assert not may_see_section(scope, section), (area, section)
    assert not may_see_section(scope, S.HOME_TRIGGERS)
    assert not may_see_section(scope, S.TRIGGERS_QUEUE)
    assert not may_see_section(scope, S.HOME_SCHOOL_SUMMARY)
    assert must_suppress(scope) is False  # they open their one pupil's page anyway


def test_the_issues_visitor_gets_wellbeing_and_strategies_only(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    visitor = one_of_each(schools)[Role.VISITING_PROFESSIONAL]
    scope = scope_for(schools, visitor, today=TODAY)
    shown = visible_sections(scope)
    assert S.PUPIL_WELLBEING in shown and S.PUPIL_WHAT_HELPS in shown
    for hidden in (
        S.PUPIL_ATTENDANCE, S.PUPIL_BEHAVIOUR, S.PUPIL_HARDER, S.PUPIL_ASSESSMENTS,
        S.PUPIL_PLANS, S.PUPIL_PROVISION, S.PUPIL_STATUS, S.HOME_TRIGGERS,
        S.HOME_PLAN_REVIEWS, S.STRATEGY_PATTERNS, S.TRIGGERS_QUEUE,
    ):  # fmt: skip
        assert hidden not in shown, hidden
    assert visible_areas(scope) == {"wellbeing", "strategies"}


@pytest.mark.parametrize("role", list(Role))
def test_trigger_cards_go_only_with_view_triggers(
    schools: duckdb.DuckDBPyConnection, role: Role
) -> None:
    scope = scope_for(schools, one_of_each(schools)[role], today=TODAY)
    allowed = has(scope, Permission.VIEW_TRIGGERS)
    assert may_see_section(scope, S.HOME_TRIGGERS) == allowed
    assert may_see_section(scope, S.TRIGGERS_QUEUE) == allowed
    if role in (Role.TEACHER, Role.TEACHING_ASSISTANT):
        assert not allowed


@pytest.mark.parametrize("role", list(Role))
def test_area_sections_follow_can_see_area(schools: duckdb.DuckDBPyConnection, role: Role) -> None:
    scope = scope_for(schools, one_of_each(schools)[role], today=TODAY)
    for section, rule in SECTION_RULES.items():
        if rule.area is None or rule.aggregates or rule.permission is not None:
            continue
        assert may_see_section(scope, section) == can_see_area(scope, rule.area), section


@pytest.mark.parametrize("role", list(Role))
def test_only_aggregate_only_roles_and_shared_documents_are_suppressed(
    schools: duckdb.DuckDBPyConnection, role: Role
) -> None:
    scope = scope_for(schools, one_of_each(schools)[role], today=TODAY)
    assert must_suppress(scope) == (role is Role.TRUST_ANALYST)
    assert must_suppress(scope, leaves_school=True)


@pytest.mark.parametrize("role", [Role.TEACHER, Role.TEACHING_ASSISTANT, Role.DSL, Role.SENCO])
def test_staff_keep_the_childs_sen_status_line(
    schools: duckdb.DuckDBPyConnection, role: Role
) -> None:
    scope = scope_for(schools, one_of_each(schools)[role], today=TODAY)
    assert may_see_section(scope, S.PUPIL_STATUS)
