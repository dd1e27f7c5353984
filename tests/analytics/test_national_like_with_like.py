"""A school's register against national figures compares like with like (issue 15): a
special school's EHC share (96%) was set against the all-schools figure (6%)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from empowered.analytics.register import compare_with_national
from empowered.reference.loaded_figures import load_national_figures


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
        '"group", geography_level, geography_code, geography_name, school_type, value, '
        "unit, source, effective_from) values ('sen', '2025/26', 'January 2026 census', "
        "'pct_ehc_plan', 'all', 'national', 'E92000001', 'England', 'special', 98.0, "
        "'percent', 'a test source', date '2026-01-15')"
    )
    special = compare_with_national(con, school_urn=_school(con, True))
    ehc = next(r for r in special.rows if r["measure"] == "EHC plan")
    assert ehc["national"] == 98.0 and ehc["national_period"] == "January 2026 census"
    assert "in special schools in England (January 2026 census)" in special.summary
    mainstream = compare_with_national(con, school_urn=_school(con, False))
    ehc = next(r for r in mainstream.rows if r["measure"] == "EHC plan")
    assert ehc["national"] != 98.0 and ehc["national"] is not None


FILES = Path(__file__).parents[1] / "reference" / "dfe_files"


def _in_enfield(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The synthetic trust's made-up LA code, made Enfield's (308), which the files name."""
    con.execute("update core.dim_school set la_code = '308'")
    return con


def test_the_region_and_local_authority_are_shown_only_once_loaded(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    """The school's LA (its 3-digit code) finds its region through the LA rows of the
    loaded file; before any load there are no such figures."""
    con = _in_enfield(warehouse_copy)
    mainstream = _school(con, False)
    assert compare_with_national(con, school_urn=mainstream).areas == ()
    load_national_figures(con, [FILES / "sen_phase_type.csv"], keep={"regional": None, "la": None})
    found = compare_with_national(con, school_urn=mainstream)
    assert [a.label for a in found.areas] == ["London (region)", "Enfield (local authority)"]
    ehc = next(r for r in found.rows if r["measure"] == "EHC plan")
    assert ehc["areas"] == (pytest.approx(5.384615385), 6.0)
    assert "January 2025 census" in found.areas[0].sources
    assert "Special educational needs in England" in found.areas[0].sources
    # The whole trust has no one region.
    assert compare_with_national(con, school_urn=None).areas == ()


def test_a_special_school_is_compared_with_special_schools_from_a_loaded_file(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = _in_enfield(warehouse_copy)
    load_national_figures(con, [FILES / "sen_phase_type.csv"], keep={"regional": None, "la": None})
    special = compare_with_national(con, school_urn=_school(con, True))
    assert special.compared_with == "in special schools in England"
    ehc = next(r for r in special.rows if r["measure"] == "EHC plan")
    assert ehc["national"] == 98.0 and ehc["national_period"] == "January 2025 census"
    assert ehc["areas"] == (97.5, pytest.approx(97.77777778))
    assert [a.label for a in special.areas] == [
        "London (region, special schools)",
        "Enfield (local authority, special schools)",
    ]
    support = next(r for r in special.rows if r["measure"] == "SEN support")
    # London's special-school SEN support figure is 'x' in the file: not available, not 0.
    assert support["areas"][0] is None
