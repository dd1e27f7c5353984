"""Hand-built core tables for mart tests: one school, a calendar with a half-term holiday,
and pupils whose marks are written week by week, so expected rows can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path

import duckdb

from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models
from empowered.warehouse.trigger_rules import sync_trigger_rules

SCHOOL = "100001"
YEAR = "2025/26"
FIRST_MONDAY = date(2025, 9, 1)
# Weeks 1-7 and 8-13 are the autumn term with a two-week half-term holiday between them;
# weeks 14-16 are the start of the spring term.
SCHOOL_WEEKS = 16
HOLIDAY_AFTER_WEEK = 7
HOLIDAY_WEEKS = 2


def week_monday(week: int) -> date:
    gap = HOLIDAY_WEEKS if week > HOLIDAY_AFTER_WEEK else 0
    return FIRST_MONDAY + timedelta(weeks=week - 1 + gap)


def week_friday(week: int) -> date:
    return week_monday(week) + timedelta(days=4)


def term_of(week: int) -> str:
    return "autumn" if week <= 13 else "spring"


def school_days() -> list[tuple[date, int]]:
    return [
        (week_monday(w) + timedelta(days=d), w)
        for w in range(1, SCHOOL_WEEKS + 1)
        for d in range(5)
    ]


def core_connection() -> duckdb.DuckDBPyConnection:
    """An empty warehouse with just the core tables the attendance and safeguarding marts
    read, holding the calendar above."""
    con = open_warehouse(":memory:")
    con.execute("CREATE TABLE core.dim_school (school_urn VARCHAR)")
    con.execute("INSERT INTO core.dim_school VALUES (?)", [SCHOOL])
    con.execute("CREATE TABLE core.dim_pupil (pupil_key VARCHAR)")
    con.execute("CREATE TABLE core.dim_date (date_day DATE, academic_year VARCHAR)")
    con.execute(
        "CREATE TABLE core.dim_school_calendar (school_urn VARCHAR, date_day DATE, "
        "academic_year VARCHAR, term VARCHAR, school_week BIGINT, is_school_day BOOLEAN)"
    )
    weeks = dict(school_days())
    day = FIRST_MONDAY
    while day <= week_friday(SCHOOL_WEEKS) + timedelta(days=2):
        week = weeks.get(day)
        con.execute("INSERT INTO core.dim_date VALUES (?, ?)", [day, YEAR])
        con.execute(
            "INSERT INTO core.dim_school_calendar VALUES (?, ?, ?, ?, ?, ?)",
            [SCHOOL, day, YEAR, term_of(week) if week else None, week, week is not None],
        )
        day += timedelta(days=1)
    con.execute(
        "CREATE TABLE core.fct_attendance_session (pupil_key VARCHAR, school_urn VARCHAR, "
        "session_date DATE, session VARCHAR, is_possible BOOLEAN, is_present BOOLEAN, "
        "is_authorised_absence BOOLEAN, is_unauthorised_absence BOOLEAN, "
        "academic_year VARCHAR, term VARCHAR, school_week BIGINT)"
    )
    # The day mart sums staging's current sessions, which are all the sessions here.
    con.execute(
        "CREATE VIEW staging.stg_canonical_attendance AS "
        "SELECT *, true AS _is_current FROM core.fct_attendance_session"
    )
    con.execute(
        "CREATE TABLE core.fct_exclusion (pupil_key VARCHAR, school_urn VARCHAR, "
        "start_date DATE, category VARCHAR, academic_year VARCHAR)"
    )
    con.execute("CREATE TABLE core.fct_observation (school_urn VARCHAR, observed_on DATE)")
    con.execute(
        "CREATE TABLE core.dim_characteristics_history (school_urn VARCHAR, valid_from DATE)"
    )
    # Summaries stand in for marks only where a pupil has none (empty unless a test adds).
    con.execute(
        "CREATE TABLE core.fct_attendance_summary (pupil_key VARCHAR, school_urn VARCHAR, "
        "period_start DATE, period_end DATE, possible INTEGER, present INTEGER, "
        "approved_activity INTEGER, authorised INTEGER, unauthorised INTEGER, late INTEGER, "
        "from_other_school BOOLEAN)"
    )
    return con


def add_pupil(
    con: duckdb.DuckDBPyConnection,
    pupil: str,
    *,
    unauthorised: Mapping[int, int] | None = None,
    authorised: Mapping[int, int] | None = None,
    weeks: Iterable[int] = range(1, SCHOOL_WEEKS + 1),
) -> None:
    """Ten sessions a school week; the first sessions of a week are the absences asked for
    (unauthorised first), the rest present."""
    con.execute("INSERT INTO core.dim_pupil VALUES (?)", [pupil])
    unauthorised = unauthorised or {}
    authorised = authorised or {}
    wanted = set(weeks)
    rows = []
    for week in sorted(wanted):
        sessions = [
            (week_monday(week) + timedelta(days=d), s) for d in range(5) for s in ("AM", "PM")
        ]
        for i, (day, session) in enumerate(sessions):
            unauth = i < unauthorised.get(week, 0)
            auth = not unauth and i < unauthorised.get(week, 0) + authorised.get(week, 0)
            rows.append(
                (
                    pupil,
                    SCHOOL,
                    day,
                    session,
                    True,
                    not (unauth or auth),
                    auth,
                    unauth,
                    YEAR,
                    term_of(week),
                    week,
                )
            )
    con.executemany(
        "INSERT INTO core.fct_attendance_session VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )


def add_suspension(con: duckdb.DuckDBPyConnection, pupil: str, week: int, day: int = 1) -> None:
    con.execute(
        "INSERT INTO core.fct_exclusion VALUES (?, ?, ?, 'suspension', ?)",
        [pupil, SCHOOL, week_monday(week) + timedelta(days=day), YEAR],
    )


def build_marts(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], rules: Path | None = None
) -> None:
    """Store the trigger rules and materialise the named marts, in the order given, after
    the school's as-of date that they all read."""
    sync_trigger_rules(con, rules)
    models = discover_models()
    engine = DuckDBEngine(con)
    for name in ("marts.school_as_of", "marts.school_year_as_of", *names):
        engine.materialise(models[name])


def sessions_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    """Make a built warehouse's register sessions a table for hand-made rows: core's
    sessions view becomes an empty table of its shape, and staging's sessions a view of
    it, all current (the marts that count sessions read staging's current rows)."""
    con.execute("CREATE TEMP TABLE _sessions AS SELECT * FROM core.fct_attendance_session LIMIT 0")
    con.execute("DROP VIEW core.fct_attendance_session")
    con.execute("CREATE TABLE core.fct_attendance_session AS SELECT * FROM _sessions")
    con.execute("DROP TABLE _sessions")
    con.execute("DROP TABLE staging.stg_canonical_attendance")
    con.execute(
        "CREATE VIEW staging.stg_canonical_attendance AS "
        "SELECT *, true AS _is_current FROM core.fct_attendance_session"
    )
