"""Attendance marks as Arbor's BI connector gives them (RAW_MARK, PERIOD MORNING or
AFTERNOON, ISO DATE, no UPN: the pupil by STUDENT_ID), read from the headings: every
session counted by its DfE code (never by the file's IS_* flags), the unknown mark
quarantined.

File and truth: fixtures/real/ (see test_real_pupil_lists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml
from typer.testing import CliRunner

from empowered.cli import app
from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

REAL = Path(__file__).parent / "fixtures" / "real"
runner = CliRunner()
NAME = "arbor_bi_attendance.csv"
# The school's term for the week of marks (the file holds no calendar).
TERMS = (
    "school_urn,academic_year,term,half_term,start_date,end_date\n"
    "145811,2026/27,autumn,2,2026-11-02,2026-12-18\n"
)


def test_a_schools_own_attendance_marks_get_in(tmp_path: Path) -> None:
    truth: dict[str, Any] = yaml.safe_load(
        (REAL / NAME).with_suffix(".expected.yml").read_text(encoding="utf-8")
    )
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    gias = str(REAL / "gias_edubasealldata_extract.csv")
    assert (
        runner.invoke(
            app, ["school", "add", school, "--from-gias", gias, "--warehouse", warehouse]
        ).exit_code
        == 0
    )
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    (calendar / "terms.csv").write_text(TERMS)
    for path in (REAL / "arbor_students.csv", calendar, REAL / NAME):
        result = runner.invoke(
            app,
            ["import", str(path), "--school", school, "--export-date", "2026-12-01",
             "--warehouse", warehouse],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert "read as an attendance register (a row per pupil per session)" in result.output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    days = con.execute(
        "SELECT i.upn, sum(d.possible), sum(d.present), sum(d.authorised), "
        "sum(d.unauthorised) FROM marts.attendance_pupil_day AS d "
        "JOIN core.pupil_identity AS i USING (pupil_key) GROUP BY ALL"
    ).fetchall()
    quarantined = con.execute(
        "SELECT source_row, column_name, value FROM quarantine.rejected_rows WHERE source_file = ?",
        [NAME],
    ).fetchall()
    con.close()
    assert [(r, v) for r, _, v in quarantined] == [
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
