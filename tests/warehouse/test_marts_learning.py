"""Learning marts: engagement by activity and term, and each assessment result beside the
pupil's earlier ones, checked against plain Python and on hand-built results."""

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


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def mean(values: list[int | None]) -> float | None:
    rated = [v for v in values if v is not None]
    return statistics.fmean(rated) if rated else None


def test_engagement_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    activities = {r["activity"]: r for r in rows(built, "SELECT * FROM core.dim_activity")}
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in rows(built, "SELECT * FROM core.fct_observation WHERE activity IS NOT NULL"):
        key = (o["pupil_key"], o["school_urn"], o["academic_year"], o["term"], o["activity"])
        groups[key].append(o)
    mart = {
        (r["pupil_key"], r["school_urn"], r["academic_year"], r["term"], r["activity"]): r
        for r in rows(built, "SELECT * FROM marts.learning_engagement")
    }
    assert mart.keys() == groups.keys()
    categories = set()
    for key, obs in groups.items():
        row = mart[key]
        engagement = [o["engagement"] for o in obs if o["engagement"] is not None]
        assert row["observations"] == len(obs)
        assert row["engagement_observations"] == len(engagement)
        assert row["engagement_mean"] == pytest.approx(mean(engagement), rel=1e-9)
        if len(engagement) >= 2:
            assert row["engagement_sd"] == pytest.approx(statistics.stdev(engagement), rel=1e-9)
        else:
            assert row["engagement_sd"] is None
        assert row["mood_mean"] == pytest.approx(mean([o["mood"] for o in obs]), rel=1e-9)
        assert row["regulation_mean"] == pytest.approx(
            mean([o["regulation"] for o in obs]), rel=1e-9
        )
        assert row["activity_label"] == activities[key[-1]]["label"]
        assert row["activity_category"] == activities[key[-1]]["category"]
        categories.add(row["activity_category"])
    # Subject lessons and unstructured time are told apart.
    assert {"lesson", "unstructured"} <= categories


def test_assessment_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for a in rows(built, "SELECT * FROM core.fct_assessment"):
        series[(a["pupil_key"], a["subject"], a["assessment"], a["measure"])].append(a)
    mart = {
        (
            r["pupil_key"],
            r["school_urn"],
            r["assessed_on"],
            r["subject"],
            r["assessment"],
            r["measure"],
        ): r
        for r in rows(built, "SELECT * FROM marts.learning_assessment")
    }
    assert len(mart) == sum(len(s) for s in series.values())
    repeated = 0
    for results in series.values():
        results.sort(key=lambda a: (a["assessed_on"], a["school_urn"]))
        for n, a in enumerate(results, start=1):
            row = mart[
                (
                    a["pupil_key"],
                    a["school_urn"],
                    a["assessed_on"],
                    a["subject"],
                    a["assessment"],
                    a["measure"],
                )
            ]
            previous = results[n - 2] if n > 1 else None
            assert row["result_number"] == n
            assert row["value"] == a["value"]
            assert row["previous_value"] == (previous["value"] if previous else None)
            assert row["previous_assessed_on"] == (previous["assessed_on"] if previous else None)
            assert row["change_since_previous"] == (
                pytest.approx(a["value"] - previous["value"]) if previous else None
            )
            assert row["first_value"] == results[0]["value"]
            assert row["change_since_first"] == pytest.approx(a["value"] - results[0]["value"])
            repeated += n > 1
    assert repeated > 0  # the trust has pupils assessed more than once


def test_assessment_grain(built: duckdb.DuckDBPyConnection) -> None:
    core_rows, mart_rows, distinct = built.execute(
        "SELECT (SELECT count(*) FROM core.fct_assessment), count(*), count(DISTINCT "
        "(pupil_key, school_urn, assessed_on, subject, assessment, measure)) "
        "FROM marts.learning_assessment"
    ).fetchone()  # type: ignore[misc]
    assert core_rows == mart_rows == distinct > 0


def test_hand_built_results(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    schools = [
        s for (s,) in con.execute("SELECT school_urn FROM core.dim_school ORDER BY 1").fetchall()
    ]
    [(pupil,)] = con.execute("SELECT min(pupil_key) FROM core.dim_pupil").fetchall()
    con.execute("DELETE FROM core.fct_assessment")
    results = [
        # The pupil moved school: same day at both schools; school_urn breaks the tie.
        (schools[1], date(2025, 12, 1), "maths", "standardised_score", 90.0),
        (schools[0], date(2025, 12, 1), "maths", "standardised_score", 95.0),
        (schools[0], date(2025, 10, 1), "maths", "standardised_score", 85.0),
        (schools[1], date(2026, 3, 1), "maths", "standardised_score", 99.0),
        # Another measure of the same subject is a separate series.
        (schools[0], date(2025, 11, 1), "maths", "raw_score", 30.0),
    ]
    for school, on, subject, measure, value in results:
        con.execute(
            "INSERT INTO core.fct_assessment (pupil_key, school_urn, assessed_on, subject, "
            "assessment, measure, value) VALUES (?, ?, ?, ?, 'termly test', ?, ?)",
            [pupil, school, on, subject, measure, value],
        )
    result = run_models(
        DuckDBEngine(con), discover_models(), con, select={"marts.learning_assessment"}
    )
    assert result.ok, [r.message for r in result.failures()]
    got = rows(
        con,
        "SELECT measure, value, result_number, previous_value, change_since_previous, "
        "first_value, change_since_first FROM marts.learning_assessment "
        "ORDER BY measure, result_number",
    )
    assert got == [
        {
            "measure": "raw_score",
            "value": 30.0,
            "result_number": 1,
            "previous_value": None,
            "change_since_previous": None,
            "first_value": 30.0,
            "change_since_first": 0.0,
        },
        {
            "measure": "standardised_score",
            "value": 85.0,
            "result_number": 1,
            "previous_value": None,
            "change_since_previous": None,
            "first_value": 85.0,
            "change_since_first": 0.0,
        },
        {
            "measure": "standardised_score",
            "value": 95.0,
            "result_number": 2,
            "previous_value": 85.0,
            "change_since_previous": 10.0,
            "first_value": 85.0,
            "change_since_first": 10.0,
        },
        {
            "measure": "standardised_score",
            "value": 90.0,
            "result_number": 3,
            "previous_value": 95.0,
            "change_since_previous": -5.0,
            "first_value": 85.0,
            "change_since_first": 5.0,
        },
        {
            "measure": "standardised_score",
            "value": 99.0,
            "result_number": 4,
            "previous_value": 90.0,
            "change_since_previous": 9.0,
            "first_value": 85.0,
            "change_since_first": 14.0,
        },
    ]
