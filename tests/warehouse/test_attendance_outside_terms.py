"""Attendance marks dated outside the school's terms (last year's marks in a transfer, an
export that starts before the terms were given) never break the build: each is
quarantined with the reason, and read again once the term is added.

Before issue 12 such a mark reached marts.attendance_pupil_day without a school year, and
that model's not_null(academic_year) check failed every later build."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from empowered.cli import app

runner = CliRunner()
SCHOOLS = "school_urn,la_code,estab,school_name,phase,trust_name\n990001,999,2001,Oak,primary,\n"
PUPILS = (
    "school_urn,upn,forename,surname,date_of_birth,sex,entry_date\n"
    "990001,L999200115001,Ada,Testpupil,2015-03-14,F,2021-09-01\n"
)
TERM_2026 = (
    "school_urn,academic_year,term,half_term,start_date,end_date\n"
    "990001,2026/27,autumn,1,2026-09-03,2026-10-23\n"
)
TERM_2025 = (
    "school_urn,academic_year,term,half_term,start_date,end_date\n"
    "990001,2025/26,summer,6,2026-06-01,2026-07-22\n"
)
ATTENDANCE = (
    "school_urn,upn,date,session,code\n"
    "990001,L999200115001,2026-07-15,AM,/\n"  # last school year: no term for it yet
    "990001,L999200115001,2026-09-07,AM,/\n"
    "990001,L999200115001,2026-09-07,PM,I\n"
)


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def test_a_mark_outside_the_terms_is_quarantined_and_the_build_passes(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    first = _folder(
        tmp_path,
        "first",
        {"schools.csv": SCHOOLS, "pupils.csv": PUPILS, "terms.csv": TERM_2026,
         "attendance.csv": ATTENDANCE},
    )  # fmt: skip
    result = runner.invoke(app, ["import", str(first), "--warehouse", warehouse])
    assert result.exit_code == 0, result.output
    assert "build ok" in result.output
    assert "is outside the school's term dates (terms.csv)" in result.output
    con = duckdb.connect(warehouse, read_only=True)
    days = con.execute(
        "SELECT session_date, academic_year FROM marts.attendance_pupil_day"
    ).fetchall()
    con.close()
    assert [(str(d), y) for d, y in days] == [("2026-09-07", "2026/27")]

    # The school adds last summer's term: the quarantined mark is read again.
    second = _folder(tmp_path, "second", {"terms.csv": TERM_2025})
    result = runner.invoke(app, ["import", str(second), "--warehouse", warehouse])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(warehouse, read_only=True)
    days = con.execute(
        "SELECT session_date, academic_year FROM marts.attendance_pupil_day ORDER BY 1"
    ).fetchall()
    rejected = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE entity = 'attendance'"
    ).fetchone()
    con.close()
    assert [(str(d), y) for d, y in days] == [("2026-07-15", "2025/26"), ("2026-09-07", "2026/27")]
    assert rejected == (0,)
