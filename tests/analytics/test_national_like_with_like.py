"""A school's register against national figures compares like with like (issue 15): a
special school's EHC share (96%) was set against the all-schools figure (6%)."""

from __future__ import annotations

import duckdb

from empowered.analytics.register import compare_with_national


def _school(con: duckdb.DuckDBPyConnection, special: bool) -> str:
    row = con.execute(
        "select school_urn from core.dim_school where is_special_school = ? order by 1 limit 1",
        [special],
    ).fetchone()
    assert row, "the small trust has a special and a mainstream school"
    return str(row[0])


def test_a_special_school_is_not_compared_with_all_schools(
    built: duckdb.DuckDBPyConnection,
) -> None:
    comparison = compare_with_national(built, school_urn=_school(built, True))
    assert comparison.rows and all(r["national"] is None for r in comparison.rows)
    assert "nationally" not in comparison.summary
    assert "special school" in comparison.summary


def test_a_special_school_is_compared_with_special_schools_when_that_figure_is_loaded(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    con.execute(
        "insert into reference.national_figure (topic, academic_year, period, measure, "
        "\"group\", value, unit, source, effective_from) values ('sen', '2025/26', "
        "'January 2026 census', 'pct_ehc_plan', 'special_school', 98.0, 'percent', "
        "'a test source', date '2026-01-15')"
    )
    special = compare_with_national(con, school_urn=_school(con, True))
    ehc = next(r for r in special.rows if r["measure"] == "EHC plan")
    assert ehc["national"] == 98.0 and ehc["national_period"] == "January 2026 census"
    assert "in special schools in England (January 2026 census)" in special.summary
    mainstream = compare_with_national(con, school_urn=_school(con, False))
    ehc = next(r for r in mainstream.rows if r["measure"] == "EHC plan")
    assert ehc["national"] != 98.0 and ehc["national"] is not None
