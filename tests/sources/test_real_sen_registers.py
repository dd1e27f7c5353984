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
import yaml
from typer.testing import CliRunner

from empowered.cli import app
from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

REAL = Path(__file__).parent / "fixtures" / "real"
GIAS = REAL / "gias_edubasealldata_extract.csv"
runner = CliRunner()

# Each register follows the school's student list, which brings its pupils (and, for the
# Arbor file, the Student ID the needs report names them by).
REGISTERS = [
    ("sims_student_list.csv", "sims_sen_register.csv"),
    ("arbor_students.csv", "arbor_sen_needs.xlsx"),
]


def _truth(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(
        (REAL / name).with_suffix(".expected.yml").read_text(encoding="utf-8")
    )
    return document


def _import(warehouse: str, name: str, school: str) -> str:
    result = runner.invoke(
        app,
        ["import", str(REAL / name), "--school", school, "--export-date", "2026-12-01",
         "--warehouse", warehouse],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return str(result.output)


@pytest.mark.parametrize(("student_list", "register"), REGISTERS)
def test_a_schools_own_sen_register_gets_in(
    tmp_path: Path, student_list: str, register: str
) -> None:
    truth = _truth(register)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    added = runner.invoke(
        app, ["school", "add", school, "--from-gias", str(GIAS), "--warehouse", warehouse]
    )
    assert added.exit_code == 0, added.output
    _import(warehouse, student_list, school)
    output = _import(warehouse, register, school)
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
    quarantined = con.execute(
        "SELECT DISTINCT source_row FROM quarantine.rejected_rows WHERE source_file = ?",
        [register],
    ).fetchall()
    history = con.execute(
        "SELECT pupil_key, valid_from, valid_to, sen_provision, primary_need, secondary_need "
        "FROM core.dim_sen_status_history"
    ).fetchall()
    con.close()

    assert sorted(r for (r,) in quarantined) == sorted(q["row"] for q in truth["quarantine"])
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
