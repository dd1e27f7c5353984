"""A broken seed is refused with the file, row and column to fix, and nothing is written."""

from __future__ import annotations

import csv
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import duckdb
import pytest

from empowered.reference import ReferenceDataError, load_reference, read_seed

Rows = list[list[str]]


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A writable copy of the packaged seeds."""
    target = tmp_path / "seeds"
    target.mkdir()
    for entry in resources.files("empowered.reference").joinpath("seeds").iterdir():
        if entry.name.endswith(".csv"):
            (target / entry.name).write_bytes(entry.read_bytes())
    return target


def edit(folder: Path, name: str, change: Callable[[Rows], object]) -> None:
    path = folder / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def col(rows: Rows, name: str) -> int:
    return rows[0].index(name)


def set_cell(folder: Path, name: str, row: int, column: str, value: str) -> None:
    """Overwrite one cell; ``row`` counts data rows from 1, as the error messages do."""

    def change(rows: Rows) -> None:
        rows[row][col(rows, column)] = value

    edit(folder, name, change)


def test_missing_source_column(seeds: Path) -> None:
    def drop_source(rows: Rows) -> None:
        i = col(rows, "source")
        for row in rows:
            del row[i]

    edit(seeds, "sen_need", drop_source)
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(duckdb.connect(), seeds_dir=seeds)
    assert caught.value.file == "sen_need.csv"
    assert caught.value.column == "source"
    assert "sen_need.csv" in str(caught.value) and "'source'" in str(caught.value)


def test_empty_source_cell(seeds: Path) -> None:
    set_cell(seeds, "year_group", 3, "source", " ")
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(duckdb.connect(), seeds_dir=seeds)
    error = caught.value
    assert (error.file, error.row, error.line, error.column) == ("year_group.csv", 3, 4, "source")
    assert str(error).startswith("year_group.csv, row 3 (line 4), column 'source'")


def test_empty_effective_from(seeds: Path) -> None:
    set_cell(seeds, "broad_area", 2, "effective_from", "")
    with pytest.raises(ReferenceDataError, match=r"broad_area\.csv, row 2 .*effective_from"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_duplicate_code_in_the_same_period(seeds: Path) -> None:
    def duplicate_k(rows: Rows) -> None:
        code = col(rows, "code")
        k = next(row for row in rows[1:] if row[code] == "K")
        rows.append(list(k))

    edit(seeds, "attendance_code", duplicate_k)
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(duckdb.connect(), seeds_dir=seeds)
    error = caught.value
    last_row = len((seeds / "attendance_code.csv").read_text().splitlines()) - 1
    assert (error.file, error.row, error.column) == ("attendance_code.csv", last_row, "code")
    assert "duplicate code='K'" in str(error)
    assert f"row {last_row}" in str(error)


def test_a_closed_version_may_repeat_a_code(seeds: Path) -> None:
    """The data edit a DfE change needs: close the old row, add a new one."""

    def new_version_of_c2(rows: Rows) -> None:
        code, start, end = col(rows, "code"), col(rows, "effective_from"), col(rows, "effective_to")
        old = next(row for row in rows[1:] if row[code] == "C2" and row[end] == "")
        new = list(old)
        old[end] = "2027-08-31"
        new[start] = "2027-09-01"
        new[col(rows, "description")] = "A later wording"
        rows.append(new)

    edit(seeds, "attendance_code", new_version_of_c2)
    con = duckdb.connect()
    load_reference(con, seeds_dir=seeds)
    found = con.execute(
        """select description from reference.attendance_code
           where code = 'C2' and date '2027-09-01' between effective_from
                 and coalesce(effective_to, date '9999-12-31')"""
    ).fetchall()
    assert found == [("A later wording",)]


def test_bad_boolean(seeds: Path) -> None:
    set_cell(seeds, "sen_provision", 1, "is_current", "Y")
    with pytest.raises(ReferenceDataError, match=r"row 1 .*'is_current'.*true or false"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_bad_date(seeds: Path) -> None:
    set_cell(seeds, "ethnicity", 5, "effective_from", "1/9/25")
    with pytest.raises(ReferenceDataError, match=r"ethnicity\.csv, row 5 .*ISO date"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_end_before_start(seeds: Path) -> None:
    set_cell(seeds, "exclusion_reason", 1, "effective_to", "2000-01-01")
    with pytest.raises(ReferenceDataError, match="effective_to is before effective_from"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_unknown_attendance_category(seeds: Path) -> None:
    set_cell(seeds, "attendance_code", 1, "category", "present-ish")
    with pytest.raises(ReferenceDataError, match=r"row 1 .*'category'"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_flags_must_agree_with_category(seeds: Path) -> None:
    def make_u_authorised(rows: Rows) -> None:
        row = next(r for r in rows[1:] if r[col(rows, "code")] == "U")
        row[col(rows, "counts_as_authorised")] = "true"

    edit(seeds, "attendance_code", make_u_authorised)
    with pytest.raises(ReferenceDataError, match="counts_as_authorised"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_maps_to_must_be_a_provision_code(seeds: Path) -> None:
    set_cell(seeds, "sen_provision", 4, "maps_to", "Q")
    with pytest.raises(ReferenceDataError, match=r"sen_provision\.csv, row 4 .*maps_to"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_broad_area_must_exist(seeds: Path) -> None:
    set_cell(seeds, "sen_need", 1, "broad_area", "XX")
    with pytest.raises(ReferenceDataError, match="broad_area"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_short_row(seeds: Path) -> None:
    edit(seeds, "setting", lambda rows: rows[2].pop())
    with pytest.raises(ReferenceDataError, match=r"setting\.csv, row 2 .*cells"):
        load_reference(duckdb.connect(), seeds_dir=seeds)


def test_failed_load_leaves_previous_tables(seeds: Path) -> None:
    con = duckdb.connect()
    before = load_reference(con)
    set_cell(seeds, "national_figure", 1, "value", "lots")
    with pytest.raises(ReferenceDataError, match=r"national_figure\.csv, row 1 .*'value'"):
        load_reference(con, seeds_dir=seeds)
    assert load_reference(con) == before


def test_extra_seed_and_extra_column_are_loaded_as_text(seeds: Path) -> None:
    (seeds / "local_trigger.csv").write_text(
        "\ufeffcode,threshold,source,effective_from,effective_to\n"
        "LA20,20,Example LA attendance policy,2025-09-01,\n",
        encoding="utf-8",
    )

    def add_comment_column(rows: Rows) -> None:
        for number, row in enumerate(rows):
            row.append("x" if number else "comment")

    edit(seeds, "broad_area", add_comment_column)
    con = duckdb.connect()
    counts = load_reference(con, seeds_dir=seeds)
    assert counts["local_trigger"] == 1
    types = dict(
        con.execute(
            """select column_name, data_type from information_schema.columns
               where table_schema = 'reference' and table_name = 'local_trigger'"""
        ).fetchall()
    )
    # The byte-order mark must not end up in the first column's name.
    assert types == {
        "code": "VARCHAR",
        "threshold": "VARCHAR",
        "source": "VARCHAR",
        "effective_from": "DATE",
        "effective_to": "DATE",
    }
    assert con.execute("select comment from reference.broad_area limit 1").fetchone() == ("x",)


def test_unknown_seed_still_needs_provenance() -> None:
    with pytest.raises(ReferenceDataError, match=r"extra\.csv.*'source'"):
        read_seed("extra", "code,effective_from\nA,2025-01-01\n")


def test_empty_file() -> None:
    with pytest.raises(ReferenceDataError, match="empty"):
        read_seed("broad_area", "")
