"""Attendance marts against an independent count over core.fct_attendance_session, and the
edge cases of weeks, windows and "not possible" sessions on hand-built marks."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb
import pytest
from mart_fixtures import (
    SCHOOL,
    YEAR,
    add_pupil,
    build_marts,
    core_connection,
    week_friday,
    week_monday,
)

Key = tuple[str, str, str]
MARTS = (
    "marts.attendance_pupil_day",
    "marts.attendance_pupil_week",
    "marts.attendance_pupil_term",
    "marts.attendance_pupil_year",
)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture(scope="module")
def weekly(built: duckdb.DuckDBPyConnection) -> dict[Key, dict[int, list[int]]]:
    """Per pupil-school-year, per school week: [possible, present, authorised, unauthorised],
    counted in Python from the session marks."""
    counts: dict[Key, dict[int, list[int]]] = defaultdict(dict)
    for pupil, school, year, week, possible, present, auth, unauth in built.execute(
        "SELECT pupil_key, school_urn, academic_year, school_week, is_possible, is_present, "
        "is_authorised_absence, is_unauthorised_absence FROM core.fct_attendance_session "
        "WHERE school_week IS NOT NULL"
    ).fetchall():
        cell = counts[(pupil, school, year)].setdefault(week, [0, 0, 0, 0])
        if possible:
            cell[0] += 1
            cell[1] += bool(present)
            cell[2] += bool(auth)
            cell[3] += bool(unauth)
    return {k: {w: c for w, c in v.items() if c[0] > 0} for k, v in counts.items()}


def test_pupil_weeks_match_an_independent_count_with_rolling_windows(
    built: duckdb.DuckDBPyConnection, weekly: dict[Key, dict[int, list[int]]]
) -> None:
    got = rows(built, "SELECT * FROM marts.attendance_pupil_week")
    assert len(got) == sum(len(w) for w in weekly.values())
    assert len(
        {(r["pupil_key"], r["school_urn"], r["academic_year"], r["school_week"]) for r in got}
    ) == len(got)
    for r in got:
        weeks = weekly[(r["pupil_key"], r["school_urn"], r["academic_year"])]
        week = r["school_week"]
        possible, present, auth, unauth = weeks[week]
        assert (r["possible"], r["present"], r["authorised"], r["unauthorised"]) == (
            possible,
            present,
            auth,
            unauth,
        )
        assert r["attendance_rate"] == pytest.approx(present / possible)
        last10 = [c for w, c in weeks.items() if week - 10 < w <= week]
        assert r["unauthorised_rolling_10_weeks"] == sum(c[3] for c in last10)
        assert r["possible_rolling_10_weeks"] == sum(c[0] for c in last10)
        last4 = [c for w, c in weeks.items() if week - 4 < w <= week]
        assert r["attendance_rate_rolling_4_weeks"] == pytest.approx(
            sum(c[1] for c in last4) / sum(c[0] for c in last4)
        )
        assert r["week_start"] <= r["week_end"]


def test_terms_and_years_add_up_with_dfe_persistent_and_severe_absence(
    built: duckdb.DuckDBPyConnection, weekly: dict[Key, dict[int, list[int]]]
) -> None:
    years = rows(built, "SELECT * FROM marts.attendance_pupil_year")
    assert len(years) == len(weekly)
    for r in years:
        weeks = weekly[(r["pupil_key"], r["school_urn"], r["academic_year"])]
        possible = sum(c[0] for c in weeks.values())
        missed = sum(c[2] + c[3] for c in weeks.values())
        assert r["possible"] == possible
        assert r["absence_rate"] == pytest.approx(missed / possible)
        assert r["persistent_absence"] == (missed / possible >= 0.1)
        assert r["severe_absence"] == (missed / possible >= 0.5)
    terms = rows(built, "SELECT * FROM marts.attendance_pupil_term")
    by_year: dict[Key, int] = defaultdict(int)
    for t in terms:
        by_year[(t["pupil_key"], t["school_urn"], t["academic_year"])] += t["possible"]
        missed = t["authorised"] + t["unauthorised"]
        assert t["persistent_absence"] == (missed / t["possible"] >= 0.1)
        assert t["term_start"] <= t["term_end"]
    assert by_year == {
        (r["pupil_key"], r["school_urn"], r["academic_year"]): r["possible"] for r in years
    }
    assert {t["term"] for t in terms} == {"autumn", "spring", "summer"}
    assert any(r["persistent_absence"] for r in years)


def test_falling_attendance_compares_the_last_six_weeks_with_the_first_half(
    built: duckdb.DuckDBPyConnection, weekly: dict[Key, dict[int, list[int]]]
) -> None:
    # Per academic year: the calendar also holds the standard years around the data's.
    last_week = {
        (school, year): week
        for school, year, week in built.execute(
            "SELECT school_urn, academic_year, max(school_week) FROM core.dim_school_calendar "
            "WHERE is_school_day GROUP BY 1, 2"
        ).fetchall()
    }
    for r in rows(built, "SELECT * FROM marts.attendance_pupil_year"):
        weeks = weekly[(r["pupil_key"], r["school_urn"], r["academic_year"])]
        end = last_week[(r["school_urn"], r["academic_year"])]
        recent = [c for w, c in weeks.items() if w > end - 6]
        first_half = [c for w, c in weeks.items() if 2 * w <= end]
        if recent:
            expected = sum(c[1] for c in recent) / sum(c[0] for c in recent)
            assert r["attendance_rate_last_6_weeks"] == pytest.approx(expected)
        else:
            assert r["attendance_rate_last_6_weeks"] is None
        if first_half:
            expected = sum(c[1] for c in first_half) / sum(c[0] for c in first_half)
            assert r["attendance_rate_first_half"] == pytest.approx(expected)
        assert r["is_latest_year"] is True


def test_windows_count_school_weeks_and_skip_sessions_that_are_not_possible() -> None:
    con = core_connection()
    # Unauthorised absence in week 1 and week 10; nothing possible in week 5 (the pupil's
    # marks that week are code X, not possible), which still uses up a school week.
    add_pupil(con, "p", unauthorised={1: 3, 10: 2}, weeks=[w for w in range(1, 12) if w != 5])
    con.execute(
        "INSERT INTO core.fct_attendance_session VALUES "
        "('p', ?, ?, 'AM', false, false, false, false, ?, 'autumn', 5)",
        [SCHOOL, week_monday(5), YEAR],
    )
    build_marts(con, MARTS)
    got = {
        r["school_week"]: r
        for r in rows(con, "SELECT * FROM marts.attendance_pupil_week WHERE pupil_key = 'p'")
    }
    assert sorted(got) == [w for w in range(1, 12) if w != 5]
    # Week 10's window is school weeks 1..10 across the half-term holiday: 3 + 2.
    assert got[10]["unauthorised_rolling_10_weeks"] == 5
    assert got[10]["possible_rolling_10_weeks"] == 9 * 10
    # Week 11's window starts at week 2.
    assert got[11]["unauthorised_rolling_10_weeks"] == 2
    assert (got[8]["week_start"], got[8]["week_end"]) == (week_monday(8), week_friday(8))
    assert got[6]["attendance_rate_rolling_4_weeks"] == pytest.approx(1.0)
    year = rows(con, "SELECT * FROM marts.attendance_pupil_year")[0]
    assert year["possible"] == 10 * 10
    assert year["is_latest_year"] is True
    # "Now" is the school's as-of date (its last session, in week 11): the year is cut there.
    [now] = rows(con, "SELECT * FROM marts.school_year_as_of")
    assert (now["last_week"], now["is_latest_year"]) == (11, True)
    assert rows(con, "SELECT as_of_date FROM marts.school_as_of")[0]["as_of_date"] == week_friday(
        11
    )
    # The year is cut at the school's week 11 (its as-of date): first half is weeks 1..5.
    assert year["attendance_rate_first_half"] == pytest.approx(37 / 40)
    assert year["attendance_rate_last_6_weeks"] == pytest.approx(58 / 60)
    term = rows(con, "SELECT * FROM marts.attendance_pupil_term")[0]
    assert (term["term"], term["term_start"], term["term_end"]) == (
        "autumn",
        week_monday(1),
        week_friday(13),
    )
    assert term["persistent_absence"] is False
