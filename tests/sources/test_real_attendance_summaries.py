"""A per-pupil attendance summary as a SIMS report gives it (possible, present, approved
educational activity, authorised, unauthorised, late over a "Date range" in its title
lines), for schools or years with no session marks: read into core.fct_attendance_summary
with the period, the bad row quarantined.

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
NAME = "sims_attendance_summary.csv"


def test_a_schools_own_attendance_summary_gets_in(tmp_path: Path) -> None:
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
    for name in ("sims_student_list.csv", NAME):
        result = runner.invoke(
            app, ["import", str(REAL / name), "--school", school, "--warehouse", warehouse]
        )
        assert result.exit_code == 0, result.output
    assert "read as an attendance summary (sessions over a period" in result.output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(
        "SELECT i.upn, s.period_start, s.period_end, s.possible, s.present, "
        "s.approved_activity, s.authorised, s.unauthorised, s.late, s.attendance_rate "
        "FROM core.fct_attendance_summary AS s JOIN core.pupil_identity AS i USING (pupil_key)"
    ).fetchall()
    quarantined = con.execute(
        "SELECT DISTINCT source_row FROM quarantine.rejected_rows WHERE source_file = ?", [NAME]
    ).fetchall()
    con.close()
    assert sorted(r for (r,) in quarantined) == [q["row"] for q in truth["quarantine"]]
    got = {
        reader.upn(upn): {
            "possible": possible, "present": present, "approved_activity": aea,
            "authorised": authorised, "unauthorised": unauthorised, "late": late,
            "percent": round(rate * 100, 1), "period": (start.isoformat(), end.isoformat()),
        }
        for upn, start, end, possible, present, aea, authorised, unauthorised, late, rate in rows
    }  # fmt: skip
    expected = {
        str(upn): {k: v for k, v in want.items() if k != "row"}
        | {"period": ("2026-09-03", "2026-11-27")}
        for upn, want in truth["truth"].items()
        if isinstance(want, dict) and "possible" in want
    }
    assert got == expected
