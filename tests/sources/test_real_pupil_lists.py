"""A school's own student lists, as SIMS, Arbor, Bromcom and ScholarPack write them and as
the Wonde and Assembly APIs give them, from an empty warehouse: ``empowered school add``
(from the GIAS file), then ``empowered import FILE --school URN``. Every expected pupil is
accepted with the right characteristics and SEN status, and exactly the bad rows are
quarantined.

The files and their truth (``<file>.expected.yml``) are in fixtures/real/, written by hand
from the layouts real exports have (fixtures/real/README.md gives the evidence), never by
the synthetic generator or from what the importer makes of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from real_files import import_file, quarantined_rows, read_truth, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

LIST = "read as a pupil list (one row per pupil), from its headings"
PUPIL_LISTS = [
    ("sims_student_list.csv", LIST),
    ("arbor_students.csv", LIST),
    ("bromcom_students.csv", LIST),
    ("scholarpack_pupil_list.xlsx", LIST),
    # Students as the aggregators' APIs give them, saved as JSON.
    ("wonde_students_page1.json", "read as Wonde students (JSON)"),
    ("assembly_students.json", "read as Assembly students (JSON)"),
]
# What the truth files give that the warehouse holds (others, such as a preferred
# forename or a gifted-and-talented flag, are kept in raw only).
COMPARED = (
    "mis_id surname forename date_of_birth sex ethnicity first_language year_group reg_group"
    " fsm fsm6 pupil_premium looked_after eal sen_provision primary_need"
).split()
FLAGS = {"fsm", "fsm6", "pupil_premium", "looked_after", "eal"}
# ScholarPack marks yes with a tick and leaves the cell empty for no. An empty cell is "not
# known" in EmpowerED+ (docs/canonical-format.md): a column of ticks is not told apart from
# a Yes/No column someone left blank, so those cells are not known rather than "N".
EMPTY_TICK_IS_NOT_KNOWN = {"scholarpack_pupil_list.xlsx"}


def _held(warehouse: Path, school: str) -> dict[str, dict[str, Any]]:
    """What the warehouse holds now for each pupil of the school, by UPN."""
    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """SELECT i.upn, i.mis_id, i.surname, i.forename, i.date_of_birth, p.sex,
                      p.ethnicity, p.first_language, c.year_group, c.reg_group, c.fsm,
                      c.ever_fsm6, c.pupil_premium, c.looked_after, c.is_eal,
                      s.sen_provision, s.primary_need
               FROM core.pupil_identity AS i
               JOIN core.dim_pupil AS p USING (pupil_key)
               LEFT JOIN core.dim_characteristics_history AS c
                   ON c.pupil_key = i.pupil_key AND c.is_current
               LEFT JOIN core.dim_sen_status_history AS s
                   ON s.pupil_key = i.pupil_key AND s.is_current
               WHERE i.school_urn = ?""",
            [school],
        ).fetchall()
    finally:
        con.close()
    held: dict[str, dict[str, Any]] = {}
    for row in rows:
        upn = reader.upn(row[0])
        assert upn is not None
        dob = reader.date_of_birth(row[4])
        values = [reader.text(row[1]), reader.text(row[2]), reader.text(row[3])]
        held[upn] = dict(
            zip(
                COMPARED,
                [*values, dob.isoformat() if dob else None, *row[5:10]]
                + [None if f is None else ("Y" if f else "N") for f in row[10:15]]
                # No SEN record: no special educational need (a "No SEN" row makes none).
                + [row[15] or "N", row[16]],
                strict=True,
            )
        )
    return held


@pytest.mark.parametrize(("name", "read_as"), PUPIL_LISTS)
def test_a_schools_own_student_list_gets_in(tmp_path: Path, name: str, read_as: str) -> None:
    truth = read_truth(name)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    assert read_as in import_file(warehouse, name, school=school, export_date="2026-12-01")

    held = _held(tmp_path / "w.duckdb", school)
    expected = {str(k): v for k, v in truth["truth"].items() if k != "notes"}
    assert set(held) == set(expected), "exactly the expected pupils are accepted"
    assert len(held) == truth["accepted"]
    compared = 0
    for upn, want in expected.items():
        got = held[upn]
        for column in COMPARED:
            if column not in want:
                continue
            value = want[column]
            value = None if value is None else str(value)
            if column in FLAGS and value == "N" and got[column] is None:
                assert name in EMPTY_TICK_IS_NOT_KNOWN, (upn, column)
                continue
            assert got[column] == value, (upn, column, got[column], value)
            compared += 1
    assert compared >= 10 * len(expected)  # the truth files name most columns of each pupil

    assert quarantined_rows(warehouse, name) == sorted(q["row"] for q in truth["quarantine"])
