"""The one policy: the role x permission table, scopes, and the SQL row filter."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from access_fixtures import (
    ALL_PUPILS,
    ENROLMENT,
    EXPECTED_PUPILS,
    PASSWORD,
    SCHOOL_A,
    SCHOOL_B,
    one_of_each,
)

from empowered.access import policy
from empowered.access.policy import (
    ROLE_PERMISSIONS,
    Permission,
    Refused,
    can_see_area,
    can_see_pupil,
    has,
    pupil_filter,
    require,
    scope_for,
)
from empowered.access.roles import AREAS, Role
from empowered.access.users import add_user, disable_user, get_user

pytestmark = pytest.mark.usefixtures("fast_hashing")

TODAY = date.today()
COLUMN_ROLES = {
    "trust admin": Role.TRUST_ADMIN,
    "SENCo": Role.SENCO,
    "DSL": Role.DSL,
    "teacher": Role.TEACHER,
    "TA": Role.TEACHING_ASSISTANT,
    "visitor": Role.VISITING_PROFESSIONAL,
    "analyst": Role.TRUST_ANALYST,
}


def documented_table() -> dict[Role, dict[Permission, str]]:
    """The role x permission table as written in policy's docstring."""
    assert policy.__doc__ is not None
    lines = [line for line in policy.__doc__.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    roles = [COLUMN_ROLES[name] for name in header[1:]]
    table: dict[Role, dict[Permission, str]] = {role: {} for role in roles}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = Permission[cells[0]]
        for role, cell in zip(roles, cells[1:], strict=True):
            table[role][permission] = cell
    return table


def test_the_documented_table_covers_every_role_and_permission() -> None:
    table = documented_table()
    assert set(table) == set(Role)
    for role in Role:
        assert set(table[role]) == set(Permission), role


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_permissions_match_the_documented_table(role: Role, permission: Permission) -> None:
    cell = documented_table()[role][permission]
    assert cell in ("yes", "", "if area")
    assert (permission in ROLE_PERMISSIONS[role]) == (cell != "")


def test_what_the_issue_asks_of_each_role() -> None:
    # Independent of the table's spelling: the rules the issue states in words.
    assert ROLE_PERMISSIONS[Role.TRUST_ANALYST] == {Permission.VIEW_AGGREGATES}
    assert {r for r in Role if Permission.ADMIN_USERS in ROLE_PERMISSIONS[r]} == {Role.TRUST_ADMIN}
    assert {r for r in Role if Permission.VIEW_AUDIT in ROLE_PERMISSIONS[r]} == {
        Role.TRUST_ADMIN,
        Role.DSL,
    }
    assert Permission.VIEW_REGISTER not in ROLE_PERMISSIONS[Role.TEACHER]
    assert Permission.ACT_ON_TRIGGERS in ROLE_PERMISSIONS[Role.DSL]
    assert Permission.ACT_ON_TRIGGERS not in ROLE_PERMISSIONS[Role.SENCO]
    visitor = ROLE_PERMISSIONS[Role.VISITING_PROFESSIONAL]
    # Read-only but for their own notes and reports (issue 13, item 6): the one write.
    assert visitor & policy.WRITE_PERMISSIONS == {Permission.CONTRIBUTE}
    assert policy.READ_ONLY_KEEPS == {Permission.CONTRIBUTE} and Permission.EXPORT not in visitor
    # Plans are the SENCo's to write and agree (issue 13): not the trust admin's.
    assert {r for r in Role if Permission.WRITE_PLANS in ROLE_PERMISSIONS[r]} == {Role.SENCO}


def test_has_follows_the_table_for_every_role(schools: duckdb.DuckDBPyConnection) -> None:
    users = one_of_each(schools)
    table = documented_table()
    for role, user in users.items():
        scope = scope_for(schools, user, today=TODAY)
        for permission in Permission:
            cell = table[role][permission]
            if cell == "if area":
                # The visitor chose wellbeing and strategies.
                expected = permission is Permission.VIEW_STRATEGIES
            else:
                expected = cell == "yes"
            assert has(scope, permission) is expected, (role, permission)


def test_scopes_on_hand_built_groups(schools: duckdb.DuckDBPyConnection) -> None:
    users = one_of_each(schools)
    scopes = {role: scope_for(schools, user, today=TODAY) for role, user in users.items()}
    admin, analyst = scopes[Role.TRUST_ADMIN], scopes[Role.TRUST_ANALYST]
    assert admin.schools is None and admin.pupils is None and admin.identified
    assert analyst.schools is None and not analyst.identified and analyst.read_only
    senco = scopes[Role.SENCO]
    assert senco.schools == {SCHOOL_A} and senco.pupils is None and senco.identified
    # 7A at school B (pb1) is another class: not this teacher's.
    assert scopes[Role.TEACHER].pupils == {"pa1", "pa2"}
    assert scopes[Role.TEACHING_ASSISTANT].pupils == {"o'key", "pa3"}
    visitor = scopes[Role.VISITING_PROFESSIONAL]
    assert visitor.pupils == {"pa4"} and visitor.read_only
    assert visitor.areas == {"wellbeing", "strategies"}
    for role, scope in scopes.items():
        for pupil in ALL_PUPILS:
            expected = pupil in EXPECTED_PUPILS[role] and role is not Role.TRUST_ANALYST
            assert can_see_pupil(scope, pupil) is expected, (role, pupil)


def test_a_teacher_with_groups_and_named_pupils_sees_both(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    user = add_user(
        schools, "t2", PASSWORD, "teacher", school_urn=SCHOOL_A, groups=["7B"], pupils=["pa4"]
    )
    assert scope_for(schools, user, today=TODAY).pupils == {"pa3", "pa4"}


def test_without_a_built_warehouse_scopes_fail_closed(con: duckdb.DuckDBPyConnection) -> None:
    teacher = add_user(con, "t1", PASSWORD, "teacher", school_urn=SCHOOL_A, groups=["7A"])
    senco = add_user(con, "s1", PASSWORD, "senco", school_urn=SCHOOL_A)
    assert scope_for(con, teacher, today=TODAY).pupils == frozenset()
    senco_scope = scope_for(con, senco, today=TODAY)
    assert not can_see_pupil(senco_scope, "pa1")
    assert pupil_filter(senco_scope, school_column=None) == ("FALSE", [])


def test_expired_and_disabled_users_get_an_empty_scope(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    users = one_of_each(schools)
    visitor = users[Role.VISITING_PROFESSIONAL]
    assert visitor.expires_on is not None
    last_day = scope_for(schools, visitor, today=visitor.expires_on)
    assert can_see_pupil(last_day, "pa4")
    expired = scope_for(schools, visitor, today=visitor.expires_on + timedelta(days=1))
    disable_user(schools, users[Role.SENCO].user_id)
    senco = get_user(schools, users[Role.SENCO].user_id)
    assert senco is not None
    disabled = scope_for(schools, senco, today=TODAY)
    for scope in (expired, disabled):
        assert scope.empty
        assert not any(has(scope, p) for p in Permission)
        assert not any(can_see_pupil(scope, p) for p in ALL_PUPILS)
        assert pupil_filter(scope) == ("FALSE", [])
        with pytest.raises(Refused, match="switched off or has expired"):
            require(scope, Permission.VIEW_HOME)


def test_areas_for_a_visitor(schools: duckdb.DuckDBPyConnection) -> None:
    visitor = one_of_each(schools)[Role.VISITING_PROFESSIONAL]
    scope = scope_for(schools, visitor, today=TODAY)
    assert {a for a in AREAS if can_see_area(scope, a)} == {"wellbeing", "strategies"}
    assert not can_see_area(scope, "no such area")
    assert not has(scope, Permission.CAPTURE)
    require(scope, Permission.VIEW_PUPIL, pupil_key="pa4", area="wellbeing")
    with pytest.raises(Refused, match="behaviour area") as refused:
        require(scope, Permission.VIEW_PUPIL, pupil_key="pa4", area="behaviour")
    assert refused.value.pupil_key == "pa4"
    assert refused.value.permission is Permission.VIEW_PUPIL


def test_require_refuses_with_permission_pupil_and_reason(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    users = one_of_each(schools)
    teacher = scope_for(schools, users[Role.TEACHER], today=TODAY)
    require(teacher, Permission.CAPTURE, pupil_key="pa1")
    with pytest.raises(Refused) as other_pupil:
        require(teacher, Permission.VIEW_PUPIL, pupil_key="pb1")
    assert other_pupil.value.pupil_key == "pb1"
    assert "not one of the pupils" in other_pupil.value.reason
    with pytest.raises(Refused, match="does not include") as no_register:
        require(teacher, Permission.VIEW_REGISTER)
    assert no_register.value.permission is Permission.VIEW_REGISTER
    analyst = scope_for(schools, users[Role.TRUST_ANALYST], today=TODAY)
    require(analyst, Permission.VIEW_AGGREGATES)
    with pytest.raises(Refused):
        require(analyst, Permission.VIEW_PUPIL, pupil_key="pa1")
    senco = scope_for(schools, users[Role.SENCO], today=TODAY)
    require(senco, Permission.VIEW_PUPIL, pupil_key="o'key", area="register")
    with pytest.raises(Refused):
        require(senco, Permission.VIEW_PUPIL, pupil_key="pb1")
    with pytest.raises(Refused):
        require(senco, Permission.VIEW_SAFEGUARDING)


# --- the SQL row filter -------------------------------------------------------------


@pytest.fixture
def facts(schools: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A fact table with rows for pupils of both schools, including one row recorded at the
    other school for a pupil of school A (a pupil who moved)."""
    schools.execute("CREATE TABLE t (pupil_key VARCHAR, school_urn VARCHAR, n INTEGER)")
    rows = [(p, s, i) for i, (s, p) in enumerate(ENROLMENT)] + [("pa1", SCHOOL_B, 99)]
    schools.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    return schools


def _filtered(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object]
) -> set[tuple[str, str]]:
    found = con.execute(f"SELECT pupil_key, school_urn FROM t WHERE {sql}", params).fetchall()
    return {(str(p), str(s)) for p, s in found}


@pytest.mark.parametrize("role", list(Role))
def test_pupil_filter_really_filters(facts: duckdb.DuckDBPyConnection, role: Role) -> None:
    user = one_of_each(facts)[role]
    scope = scope_for(facts, user, today=TODAY)
    sql, params = pupil_filter(scope)
    got = _filtered(facts, sql, params)
    all_rows = _filtered(facts, "TRUE", [])
    expected = {
        (p, s)
        for p, s in all_rows
        if p in EXPECTED_PUPILS[role] and (scope.schools is None or s in scope.schools)
    }
    assert got == expected
    assert got  # every role of one_of_each sees something
    # Values travel as parameters: no key or URN is ever in the SQL text.
    assert "?" in sql or sql == "TRUE"
    for value in [*ALL_PUPILS, SCHOOL_A, SCHOOL_B]:
        assert value not in sql
    # The same answer through a table without a school column, where whole-school roles
    # filter on the pupils on roll.
    sql2, params2 = pupil_filter(scope, school_column=None, pupil_column="t.pupil_key")
    got2 = {p for p, _ in _filtered(facts, sql2, params2)}
    assert got2 == EXPECTED_PUPILS[role]


def test_a_pupil_key_with_a_quote_is_a_parameter(facts: duckdb.DuckDBPyConnection) -> None:
    ta = one_of_each(facts)[Role.TEACHING_ASSISTANT]
    sql, params = pupil_filter(scope_for(facts, ta, today=TODAY))
    assert "'" not in sql
    assert {p for p, _ in _filtered(facts, sql, params)} == {"o'key", "pa3"}


def test_pupil_filter_handles_thousands_of_pupils(con: duckdb.DuckDBPyConnection) -> None:
    keys = [f"k{i:05d}'x" for i in range(20_000)]
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.bridge_group_member AS SELECT ? AS school_urn, "
                "'BIG' AS group_code, unnest(?) AS pupil_key", [SCHOOL_A, keys[::2]])  # fmt: skip
    con.execute(
        "CREATE TABLE t AS SELECT unnest(?) AS pupil_key, ? AS school_urn", [keys, SCHOOL_A]
    )
    teacher = add_user(con, "big", PASSWORD, "teacher", school_urn=SCHOOL_A, groups=["BIG"])
    sql, params = pupil_filter(scope_for(con, teacher, today=TODAY))
    assert len(params) == 2 and len(sql) < 100
    counted = con.execute(f"SELECT count(*) FROM t WHERE {sql}", params).fetchone()
    assert counted is not None and counted[0] == 10_000


def test_pupil_filter_refuses_a_column_that_is_not_a_name(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    senco = one_of_each(schools)[Role.SENCO]
    scope = scope_for(schools, senco, today=TODAY)
    with pytest.raises(ValueError, match="column"):
        pupil_filter(scope, school_column="school_urn OR TRUE --")


def test_a_visitor_contributes_only_about_named_pupils_in_chosen_areas_until_expiry(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    """Issue 13, item 6: the one write a read-only visitor keeps, and its limits."""
    users = one_of_each(schools)
    scopes = {role: scope_for(schools, user, today=TODAY) for role, user in users.items()}
    visitor = scopes[Role.VISITING_PROFESSIONAL]
    assert policy.contribution_areas(visitor) == ("wellbeing", "strategies")
    assert policy.may_contribute(visitor, "pa4", "wellbeing")
    assert not policy.may_contribute(visitor, "pa4", "behaviour")  # not a chosen area
    assert not policy.may_contribute(visitor, "pa1", "wellbeing")  # not a named pupil
    assert not policy.may_contribute(visitor, "pb1")  # another school
    # Still read-only for everything else.
    assert not has(visitor, Permission.CAPTURE) and not has(visitor, Permission.WRITE_PUPIL_NOTE)
    # After the expiry date: nothing at all.
    expired = scope_for(
        schools, users[Role.VISITING_PROFESSIONAL], today=TODAY + timedelta(days=31)
    )
    assert not policy.may_contribute(expired, "pa4", "wellbeing")
    assert policy.contribution_areas(expired) == ()
    # The SENCo files advice in any area, about any pupil of their school.
    senco = scopes[Role.SENCO]
    assert policy.contribution_areas(senco) == tuple(a for a in AREAS if a != "safeguarding")
    assert policy.may_contribute(senco, "pa1", "learning")
    assert not policy.may_contribute(senco, "pb1", "learning")
    for role in (Role.TRUST_ADMIN, Role.DSL, Role.TEACHER, Role.TEACHING_ASSISTANT):
        assert not policy.may_contribute(scopes[role], "pa1"), role
    assert not policy.may_contribute(scopes[Role.TRUST_ANALYST], "pa1")
    # Reading a contribution: the pupil and its area.
    teacher = scopes[Role.TEACHER]
    assert policy.may_see_contribution(teacher, "pa1", "wellbeing")
    assert not policy.may_see_contribution(teacher, "pa1", "register")
    assert not policy.may_see_contribution(visitor, "pa4", "learning")
    assert policy.may_see_contribution(visitor, "pa4", "strategies")


def test_concerns_are_recorded_by_school_staff_and_read_by_the_dsl(
    schools: duckdb.DuckDBPyConnection,
) -> None:
    """Any member of staff at a school records a concern; only that school's DSL reads
    and acts on it, plus a staff account of the school the DSL shared it with."""
    from empowered.access.policy import may_act_on_concern, may_read_concern, may_receive_share

    users = one_of_each(schools)
    scopes = {role: scope_for(schools, user, today=TODAY) for role, user in users.items()}
    recorders = {r for r, s in scopes.items() if has(s, Permission.RECORD_CONCERN)}
    assert recorders == {Role.SENCO, Role.DSL, Role.TEACHER, Role.TEACHING_ASSISTANT}
    readers = {r for r, s in scopes.items() if may_read_concern(s, SCHOOL_A, frozenset())}
    assert readers == {Role.DSL}
    assert {r for r, s in scopes.items() if may_act_on_concern(s, SCHOOL_A)} == {Role.DSL}
    # Another school's concern: not even its DSL's colleague at school A.
    assert not may_read_concern(scopes[Role.DSL], SCHOOL_B, frozenset())
    teacher = users[Role.TEACHER]
    shared = frozenset({teacher.user_id})
    assert may_read_concern(scopes[Role.TEACHER], SCHOOL_A, shared)
    assert not may_act_on_concern(scopes[Role.TEACHER], SCHOOL_A)
    assert not may_read_concern(scopes[Role.TEACHER], SCHOOL_B, shared)
    # Shared with a visitor or the trust admin by mistake: still not readable.
    for role in (Role.VISITING_PROFESSIONAL, Role.TRUST_ADMIN, Role.TRUST_ANALYST):
        assert not may_read_concern(scopes[role], SCHOOL_A, frozenset({users[role].user_id}))
    receivers = {r for r, u in users.items() if may_receive_share(u, SCHOOL_A, today=TODAY)}
    assert receivers == {Role.SENCO, Role.DSL, Role.TEACHER, Role.TEACHING_ASSISTANT}
