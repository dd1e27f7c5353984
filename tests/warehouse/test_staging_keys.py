"""Rows that pass staging but would fail the core build stop one school's file, not the
build: a period with no code (core.dim_period: not null, unique), a member of staff with no
ID (core.dim_staff) and a term whose dates overlap another term of the same file
(core.dim_school_calendar: one row per school day). Each is quarantined with its rule's
column and message (rule 1 of periods and of staff, rule 13 of terms) and the value, and the
build passes."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def first_rows(trust: Path, name: str, n: int) -> list[dict[str, str]]:
    with (trust / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[:n]


def land_and_build(
    con: duckdb.DuckDBPyConnection, folder: Path, name: str, rows: list[dict[str, str]]
) -> int:
    """Import one file as a school sends it, build, and require the build to pass."""
    folder.mkdir()
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_canonical_folder(con, folder, keys=TEST_KEYS)
    built = build_duckdb(con, touched=result.touched_raw_tables())
    failures = "\n".join(f.message for f in built.failures())
    assert built.ok, f"one school's file broke the build:\n{failures}"
    return result.batch_ids[0]


def verdicts(
    con: duckdb.DuckDBPyConnection, model: str, batch: int
) -> list[tuple[int, str | None, str | None, str | None]]:
    """Per landed row: (source row, column, value, reason) as staging judged it."""
    return con.execute(
        "SELECT _source_row, _reject_column, _reject_value, _reject_reason "
        f"FROM staging.{model} WHERE _batch_id = ? ORDER BY _source_row",
        [batch],
    ).fetchall()


def quarantined(
    con: duckdb.DuckDBPyConnection, entity: str, batch: int
) -> list[tuple[int, str, str | None, str]]:
    return con.execute(
        "SELECT source_row, column_name, value, reason FROM quarantine.rejected_rows "
        "WHERE entity = ? AND batch_id = ? ORDER BY source_row",
        [entity, batch],
    ).fetchall()


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_period_with_no_code_is_quarantined(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path, blank: str
) -> None:
    good, other = first_rows(small_trust, "periods.csv", 2)
    batch = land_and_build(
        warehouse_copy, tmp_path / "periods", "periods.csv", [good, other | {"period_code": blank}]
    )
    got = verdicts(warehouse_copy, "stg_canonical_periods", batch)
    message = "is missing: every period needs a code (e.g. P1, LUNCH)"
    shown = blank.strip() if blank else None  # a blank cell lands as no value at all
    assert [row[1:] for row in got] == [(None, None, None), ("period_code", shown, message)]
    assert quarantined(warehouse_copy, "periods", batch) == [
        (got[1][0], "period_code", shown, message)
    ]
    codes = warehouse_copy.execute(
        "SELECT count(*) FROM core.dim_period WHERE period_code IS NULL OR trim(period_code) = ''"
    ).fetchone()
    assert codes == (0,)


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_member_of_staff_with_no_id_is_quarantined(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path, blank: str
) -> None:
    good, other = first_rows(small_trust, "staff.csv", 2)
    batch = land_and_build(
        warehouse_copy, tmp_path / "staff", "staff.csv", [good, other | {"staff_id": blank}]
    )
    got = verdicts(warehouse_copy, "stg_canonical_staff", batch)
    message = "is missing: every member of staff needs an ID (a code, never a name)"
    shown = blank.strip() if blank else None
    assert [row[1:] for row in got] == [(None, None, None), ("staff_id", shown, message)]
    assert quarantined(warehouse_copy, "staff", batch) == [(got[1][0], "staff_id", shown, message)]


def test_a_term_overlapping_another_in_the_file_is_quarantined(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path
) -> None:
    """The first half term resent, then the same half term again with its start a day
    later, the second half term, and the second again typed over the first's dates: a school
    day would be in two terms. The later of two overlapping rows is quarantined, naming the
    first row it overlaps."""
    first, second = first_rows(small_trust, "terms.csv", 2)
    assert first["start_date"] == "2025-09-01", "the small trust's first half term"
    rows = [
        first,
        first | {"start_date": "02/09/2025"},
        second,
        second | {"start_date": "2025-10-20"},
    ]
    batch = land_and_build(warehouse_copy, tmp_path / "terms", "terms.csv", rows)
    got = verdicts(warehouse_copy, "stg_canonical_terms", batch)
    message = (
        f"overlaps the term in row {got[0][0]} of this file: a school day can be in one term only"
    )
    assert [row[1:] for row in got] == [
        (None, None, None),
        ("start_date", "02/09/2025", message),
        (None, None, None),
        ("start_date", "2025-10-20", message),
    ]
    assert quarantined(warehouse_copy, "terms", batch) == [
        (got[1][0], "start_date", "02/09/2025", message),
        (got[3][0], "start_date", "2025-10-20", message),
    ]
    days = warehouse_copy.execute(
        "SELECT count(*), count(DISTINCT (school_urn, date_day)) FROM core.dim_school_calendar"
    ).fetchone()
    assert days is not None and days[0] == days[1]
