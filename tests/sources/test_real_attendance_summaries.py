"""A per-pupil attendance summary as a SIMS report gives it (possible, present, approved
educational activity, authorised, unauthorised, late over a "Date range" in its title
lines), for schools or years with no session marks: read into core.fct_attendance_summary
with the period, the bad row quarantined.

File and truth: fixtures/real/ (see test_real_pupil_lists)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from real_files import import_file, quarantined_rows, read_truth, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

NAME = "sims_attendance_summary.csv"


def test_a_schools_own_attendance_summary_gets_in(tmp_path: Path) -> None:
    truth = read_truth(NAME)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    import_file(warehouse, "sims_student_list.csv", school=school)
    output = import_file(warehouse, NAME, school=school)
    assert "read as an attendance summary (sessions over a period" in output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(
        "SELECT i.upn, s.period_start, s.period_end, s.possible, s.present, "
        "s.approved_activity, s.authorised, s.unauthorised, s.late, s.attendance_rate "
        "FROM core.fct_attendance_summary AS s JOIN core.pupil_identity AS i USING (pupil_key)"
    ).fetchall()
    con.close()
    assert quarantined_rows(warehouse, NAME) == [q["row"] for q in truth["quarantine"]]
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
