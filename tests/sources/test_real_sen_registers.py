"""SEN registers as schools hold them: one row per need, with its rank and its own dates
(a SIMS register in Windows-1252; an Arbor needs report in XLSX with date cells and a date
typed as text). Each need is a record of its own, quarantined on its own; the pupil's
repeated status is one record; the SEN history takes its primary and secondary need from
the needs in force each day.

Files and truth: fixtures/real/ (see test_real_pupil_lists for how they were written).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from real_files import import_file, quarantined_rows, read_truth, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

# Each register follows the school's student list, which brings its pupils (and, for the
# Arbor file, the Student ID the needs report names them by).
REGISTERS = [
    ("sims_student_list.csv", "sims_sen_register.csv"),
    ("arbor_students.csv", "arbor_sen_needs.xlsx"),
]


@pytest.mark.parametrize(("student_list", "register"), REGISTERS)
def test_a_schools_own_sen_register_gets_in(
    tmp_path: Path, student_list: str, register: str
) -> None:
    truth = read_truth(register)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    import_file(warehouse, student_list, school=school, export_date="2026-12-01")
    output = import_file(warehouse, register, school=school, export_date="2026-12-01")
    assert "read as a SEN register (a row per need, with its rank)" in output
    assert "repeats row" not in output  # a pupil's second need is no duplicate

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    upn_of = {
        key: reader.upn(upn)
        for key, upn in con.execute("SELECT pupil_key, upn FROM core.pupil_identity").fetchall()
    }
    needs = con.execute(
        "SELECT pupil_key, need_type, need_rank, start_date, end_date, _source_row "
        "FROM staging.stg_canonical_sen_needs WHERE _is_current"
    ).fetchall()
    history = con.execute(
        "SELECT pupil_key, valid_from, valid_to, sen_provision, primary_need, secondary_need "
        "FROM core.dim_sen_status_history"
    ).fetchall()
    con.close()

    assert quarantined_rows(warehouse, register) == sorted(q["row"] for q in truth["quarantine"])
    got: dict[str | None, list[dict[str, Any]]] = {}
    for key, code, rank, start, end, row in needs:
        got.setdefault(upn_of[key], []).append(
            {"code": code, "rank": rank, "start": start.isoformat(),
             "end": end.isoformat() if end else None, "row": row}
        )  # fmt: skip
    expected = {
        upn: sorted(
            ({k: n.get(k) for k in ("code", "rank", "start", "end", "row")} for n in v["needs"]),
            key=lambda n: n["row"],
        )
        for upn, v in truth["truth"].items()
        if isinstance(v, dict) and "needs" in v
    }
    assert {u: sorted(n, key=lambda x: x["row"]) for u, n in got.items()} == expected

    # The SEN history on the export date: the needs in force that day decide.
    def on(upn: str, day: date) -> tuple[Any, ...] | None:
        for key, start, end, provision, primary, secondary in history:
            if upn_of[key] == upn and start <= day and (end is None or day < end):
                return provision, primary, secondary
        return None

    checked = 0
    for upn, v in truth["truth"].items():
        if not isinstance(v, dict):
            continue
        if "sen_provision" in v:
            state = on(upn, date(2026, 12, 1))
            assert state is not None and state[0] == v["sen_provision"], upn
        for day, want in (v.get("as_at") or {}).items():
            state = on(upn, date.fromisoformat(day))
            if state is None:  # no status recorded yet that day: no history to check
                continue
            assert state[1] == want.get("primary_need", state[1]), (upn, day)
            assert state[2] == want.get("secondary_need", state[2]), (upn, day)
            checked += 1
    assert checked >= 2
