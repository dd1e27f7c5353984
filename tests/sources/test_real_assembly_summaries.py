"""Assembly's attendance summaries name each pupil by Assembly's own student id, which no
MIS export holds: the students file (read first) gives each pupil that id as a second id
(``aggregator_id``, kept as ciphertext with a blind index as the MIS id is), and the
summaries match through it. The summary of a student the students file does not hold
(50099, who left in October) is quarantined.

File and truth: fixtures/real/assembly_students.json, assembly_attendance_summaries.json
(field names from Assembly's published API clients; see the fixtures' README)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from real_files import import_file, read_truth, rejections, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

NAME = "assembly_attendance_summaries.json"


def test_assembly_summaries_match_the_students_by_assemblys_own_id(tmp_path: Path) -> None:
    truth = read_truth(NAME)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    import_file(warehouse, "assembly_students.json", school=school, export_date="2026-12-01")
    output = import_file(warehouse, NAME, school=school)
    assert "read as Assembly attendance summaries (JSON)" in output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT i.upn, s.period_start, s.period_end, s.possible, s.present, "
            "s.approved_activity, s.authorised, s.unauthorised, s.late, s.attendance_rate "
            "FROM core.fct_attendance_summary AS s JOIN core.pupil_identity AS i "
            "USING (pupil_key)"
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
    assert [(r, c) for r, c, _ in rejections(warehouse, NAME)] == [
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
