"""Loading the DfE's published CSV files (issue 15, item 5): England, a region or a local
authority, from files in the DfE's own layout, with the DfE's symbols for a figure not given
read as not available (never zero), and a bad row stopping the load with nothing lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.reference import load_reference
from empowered.reference.dfe_csv import DfEFileError
from empowered.reference.loaded_figures import FIGURES_TABLE, load_national_figures

FILES = Path(__file__).parent / "dfe_files"
SEN = FILES / "sen_phase_type.csv"
ABSENCE = FILES / "absence_rates_by_pupil_characteristics_autumn.csv"
BAD = FILES / "absence_with_a_bad_row.csv"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_reference(con)
    return con


def _figures(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        f'select geography_level, geography_code, school_type, measure, "group", value, '
        f"academic_year, period from {FIGURES_TABLE} order by all"
    ).fetchall()


def test_england_is_loaded_and_a_region_only_when_asked(con: duckdb.DuckDBPyConnection) -> None:
    load_national_figures(con, [SEN])
    levels = {r[0] for r in _figures(con)}
    assert levels == {"national"}
    load_national_figures(con, [SEN], keep={"regional": "E12000007"})
    rows = _figures(con)
    assert {r[:2] for r in rows} == {("national", "E92000001"), ("regional", "E12000007")}
    london = {(r[2], r[3]): r[5] for r in rows if r[0] == "regional"}
    assert london[("all", "pct_ehc_plan")] == pytest.approx(5.384615385)
    assert london[("special", "pct_ehc_plan")] == 97.5
    special = [r for r in rows if r[0] == "national" and r[2] == "special"]
    assert ("pct_ehc_plan", 98.0) in {(r[3], r[5]) for r in special}
    assert {r[6] for r in rows} == {"2024/25"} and {r[7] for r in rows} == {"January 2025 census"}
    # The LA rows were not kept, but they say which region each LA is in.
    region = con.execute(
        "select region_code, region_name from meta.dfe_local_authority where old_la_code = '308'"
    ).fetchall()
    assert region == [("E12000007", "London")]


def test_the_dfe_symbols_are_not_available_never_zero(con: duckdb.DuckDBPyConnection) -> None:
    """London special: sen_support 'x'; Enfield special: sen_support 'low', percent 'c'."""
    result = load_national_figures(con, [SEN], keep={"la": "308", "regional": None})
    enfield_special = {
        r[3]: r[5] for r in _figures(con) if r[1] == "E09000010" and r[2] == "special"
    }
    assert enfield_special == {"pct_ehc_plan": pytest.approx(97.77777778), "pupils_ehc_plan": 880}
    london_special = {r[3] for r in _figures(con) if r[1] == "E12000007" and r[2] == "special"}
    assert "pct_sen_support" not in london_special and "pupils_sen_support" not in london_special
    assert result.not_available == 4
    assert not [r for r in _figures(con) if r[5] == 0]


def test_absence_by_sen_status_is_read_from_the_characteristics_file(
    con: duckdb.DuckDBPyConnection,
) -> None:
    load_national_figures(con, [ABSENCE], keep={"regional": None, "la": None})
    rows = _figures(con)
    got = {(r[0], r[2], r[3], r[4]): r[5] for r in rows}
    assert got[("national", "all", "overall_absence_rate", "ehc_plan")] == 12.9
    assert got[("national", "all", "persistent_absence_rate", "no_sen")] == 16.8
    assert got[("national", "special", "overall_absence_rate", "ehc_plan")] == 12.0
    # Rows by primary need or sex are not SEN status: skipped. 'c' and 'x': left out.
    assert {r[4] for r in rows} == {"ehc_plan", "sen_support", "no_sen"}
    assert ("regional", "all", "persistent_absence_rate", "ehc_plan") not in got
    assert not [k for k in got if k[0] == "la"]
    assert {r[7] for r in rows} == {"autumn term"}


def test_a_bad_row_stops_the_load_and_keeps_what_was_there(
    con: duckdb.DuckDBPyConnection,
) -> None:
    load_national_figures(con, [SEN])
    before = _figures(con)
    with pytest.raises(DfEFileError) as caught:
        load_national_figures(con, [ABSENCE, BAD])
    err = caught.value
    assert (err.file, err.row, err.column, err.value) == (
        BAD.name,
        3,
        "sess_overall_percent",
        "5,7%",
    )
    assert "expected a number" in err.reason
    # The good file in the same load was not landed either: all or nothing.
    assert _figures(con) == before


def test_the_command_loads_a_region_and_explains_a_bad_row(tmp_path: Path) -> None:
    from empowered.cli import app
    from empowered.warehouse.connection import open_warehouse

    warehouse = tmp_path / "w.duckdb"
    con = open_warehouse(warehouse)
    load_reference(con)
    con.close()
    runner = CliRunner()
    args = ["load-national-figures", "--warehouse", str(warehouse)]
    ok = runner.invoke(app, [*args, str(SEN), "--geography", "region", "--code", "E12000007"])
    assert ok.exit_code == 0, ok.output
    assert "sen_phase_type.csv (Special educational needs in England): 14 figures" in ok.output
    bad = tmp_path / BAD.name
    shutil.copy(BAD, bad)
    failed = runner.invoke(app, [*args, str(bad)])
    assert failed.exit_code == 1
    text = " ".join(failed.output.split())
    assert "Nothing loaded" in text and "row 3" in text and "'5,7%'" in text
    assert "already loaded are unchanged" in text
    con = duckdb.connect(str(warehouse))
    assert con.execute(f"select count(*) from {FIGURES_TABLE}").fetchone() == (14,)
