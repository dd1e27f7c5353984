"""Assembly's attendance summaries name each pupil by Assembly's own student id, which no
MIS export holds: the students file (read first) gives each pupil that id as a second id
(``aggregator_id``, kept as ciphertext with a blind index as the MIS id is), and the
summaries match through it. The summary of a student the students file does not hold
(50099, who left in October) is quarantined.

File and truth: fixtures/real/assembly_students.json, assembly_attendance_summaries.json
(field names from Assembly's published API clients; see the fixtures' README)."""

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
NAME = "assembly_attendance_summaries.json"
runner = CliRunner()


def test_assembly_summaries_match_the_students_by_assemblys_own_id(tmp_path: Path) -> None:
    truth: dict[str, Any] = yaml.safe_load(
        (REAL / NAME).with_suffix(".expected.yml").read_text(encoding="utf-8")
    )
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    gias = str(REAL / "gias_edubasealldata_extract.csv")
    added = runner.invoke(
        app, ["school", "add", school, "--from-gias", gias, "--warehouse", warehouse]
    )
    assert added.exit_code == 0, added.output
    students = runner.invoke(
        app,
        ["import", str(REAL / "assembly_students.json"), "--school", school]
        + ["--export-date", "2026-12-01", "--warehouse", warehouse],
    )
    assert students.exit_code == 0, students.output
    result = runner.invoke(
        app, ["import", str(REAL / NAME), "--school", school, "--warehouse", warehouse]
    )
    assert result.exit_code == 0, result.output
    assert "read as Assembly attendance summaries (JSON)" in result.output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT i.upn, s.period_start, s.period_end, s.possible, s.present, "
            "s.approved_activity, s.authorised, s.unauthorised, s.late, s.attendance_rate "
            "FROM core.fct_attendance_summary AS s JOIN core.pupil_identity AS i "
            "USING (pupil_key)"
        ).fetchall()
        quarantined = con.execute(
            "SELECT source_row, column_name, reason FROM quarantine.rejected_rows "
            "WHERE source_file = ?",
            [NAME],
        ).fetchall()
        # The aggregator id is identity: ciphertext in raw, never the id in clear.
        clear = con.execute(
            "SELECT count(*) FROM raw.canonical_pupils WHERE aggregator_id LIKE 'assembly:%'"
        ).fetchone()
        indexed = con.execute(
            "SELECT count(aggregator_id_bidx) FROM raw.canonical_pupils"
        ).fetchone()
    finally:
        con.close()
    assert clear == (0,) and indexed == (4,)
    assert [(r, c) for r, c, _ in quarantined] == [
        (q["row"], "mis_id") for q in truth["quarantine"]
    ]
    got = {
        str(reader.upn(upn)): {
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "possible": possible, "present": present, "approved_activity": aea,
            "authorised": authorised, "unauthorised": unauthorised, "late": late,
            "percent": round(rate * 100, 1),
        }
        for upn, start, end, possible, present, aea, authorised, unauthorised, late, rate in rows
    }  # fmt: skip
    expected = {
        str(upn): {k: v for k, v in want.items() if k != "note"}
        for upn, want in truth["truth"].items()
        if isinstance(want, dict) and "possible" in want
    }
    assert got == expected
