"""Data for the access tests: a small, hand-built pair of schools (made-up keys, no real
pupils) and one user of every role."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from empowered.access.roles import Role
from empowered.access.users import User, add_user

PASSWORD = "correct horse battery staple"
SCHOOL_A = "100001"
SCHOOL_B = "100002"
# Group membership: (school, group, pupil). The same group code at two schools is
# deliberate: a teacher's 7A is only their own school's 7A. One key holds a quote.
MEMBERS = [
    (SCHOOL_A, "7A", "pa1"),
    (SCHOOL_A, "7A", "pa2"),
    (SCHOOL_A, "7B", "pa3"),
    (SCHOOL_A, "TA-1", "o'key"),
    (SCHOOL_B, "7A", "pb1"),
    (SCHOOL_B, "7B", "pb2"),
]
# Pupils on roll at each school; pa4 is in no group.
ENROLMENT = [
    (SCHOOL_A, "pa1"),
    (SCHOOL_A, "pa2"),
    (SCHOOL_A, "pa3"),
    (SCHOOL_A, "pa4"),
    (SCHOOL_A, "o'key"),
    (SCHOOL_B, "pb1"),
    (SCHOOL_B, "pb2"),
]
ALL_PUPILS = {p for _, p in ENROLMENT}


def in_a_month() -> date:
    return date.today() + timedelta(days=30)


def one_of_each(con: duckdb.DuckDBPyConnection) -> dict[Role, User]:
    """One user for every role, scoped to school A where a school applies."""
    return {
        Role.TRUST_ADMIN: add_user(con, "admin", PASSWORD, Role.TRUST_ADMIN),
        Role.SENCO: add_user(con, "senco", PASSWORD, Role.SENCO, school_urn=SCHOOL_A),
        Role.DSL: add_user(con, "dsl", PASSWORD, Role.DSL, school_urn=SCHOOL_A),
        Role.TEACHER: add_user(
            con, "teacher", PASSWORD, Role.TEACHER, school_urn=SCHOOL_A, groups=["7A"]
        ),
        Role.TEACHING_ASSISTANT: add_user(
            con,
            "assistant",
            PASSWORD,
            Role.TEACHING_ASSISTANT,
            school_urn=SCHOOL_A,
            pupils=["o'key", "pa3"],
        ),
        Role.VISITING_PROFESSIONAL: add_user(
            con,
            "visitor",
            PASSWORD,
            Role.VISITING_PROFESSIONAL,
            school_urn=SCHOOL_A,
            pupils=["pa4"],
            areas=["wellbeing", "strategies"],
            expires_on=in_a_month(),
        ),
        Role.TRUST_ANALYST: add_user(con, "analyst", PASSWORD, Role.TRUST_ANALYST),
    }


# What each role of one_of_each() should see: the expected answer, written out by hand.
EXPECTED_PUPILS: dict[Role, set[str]] = {
    Role.TRUST_ADMIN: ALL_PUPILS,
    Role.SENCO: {p for s, p in ENROLMENT if s == SCHOOL_A},
    Role.DSL: {p for s, p in ENROLMENT if s == SCHOOL_A},
    Role.TEACHER: {"pa1", "pa2"},
    Role.TEACHING_ASSISTANT: {"o'key", "pa3"},
    Role.VISITING_PROFESSIONAL: {"pa4"},
    # Rows for aggregates only; can_see_pupil stays False for the analyst.
    Role.TRUST_ANALYST: ALL_PUPILS,
}
