"""Validation rules in staging, on rows added to the small trust's warehouse."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from empowered.crypto import BlindIndex
from empowered.identity import IdentityReader
from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def a_pupil(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str, str]:
    row = con.execute(
        "SELECT i.school_urn, i.upn, cast(p.entry_date AS VARCHAR), "
        "cast(max(a.session_date) AS VARCHAR) "
        "FROM core.pupil_identity i JOIN core.dim_pupil p USING (pupil_key) "
        "JOIN core.fct_attendance_session a USING (pupil_key) "
        "WHERE p.is_on_roll GROUP BY i.school_urn, i.upn, p.entry_date, i.pupil_key "
        "ORDER BY i.pupil_key LIMIT 1"
    ).fetchone()
    assert row is not None
    # The UPN is stored encrypted: the test writes it into a file as a school would.
    school, upn, entry, last = row
    return school, str(IdentityReader(TEST_KEYS).upn(upn)), entry, last


def land_attendance(
    con: duckdb.DuckDBPyConnection, folder: Path, rows: list[dict[str, str]]
) -> int:
    folder.mkdir()
    with (folder / "attendance.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["school_urn", "upn", "date", "session", "code"])
        writer.writeheader()
        writer.writerows(rows)
    result = import_canonical_folder(con, folder, keys=TEST_KEYS)
    assert build_duckdb(con, touched=result.touched_raw_tables()).ok
    return result.batch_ids[0]


def test_codes_dates_and_time_on_roll(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    school, upn, entry, last = a_pupil(warehouse_copy)
    day, month, year = last[8:10], last[5:7], last[0:4]
    base = {"school_urn": school, "upn": upn}
    batch = land_attendance(
        warehouse_copy,
        tmp_path / "extra",
        [
            base | {"date": f"{day}/{month}/{year}", "session": "AM", "code": "Y"},
            base | {"date": last, "session": "PM", "code": "H"},
            base | {"date": "04/01/2010", "session": "AM", "code": "/"},
            base | {"date": "2099-01-05", "session": "AM", "code": "/"},
            base | {"date": last, "session": "AM", "code": "Q9"},
            base | {"date": "31/02/2025", "session": "AM", "code": "/"},
        ],
    )
    got = warehouse_copy.execute(
        "SELECT _source_row, code_category, _reject_reason, _warning_reason "
        "FROM staging.stg_canonical_attendance WHERE _batch_id = ? ORDER BY 1",
        [batch],
    ).fetchall()
    assert got[0][1:] == (
        "not_possible",
        None,
        "was retired on 2024-08-18; counted as not possible",
    )
    assert got[1][1:] == (
        "authorised_absence",
        None,
        "was retired on 2024-08-18; counted as authorised absence",
    )
    assert got[2][2] == "is outside the pupil's time on roll at this school"
    assert got[3][2] == "is in the future"
    assert got[4][2] == "is not a DfE attendance register code in force on that date"
    assert got[5][2] == "is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)"
    # The later file's marks replace the earlier ones for the same sessions.
    marks = warehouse_copy.execute(
        "SELECT session, code, is_retired_code FROM core.fct_attendance_session "
        "WHERE session_date = CAST(? AS DATE) AND pupil_key = "
        "(SELECT pupil_key FROM raw.pupil_pseudonym WHERE upn_bidx = ?) ORDER BY 1",
        [last, BlindIndex(TEST_KEYS.pseudonym_key).of("upn", upn)],
    ).fetchall()
    assert marks == [("AM", "Y", True), ("PM", "H", True)]
    warned = warehouse_copy.execute(
        "SELECT count(*) FROM quarantine.accepted_with_warnings WHERE batch_id = ?", [batch]
    ).fetchone()
    assert warned == (2,)


def test_a_blank_school_urn_is_rejected_and_stops_nothing(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # A URN of spaces and a missing one used to be two pupil references with one key, so
    # every row naming that pupil was doubled and the whole build failed its checks.
    _, upn, _, last = a_pupil(warehouse_copy)
    batch = land_attendance(
        warehouse_copy,
        tmp_path / "blank",
        [
            {"school_urn": " ", "upn": upn, "date": last, "session": "AM", "code": "/"},
            {"school_urn": "", "upn": upn, "date": last, "session": "PM", "code": "/"},
        ],
    )
    got = warehouse_copy.execute(
        "SELECT _source_row, _reject_column, _reject_reason "
        "FROM staging.stg_canonical_attendance WHERE _batch_id = ? ORDER BY 1",
        [batch],
    ).fetchall()
    assert [row[1:] for row in got] == [
        ("school_urn", "is not a school EmpowerED+ has: set it up first (empowered school add)"),
        ("school_urn", "is not a school EmpowerED+ has: set it up first (empowered school add)"),
    ]
