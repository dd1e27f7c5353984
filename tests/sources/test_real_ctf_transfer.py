"""A Common Transfer File from a school outside the trust (CTF 25, an incoming transfer):
its pupils land at the school it was sent to, found by the LA code and establishment number
its header gives, with their SEN history, each need by its own dates (never attached to
the wrong SEN entry), and the earlier school's register kept with the pupil's record
rather than counted as this school's attendance: its yearly totals (YearData) are
attendance summaries of that school, history that this school's figures never count.

File and truth: fixtures/real/ (see test_real_pupil_lists)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from real_files import import_file, read_truth, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

NAME = "ctf25_transfer_in.xml"


def test_a_ctf_from_another_school_lands_at_its_destination(tmp_path: Path) -> None:
    truth = read_truth(NAME)
    warehouse = str(tmp_path / "w.duckdb")
    # The destination is set up; the source school (outside the trust) is not.
    set_up_school(warehouse, "145811")
    output = import_file(warehouse, NAME)
    assert "a transfer in from" in output and "placed at 145811" in output

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    upn_of = {
        k: reader.upn(u)
        for k, u in con.execute("SELECT pupil_key, upn FROM core.pupil_identity").fetchall()
    }
    schools = con.execute("SELECT DISTINCT school_urn FROM core.dim_pupil").fetchall()
    history = con.execute(
        "SELECT pupil_key, valid_from, valid_to, sen_provision, primary_need, secondary_need "
        "FROM core.dim_sen_status_history"
    ).fetchall()
    marks = con.execute("SELECT count(*) FROM staging.stg_canonical_attendance").fetchone()
    kept = con.execute("SELECT _extra FROM raw.canonical_pupils").fetchall()
    rejected = con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone()
    summaries = con.execute(
        "SELECT pupil_key, period_start, period_end, possible, present, authorised, "
        "unauthorised, from_school_urn, from_school_laestab, from_other_school "
        "FROM core.fct_attendance_summary"
    ).fetchall()
    counted = con.execute(
        "SELECT (SELECT count(*) FROM marts.attendance_summary_period) "
        "+ (SELECT count(*) FROM marts.attendance_pupil_year_all)"
    ).fetchone()
    con.close()
    assert schools == [("145811",)] and rejected == (0,)
    assert set(upn_of.values()) == {u for u, t in truth["truth"].items() if isinstance(t, dict)}
    # The earlier school's marks are not this school's register, but nothing is lost.
    assert marks == (0,)
    previous = [json.loads(json.loads(e)["previous_school_attendance"]) for (e,) in kept]
    assert all(p and {b["estab"] for b in p} == {"3502"} for p in previous)

    def on(upn: str, day: date) -> tuple[Any, ...] | None:
        for key, start, end, provision, primary, secondary in history:
            if upn_of[key] == upn and start <= day and (end is None or day < end):
                return provision, primary, secondary
        return None

    checked = 0
    for upn, t in truth["truth"].items():
        if not isinstance(t, dict):
            continue
        for day, want in t["as_at"].items():
            got = on(upn, date.fromisoformat(day))
            assert got == (want["sen_provision"], want["primary_need"], want["secondary_need"]), (
                upn,
                day,
            )
            checked += 1
    assert checked == 5

    # Each YearData is a summary of the school that recorded it (2025 = 2025/26, the
    # year the file was written cut at its date, 20 November 2026), kept as its history.
    got = sorted(
        (str(upn_of[k]), start.isoformat(), end.isoformat(), *rest)
        for k, start, end, *rest in summaries
    )
    periods = {"2025/26": ("2025-09-01", "2026-08-31"), "2026/27": ("2026-09-01", "2026-11-20")}
    want = sorted(
        (
            upn,
            *periods[s["academic_year"]],
            s["possible"],
            s["present"],
            s["authorised"],
            s["unauthorised"],
            s["school_urn"],
            "8783502",
            True,
        )
        for upn, t in truth["truth"].items()
        if isinstance(t, dict)
        for s in t["attendance_summaries"]
    )
    assert got == want
    # Not this school's attendance: nothing of it reaches the year figures here.
    assert counted == (0,)
