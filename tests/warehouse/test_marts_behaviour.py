"""Behaviour marts: the ABC incident with its context, and incidents per hour in school by
context, checked against a plain-Python computation over core and on a hand-built week."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest
from mart_fixtures import sessions_by_hand

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models
from empowered.warehouse.runner import run_models

TIMETABLE = ("time_slot", "period", "weekday")
SHARED = ("activity", "setting")


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@dataclass
class SchoolDay:
    first: int
    last: int
    lunch_end: int
    period_at: dict[int, str]  # minute -> period code, for minutes in school hours

    def session(self, minute: int) -> str:
        return "AM" if minute < self.lunch_end else "PM"

    def in_hours(self, minute: int | None) -> bool:
        return minute is not None and self.first <= minute < self.last


def school_days(con: duckdb.DuckDBPyConnection) -> dict[str, SchoolDay]:
    periods: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in rows(con, "SELECT * FROM core.dim_period"):
        periods[p["school_urn"]].append(p)
    days = {}
    for school, ps in periods.items():
        first = min(p["start_minute"] for p in ps)
        last = max(p["end_minute"] for p in ps)
        lunch = [p["end_minute"] for p in ps if p["period_code"] == "LUN"]
        period_at = {}
        for minute in range(first, last):
            covering = [p for p in ps if p["start_minute"] <= minute < p["end_minute"]]
            # Overlapping periods: the one that started last wins (as the timetable does).
            covering.sort(key=lambda p: (-p["start_minute"], p["period_code"]))
            period_at[minute] = covering[0]["period_code"] if covering else "between_periods"
        days[school] = SchoolDay(first, last, lunch[0] if lunch else 720, period_at)
    return days


def expected_context_rates(con: duckdb.DuckDBPyConnection) -> dict[tuple[Any, ...], dict[str, Any]]:
    days = school_days(con)
    # Minutes of each school's sessions in each timetable context.
    session_minutes: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    for school, day in days.items():
        for minute in range(day.first, day.last):
            counter = session_minutes[(school, day.session(minute))]
            counter[("time_slot", str(minute // 30))] += 1
            counter[("period", day.period_at[minute])] += 1
            counter[("total", "")] += 1
    exposure: dict[tuple[Any, ...], float] = defaultdict(float)
    present_minutes: Counter[tuple[Any, ...]] = Counter()
    for a in rows(
        con,
        "SELECT pupil_key, school_urn, academic_year, session_date, session "
        "FROM core.fct_attendance_session WHERE is_present AND academic_year IS NOT NULL",
    ):
        pupil_year = (a["pupil_key"], a["school_urn"], a["academic_year"])
        minutes = session_minutes.get((a["school_urn"], a["session"]), Counter())
        for (dimension, value), n in minutes.items():
            if dimension == "total":
                present_minutes[pupil_year] += n
                exposure[(*pupil_year, "weekday", str(a["session_date"].isoweekday()))] += n
            else:
                exposure[(*pupil_year, dimension, value)] += n
    counts: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    totals: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    facts = [
        (
            "incidents",
            "SELECT *, occurred_minute AS minute, occurred_on AS day "
            "FROM core.fct_behaviour_incident WHERE academic_year IS NOT NULL",
        ),
        (
            "observations",
            "SELECT *, observed_minute AS minute, observed_on AS day "
            "FROM core.fct_observation WHERE academic_year IS NOT NULL",
        ),
    ]
    for kind, sql in facts:
        for e in rows(con, sql):
            pupil_year = (e["pupil_key"], e["school_urn"], e["academic_year"])
            totals[pupil_year][kind] += 1
            counts[(*pupil_year, "activity", e["activity"] or "not_recorded")][kind] += 1
            counts[(*pupil_year, "setting", e["setting"] or "not_recorded")][kind] += 1
            day = days.get(e["school_urn"])
            if day is not None and day.in_hours(e["minute"]):
                minute = e["minute"]
                counts[(*pupil_year, "time_slot", str(minute // 30))][kind] += 1
                counts[(*pupil_year, "period", day.period_at[minute])][kind] += 1
                counts[(*pupil_year, "weekday", str(e["day"].isoweekday()))][kind] += 1
    expected = {}
    for key in set(exposure) | set(counts):
        pupil_year, dimension = key[:3], key[3]
        total_obs = totals[pupil_year]["observations"]
        if dimension in SHARED:
            hours = (
                present_minutes[pupil_year] * counts[key]["observations"] / total_obs / 60
                if total_obs
                else None
            )
        else:
            hours = exposure.get(key, 0) / 60
        expected[key] = {
            "incidents": counts[key]["incidents"],
            "observations": counts[key]["observations"],
            "exposure_hours": hours,
            "exposure_method": "observation_share" if dimension in SHARED else "timetable",
            "total_incidents": totals[pupil_year]["incidents"],
            "total_observations": total_obs,
            "total_exposure_hours": present_minutes[pupil_year] / 60,
        }
    return expected


def test_context_rate_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    expected = expected_context_rates(built)
    mart = {
        (
            r["pupil_key"],
            r["school_urn"],
            r["academic_year"],
            r["context_dimension"],
            r["context_value"],
        ): r
        for r in rows(built, "SELECT * FROM marts.behaviour_context_rate")
    }
    assert mart.keys() == expected.keys()
    for key, want in expected.items():
        row = mart[key]
        for column in (
            "incidents",
            "observations",
            "exposure_method",
            "total_incidents",
            "total_observations",
        ):
            assert row[column] == want[column], (key, column)
        for column in ("exposure_hours", "total_exposure_hours"):
            assert row[column] == pytest.approx(want[column], rel=1e-9), (key, column)
        hours = want["exposure_hours"]
        if hours:
            assert row["rate_per_hour"] == pytest.approx(want["incidents"] / hours, rel=1e-9)
        else:
            assert row["rate_per_hour"] is None
        assert row["context_label"], key


def test_context_rate_grain_and_zero_incident_contexts(built: duckdb.DuckDBPyConnection) -> None:
    total, distinct, zero = built.execute(
        "SELECT count(*), count(DISTINCT (pupil_key, school_urn, academic_year, "
        "context_dimension, context_value)), "
        "sum(CASE WHEN incidents = 0 AND exposure_hours > 0 THEN 1 ELSE 0 END) "
        "FROM marts.behaviour_context_rate"
    ).fetchone()  # type: ignore[misc]
    assert total == distinct > 0
    assert zero > 0  # contexts the pupil was in without an incident are rows too


def test_context_rate_adds_up(built: duckdb.DuckDBPyConnection) -> None:
    days = school_days(built)
    out_of_hours: Counter[tuple[Any, ...]] = Counter()
    for i in rows(
        built, "SELECT * FROM core.fct_behaviour_incident WHERE academic_year IS NOT NULL"
    ):
        day = days.get(i["school_urn"])
        if day is None or not day.in_hours(i["occurred_minute"]):
            out_of_hours[(i["pupil_key"], i["school_urn"], i["academic_year"])] += 1
    sums = rows(
        built,
        "SELECT pupil_key, school_urn, academic_year, context_dimension, "
        "sum(exposure_hours) AS exposure, max(total_exposure_hours) AS total_exposure, "
        "sum(incidents) AS incidents, max(total_incidents) AS total_incidents, "
        "count(exposure_hours) AS with_exposure, max(total_observations) AS total_observations "
        "FROM marts.behaviour_context_rate GROUP BY ALL",
    )
    assert {s["context_dimension"] for s in sums} == set(TIMETABLE + SHARED)
    for s in sums:
        pupil_year = (s["pupil_key"], s["school_urn"], s["academic_year"])
        if s["context_dimension"] in SHARED:
            assert s["incidents"] == s["total_incidents"]
            if s["total_observations"] == 0:
                assert s["with_exposure"] == 0  # nothing to share the hours by
                continue
        else:
            # Incidents at an unknown time or outside the school day have no timetable slot.
            assert s["incidents"] == s["total_incidents"] - out_of_hours[pupil_year]
        assert s["exposure"] == pytest.approx(s["total_exposure"], rel=1e-9, abs=1e-9)


def test_incident_has_its_context_spelled_out(built: duckdb.DuckDBPyConnection) -> None:
    incidents = {
        r["incident_key"]: r for r in rows(built, "SELECT * FROM core.fct_behaviour_incident")
    }
    mart = rows(built, "SELECT * FROM marts.behaviour_incident")
    assert len(mart) == len(incidents)
    assert {r["incident_key"] for r in mart} == incidents.keys()
    activities = {r["activity"]: r for r in rows(built, "SELECT * FROM core.dim_activity")}
    settings = {r["setting"]: r["label"] for r in rows(built, "SELECT * FROM core.dim_setting")}
    periods = {
        (r["school_urn"], r["period_code"]): r["period_name"]
        for r in rows(built, "SELECT * FROM core.dim_period")
    }
    weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for r in mart:
        core = incidents[r["incident_key"]]
        for column in (
            "pupil_key",
            "school_urn",
            "occurred_on",
            "occurred_minute",
            "time_slot",
            "period_code",
            "academic_year",
            "term",
            "school_week",
            "activity",
            "setting",
            "staff_role",
            "antecedent",
            "behaviour",
            "consequence",
            "intensity",
            "duration_minutes",
        ):
            assert r[column] == core[column], column
        assert r["iso_weekday"] == r["occurred_on"].isoweekday()
        assert r["weekday_name"] == weekdays[r["iso_weekday"] - 1]
        assert r["time_slot_label"] == f"{r['time_slot'] // 2:02d}:{r['time_slot'] % 2 * 30:02d}"
        assert r["period_name"] == periods.get((r["school_urn"], r["period_code"]))
        assert r["activity_label"] == activities[r["activity"]]["label"]
        assert r["activity_category"] == activities[r["activity"]]["category"]
        assert r["setting_label"] == settings[r["setting"]]
    # Identity never enters a mart.
    assert not {"upn", "forename", "surname", "date_of_birth"} & set(mart[0])


def test_hand_built_week(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    days = school_days(con)
    school = sorted(s for s, d in days.items() if d.lunch_end != 720)[0]
    day = days[school]
    # The first week of the data's year (the calendar also holds the standard years).
    [(year,)] = con.execute(
        "SELECT max(academic_year) FROM core.fct_attendance_session WHERE school_urn = ?",
        [school],
    ).fetchall()
    monday, tuesday = (
        d
        for (d,) in con.execute(
            "SELECT date_day FROM core.dim_school_calendar WHERE school_urn = ? AND is_school_day "
            "AND academic_year = ? AND iso_weekday IN (1, 2) AND school_week = (SELECT "
            "min(school_week) FROM core.dim_school_calendar WHERE school_urn = ? "
            "AND academic_year = ? AND is_school_day AND iso_weekday = 1) ORDER BY date_day",
            [school, year, school, year],
        ).fetchall()
    )
    [(pupil,)] = con.execute(
        "SELECT min(pupil_key) FROM core.fct_enrolment WHERE school_urn = ?", [school]
    ).fetchall()
    for table in ("fct_behaviour_incident", "fct_observation"):
        con.execute(f"DELETE FROM core.{table}")
    sessions_by_hand(con)
    # Present Monday morning and Tuesday afternoon only.
    for session_day, session, present in [
        (monday, "AM", True),
        (monday, "PM", False),
        (tuesday, "AM", False),
        (tuesday, "PM", True),
    ]:
        con.execute(
            "INSERT INTO core.fct_attendance_session (pupil_key, school_urn, session_date, "
            "session, code, code_category, is_possible, is_present, academic_year, term, "
            "school_week, is_school_day) SELECT ?, school_urn, date_day, ?, ?, 'x', true, ?, "
            "academic_year, term, school_week, is_school_day FROM core.dim_school_calendar "
            "WHERE school_urn = ? AND date_day = ?",
            [pupil, session, "/" if present else "I", present, school, session_day],
        )
    context = (
        "FROM core.dim_school_calendar AS c JOIN core.dim_school_minute AS m "
        "ON m.school_urn = c.school_urn AND m.minute_of_day = ? "
        "WHERE c.school_urn = ? AND c.date_day = ?"
    )
    incidents = [
        ("i1", monday, day.first + 5, "maths"),  # in the first minutes of the day
        ("i2", monday, day.last + 30, None),  # after the school day, activity not recorded
    ]
    for incident_id, on, minute, activity in incidents:
        con.execute(
            "INSERT INTO core.fct_behaviour_incident (incident_key, incident_id, pupil_key, "
            "school_urn, occurred_on, occurred_minute, time_slot, period_code, academic_year, "
            "term, school_week, iso_weekday, is_school_day, activity, behaviour) "
            "SELECT ?, ?, ?, c.school_urn, c.date_day, ?, m.time_slot, m.period_code, "
            "c.academic_year, c.term, c.school_week, c.iso_weekday, c.is_school_day, ?, 'x' "
            + context,
            [f"{school}:{incident_id}", incident_id, pupil, minute, activity, minute, school, on],
        )
    observations = [
        ("o1", monday, day.lunch_end - 1, "lunch"),  # the last morning minute
        ("o2", tuesday, day.lunch_end, "maths"),  # the first afternoon minute
    ]
    for obs_id, on, minute, activity in observations:
        con.execute(
            "INSERT INTO core.fct_observation (observation_id, pupil_key, "
            "school_urn, observed_on, observed_minute, time_slot, period_code, academic_year, "
            "term, school_week, iso_weekday, is_school_day, activity, mood) "
            "SELECT ?, ?, c.school_urn, c.date_day, ?, m.time_slot, m.period_code, "
            "c.academic_year, c.term, c.school_week, c.iso_weekday, c.is_school_day, ?, 3 "
            + context,
            [obs_id, pupil, minute, activity, minute, school, on],
        )
    # The rate is put together from its exposure and events halves: all three are rebuilt.
    halves = {"marts.behaviour_context_exposure", "marts.behaviour_context_events"}
    result = run_models(
        DuckDBEngine(con), discover_models(), con, select={"marts.behaviour_context_rate"} | halves
    )
    assert result.ok, [r.message for r in result.failures()]
    got = {
        (r["context_dimension"], r["context_value"]): r
        for r in rows(con, "SELECT * FROM marts.behaviour_context_rate")
    }
    total_hours = (day.last - day.first) / 60
    for r in got.values():
        assert (r["total_incidents"], r["total_observations"]) == (2, 2)
        assert r["total_exposure_hours"] == pytest.approx(total_hours)
    assert got[("weekday", "1")]["exposure_hours"] == pytest.approx(
        (day.lunch_end - day.first) / 60
    )
    assert got[("weekday", "2")]["exposure_hours"] == pytest.approx((day.last - day.lunch_end) / 60)
    assert got[("weekday", "1")]["incidents"] == 1
    assert got[("weekday", "2")]["incidents"] == 0  # a zero-incident context is still a row
    assert got[("weekday", "2")]["rate_per_hour"] == 0
    lunch = got[("period", "LUN")]
    assert lunch["observations"] == 1 and lunch["context_label"]
    # Lunch ends the morning session, so all of it was seen on Monday morning.
    assert lunch["exposure_hours"] * 60 == pytest.approx(
        sum(1 for m, p in day.period_at.items() if p == "LUN")
    )
    first_slot = got[("time_slot", str(day.first // 30))]
    assert first_slot["incidents"] == 1
    assert first_slot["rate_per_hour"] == pytest.approx(1 / first_slot["exposure_hours"])
    # Shares of check-ins: half lunch, half maths; the out-of-hours incident with no
    # activity sits in 'not_recorded' with no check-ins, so no exposure and no rate.
    assert got[("activity", "maths")]["exposure_hours"] == pytest.approx(total_hours / 2)
    assert got[("activity", "lunch")]["exposure_hours"] == pytest.approx(total_hours / 2)
    not_recorded = got[("activity", "not_recorded")]
    assert (not_recorded["incidents"], not_recorded["exposure_hours"]) == (1, 0)
    assert not_recorded["rate_per_hour"] is None
    assert not_recorded["context_label"] == "Not recorded"
    assert sum(r["incidents"] for (d, _), r in got.items() if d == "time_slot") == 1
