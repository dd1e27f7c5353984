"""Attendance marks as Arbor's BI connector gives them (RAW_MARK, PERIOD MORNING or
AFTERNOON, ISO DATE, no UPN: the pupil by STUDENT_ID), read from the headings: every
session counted by its DfE code (never by the file's IS_* flags), the unknown mark
quarantined.

File and truth: fixtures/real/ (see test_real_pupil_lists)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from real_files import REAL, import_file, read_truth, rejections, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

NAME = "arbor_bi_attendance.csv"
# The school's term for the week of marks (the file holds no calendar).
TERMS = (
    "school_urn,academic_year,term,half_term,start_date,end_date\n"
    "145811,2026/27,autumn,2,2026-11-02,2026-12-18\n"
)


def test_a_schools_own_attendance_marks_get_in(tmp_path: Path) -> None:
    truth = read_truth(NAME)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    (calendar / "terms.csv").write_text(TERMS)
    for path in (REAL / "arbor_students.csv", calendar, REAL / NAME):
        output = import_file(warehouse, path, school=school, export_date="2026-12-01")
    assert "read as an attendance register (a row per pupil per session)" in output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    days = con.execute(
        "SELECT i.upn, sum(d.possible), sum(d.present), sum(d.authorised), "
        "sum(d.unauthorised) FROM marts.attendance_pupil_day AS d "
        "JOIN core.pupil_identity AS i USING (pupil_key) GROUP BY ALL"
    ).fetchall()
    con.close()
    assert [(r, v) for r, _, v in rejections(warehouse, NAME)] == [
        (q["row"], q["value"]) for q in truth["quarantine"]
    ]
    got = {reader.upn(u): (int(p), int(a), int(au), int(un)) for u, p, a, au, un in days}
    expected = {
        str(upn): (
            t["possible"],
            t["present"] + t["approved_activity"],  # attending includes approved activity
            t["authorised"],
            t["unauthorised"],
        )
        for upn, t in truth["truth"].items()
        if isinstance(t, dict) and "possible" in t
    }
    assert got == expected
