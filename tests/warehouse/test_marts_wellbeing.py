"""Wellbeing marts: daily and weekly mood, engagement and regulation per pupil, checked
against a plain-Python computation over core.fct_observation and on hand-built days."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date
from typing import Any

import duckdb
import pytest

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models
from empowered.warehouse.runner import run_models

SCORES = ("mood", "engagement", "regulation")


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def summary(values: list[int | None]) -> tuple[int, float | None, float | None]:
    rated = [v for v in values if v is not None]
    mean = statistics.fmean(rated) if rated else None
    sd = statistics.stdev(rated) if len(rated) >= 2 else None
    return len(rated), mean, sd


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and a == pytest.approx(b, rel=1e-9, abs=1e-12)
    )


def test_pupil_day_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in rows(built, "SELECT * FROM core.fct_observation"):
        groups[(o["pupil_key"], o["school_urn"], o["observed_on"])].append(o)
    mart = {
        (r["pupil_key"], r["school_urn"], r["observed_on"]): r
        for r in rows(built, "SELECT * FROM marts.wellbeing_pupil_day")
    }
    assert mart.keys() == groups.keys()
    for key, obs in groups.items():
        row = mart[key]
        assert row["observations"] == len(obs)
        for column in ("academic_year", "term", "half_term", "school_week", "iso_weekday"):
            assert row[column] == obs[0][column]
        for score in SCORES:
            n, mean, sd = summary([o[score] for o in obs])
            assert row[f"{score}_observations"] == n
            assert close(row[f"{score}_mean"], mean), (key, score)
            assert close(row[f"{score}_sd"], sd), (key, score)
        moods = [o["mood"] for o in obs if o["mood"] is not None]
        assert row["mood_min"] == (min(moods) if moods else None)
        assert row["mood_max"] == (max(moods) if moods else None)


def test_pupil_week_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    week_start: dict[tuple[Any, ...], date] = {}
    for school, year, week, day in built.execute(
        "SELECT school_urn, academic_year, school_week, date_day FROM core.dim_school_calendar "
        "WHERE is_school_day"
    ).fetchall():
        key = (school, year, week)
        week_start[key] = min(day, week_start.get(key, day))
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in rows(built, "SELECT * FROM core.fct_observation WHERE school_week IS NOT NULL"):
        groups[(o["pupil_key"], o["school_urn"], o["academic_year"], o["school_week"])].append(o)
    mart = {
        (r["pupil_key"], r["school_urn"], r["academic_year"], r["school_week"]): r
        for r in rows(built, "SELECT * FROM marts.wellbeing_pupil_week")
    }
    assert mart.keys() == groups.keys()
    for key, obs in groups.items():
        row = mart[key]
        assert row["week_start"] == week_start[key[1:]]
        assert row["days_observed"] == len({o["observed_on"] for o in obs})
        assert row["observations"] == len(obs)
        for score in ("mood", "engagement"):
            n, mean, sd = summary([o[score] for o in obs])
            assert row[f"{score}_observations"] == n
            assert close(row[f"{score}_mean"], mean)
            assert close(row[f"{score}_sd"], sd)
        assert close(row["regulation_mean"], summary([o["regulation"] for o in obs])[1])


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("marts.wellbeing_pupil_day", "pupil_key, school_urn, observed_on"),
        ("marts.wellbeing_pupil_week", "pupil_key, school_urn, academic_year, school_week"),
    ],
)
def test_grain(built: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    total, distinct = built.execute(
        f"SELECT count(*), count(DISTINCT ({key})) FROM {table}"
    ).fetchone()  # type: ignore[misc]
    assert total == distinct > 0


def test_hand_built_days(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    school, monday = con.execute(
        "SELECT school_urn, min(date_day) FROM core.dim_school_calendar "
        "WHERE is_school_day AND iso_weekday = 1 GROUP BY school_urn ORDER BY school_urn LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    [(pupil,)] = con.execute(
        "SELECT min(pupil_key) FROM core.fct_enrolment WHERE school_urn = ?", [school]
    ).fetchall()
    [(tuesday,)] = con.execute(
        "SELECT min(date_day) FROM core.dim_school_calendar "
        "WHERE school_urn = ? AND date_day > ? AND is_school_day",
        [school, monday],
    ).fetchall()
    con.execute("DELETE FROM core.fct_observation")
    observations = [
        # Monday: one mood rating and one check-in with no mood: sd needs two ratings.
        ("a", monday, 3, 4, None),
        ("b", monday, None, 2, None),
        # Tuesday: moods 2 and 4 (sample sd sqrt(2)).
        ("c", tuesday, 2, None, 5),
        ("d", tuesday, 4, None, 3),
    ]
    for obs_id, day, mood, engagement, regulation in observations:
        con.execute(
            "INSERT INTO core.fct_observation (observation_id, pupil_key, "
            "school_urn, observed_on, observed_minute, academic_year, term, half_term, "
            "school_week, iso_weekday, is_school_day, mood, engagement, regulation) "
            "SELECT ?, ?, school_urn, date_day, 600, academic_year, term, half_term, "
            "school_week, iso_weekday, is_school_day, ?, ?, ? FROM core.dim_school_calendar "
            "WHERE school_urn = ? AND date_day = ?",
            [obs_id, pupil, mood, engagement, regulation, school, day],
        )
    models = discover_models()
    result = run_models(
        DuckDBEngine(con),
        models,
        con,
        select={"marts.wellbeing_pupil_day", "marts.wellbeing_pupil_week"},
    )
    assert result.ok, [r.message for r in result.failures()]
    day_rows = rows(con, "SELECT * FROM marts.wellbeing_pupil_day ORDER BY observed_on")
    assert [(r["observations"], r["mood_observations"], r["mood_sd"]) for r in day_rows] == [
        (2, 1, None),
        (2, 2, pytest.approx(2**0.5)),
    ]
    assert day_rows[0]["engagement_sd"] == pytest.approx(2**0.5)
    assert day_rows[0]["regulation_observations"] == 0
    assert day_rows[0]["regulation_mean"] is None
    assert (day_rows[1]["mood_min"], day_rows[1]["mood_max"]) == (2, 4)
    week = rows(con, "SELECT * FROM marts.wellbeing_pupil_week")
    if day_rows[0]["school_week"] == day_rows[1]["school_week"]:
        [w] = week
        assert (w["days_observed"], w["observations"], w["mood_observations"]) == (2, 4, 3)
        assert w["week_start"] == monday
        assert w["mood_mean"] == pytest.approx(3.0)
        assert w["mood_sd"] == pytest.approx(1.0)
    else:  # a closure or holiday between them: the days fall in different school weeks
        assert [w["days_observed"] for w in week] == [1, 1]
