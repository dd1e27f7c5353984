"""Provision management's service: checks, landing (one transaction per form, a retried
form landed once), and the provision map's delivered sessions and costs read from the
session register (issue 13, "Done when")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from empowered import provision as pv
from empowered.identity import IdentityReader
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS

NOW = datetime(2026, 11, 20, 15, 30)


def _school_pupils(con: duckdb.DuckDBPyConnection, n: int) -> tuple[str, list[tuple[str, str]]]:
    school = con.execute(
        "SELECT school_urn FROM core.fct_enrolment WHERE is_on_roll GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert school is not None
    rows = con.execute(
        "SELECT i.pupil_key, i.upn FROM core.pupil_identity AS i "
        "JOIN core.fct_enrolment AS e USING (pupil_key, school_urn) "
        "WHERE i.school_urn = ? AND e.is_on_roll ORDER BY 1 LIMIT ?",
        [school[0], n],
    ).fetchall()
    reader = IdentityReader(TEST_KEYS)
    return str(school[0]), [(str(k), str(reader.upn(u))) for k, u in rows]


CATALOGUE_FORM = {
    "name": "Phonics catch-up",
    "area_of_need": "Cognition and learning",
    "staff_role": "teaching_assistant",
    "minutes_per_session": "20",
    "sessions_per_week": "2",
    "weeks": "10",
    "group_size": "3",
    "hourly_rate": "18.00",
    "materials_cost": "45",
    "training_cost": "15",
    "measure": "standardised_score",
}


def test_forms_say_what_is_wrong_beside_each_field() -> None:
    bad = pv.check_intervention(
        {**CATALOGUE_FORM, "name": "", "minutes_per_session": "lots", "staff_role": "wizard"},
        school_urn="100000",
        code=None,
        taken=set(),
    )
    assert set(bad.errors) == {"name", "minutes_per_session", "staff_role"}
    group = pv.check_group(
        {
            "group_name": "G",
            "intervention": "nope",
            "day": "sunday",
            "start_time": "10:00",
            "end_time": "09:00",
        },
        ["app-user-99"],
        interventions={"phonics"},
        staff={"app-user-1"},
        today=date(2026, 11, 20),
    )
    assert set(group.errors) == {"intervention", "staff", "day", "end_time"}
    register, errors = pv.check_register(
        {"delivered": "no", "day": "2099-01-01"},
        ["E9"],
        members=["E1"],
        default_minutes=20,
        today=date(2026, 11, 20),
    )
    assert register is None
    assert set(errors) == {"day", "missed_reason", "attended"}


def test_a_school_entry_never_takes_a_trust_wide_code() -> None:
    assert pv.intervention_code("Phonics catch-up", None, set()) == "phonics-catch-up"
    assert pv.intervention_code("Phonics catch-up", "100000", set()) == "100000-phonics-catch-up"
    taken = {"100000-phonics-catch-up"}
    assert pv.intervention_code("Phonics catch-up", "100000", taken) == "100000-phonics-catch-up-2"


def test_the_provision_map_reads_what_the_register_says(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    """A group's registers (one missed, pupils away) land, build, and the provision marts'
    delivered sessions, attended minutes and costs are the register's, to the penny."""
    con = warehouse_copy
    school, pupils = _school_pupils(con, 4)
    start = date(2026, 9, 8)
    entry = pv.check_intervention(CATALOGUE_FORM, school_urn=school, code=None, taken=set())
    assert entry.ok, entry.errors
    code = pv.land_intervention(con, entry, staff="app-user-1", keys=TEST_KEYS, now=NOW).record_id
    group = pv.check_group(
        {
            "group_name": "Phonics, Monday",
            "intervention": code,
            "day": "monday",
            "start_time": "09:00",
            "end_time": "09:20",
            "start_date": start.isoformat(),
        },
        ["app-user-2"],
        interventions={code},
        staff={"app-user-2"},
        today=date(2026, 11, 20),
    )
    assert group.ok, group.errors
    group_id = pv.land_group(
        con, group, school_urn=school, group_id=None, staff="app-user-1", keys=TEST_KEYS, now=NOW
    ).record_id
    enrolments = []
    for n, (_, upn) in enumerate(pupils[:3]):
        joined = pv.check_start(
            {"start_date": start.isoformat(), "reason": "Phonics screening check not met."},
            today=date(2026, 11, 20),
        )
        enrolments.append(
            pv.started(
                joined,
                school_urn=school,
                upn=upn,
                intervention_code=code,
                group_id=group_id,
                staff_id="app-user-2",
                sessions_planned=20,
                now=NOW + timedelta(seconds=n),
            )
        )
    pv.land_enrolments(con, enrolments, staff="app-user-1", keys=TEST_KEYS, now=NOW)
    ids = [e.enrolment_id for e in enrolments]
    # Four Mondays: held with everyone, held with one away, missed, held 25 minutes.
    days = [start + timedelta(weeks=w) for w in range(4)]
    forms = [
        ({"delivered": "yes"}, ids),
        ({"delivered": "yes"}, ids[1:]),
        ({"delivered": "no", "missed_reason": "staff_absent"}, ids),
        ({"delivered": "yes", "minutes": "25"}, ids[:2]),
    ]
    for n, ((form, here), day) in enumerate(zip(forms, days, strict=True)):
        register, errors = pv.check_register(
            {**form, "day": day.isoformat()},
            here,
            members=ids,
            default_minutes=20,
            today=date(2026, 11, 20),
        )
        assert register is not None, errors
        landed = pv.land_register(
            con,
            register,
            group_id=group_id,
            members=ids,
            recorded_by="app-user-2",
            keys=TEST_KEYS,
            now=NOW,
            key=f"register-key-{n:08d}",
        )
        assert len(landed.batch_ids) == 1  # every member's row in one batch
    # The same form posted twice (a double tap) lands nothing the second time.
    again = pv.land_register(
        con,
        register,
        group_id=group_id,
        members=ids,
        recorded_by="app-user-2",
        keys=TEST_KEYS,
        now=NOW,
        key="register-key-00000003",
    )
    assert again.repeated
    assert build_duckdb(con).ok

    rejected = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows AS q JOIN meta.batches AS b "
        "ON b.batch_id = q.batch_id WHERE b.source LIKE 'app-provision-%'"
    ).fetchone()
    assert rejected == (0,)
    # Expected from the register alone.
    minutes = dict.fromkeys(ids, 0)
    delivered = dict.fromkeys(ids, 0)
    for (form, here), _ in zip(forms, days, strict=True):
        if form["delivered"] == "yes":
            for i in ids:
                delivered[i] += 1
            for i in here:
                minutes[i] += int(form.get("minutes", "20"))
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT enrolment_id, sessions_recorded, sessions_delivered, sessions_attended, "
            "minutes_attended, staff_cost, cost_per_pupil, group_id, reason "
            "FROM marts.provision_enrolment WHERE list_contains(?, enrolment_id)",
            [ids],
        ).fetchall()
    }
    assert set(got) == set(ids)
    for i in ids:
        recorded, held, attended, mins, staff_cost, cost, gid, reason = got[i]
        assert (recorded, held, mins, gid) == (4, delivered[i], minutes[i], group_id)
        assert attended == sum(1 for (f, h) in forms if f["delivered"] == "yes" and i in h)
        assert reason == "Phonics screening check not met."
        assert staff_cost == pytest.approx(minutes[i] / 60 * 18.0 / 3)
        assert cost == pytest.approx(minutes[i] / 60 * 18.0 / 3 + (45 + 15) / 3)
    # The first pupil attended 20 + 0 + 0 + 25 minutes, the third 20 + 20: absences cost
    # nothing for the pupil away (the defect: every delivered minute was counted).
    assert minutes[ids[0]] == 45 and minutes[ids[2]] == 40
    summary = con.execute(
        "SELECT sessions_delivered, minutes_attended, total_cost, enrolments "
        "FROM marts.provision_intervention_summary WHERE school_urn = ? AND intervention_code = ?",
        [school, code],
    ).fetchone()
    assert summary is not None
    assert summary[0] == sum(delivered.values())
    assert summary[1] == sum(minutes.values())
    assert summary[2] == pytest.approx(sum(m / 60 * 6.0 + 20 for m in minutes.values()))
    assert summary[3] == 3
    # One more register, built incrementally (as the app's background rebuild does): the
    # marts catch up with it, not only core.
    fifth, errors = pv.check_register(
        {"delivered": "yes", "day": (start + timedelta(weeks=4)).isoformat()},
        ids,
        members=ids,
        default_minutes=20,
        today=date(2026, 11, 20),
    )
    assert fifth is not None, errors
    landed = pv.land_register(
        con,
        fifth,
        group_id=group_id,
        members=ids,
        recorded_by="app-user-2",
        keys=TEST_KEYS,
        now=NOW,
        key="register-key-00000005",
    )
    assert build_duckdb(con, touched=set(landed.touched)).ok
    after = dict(
        con.execute(
            "SELECT enrolment_id, minutes_attended FROM marts.provision_enrolment "
            "WHERE list_contains(?, enrolment_id)",
            [ids],
        ).fetchall()
    )
    assert after == {i: minutes[i] + 20 for i in ids}
    # The catalogue entry keeps its cost model; the group is in core.
    model = con.execute(
        "SELECT owner_school_urn, staff_role, planned_hours FROM core.dim_intervention "
        "WHERE intervention_code = ?",
        [code],
    ).fetchone()
    assert model == (school, "teaching_assistant", pytest.approx(20 * 2 * 10 / 60))
    assert con.execute(
        "SELECT group_name, day_of_week, start_minute FROM core.dim_provision_group "
        "WHERE group_id = ?",
        [group_id],
    ).fetchone() == ("Phonics, Monday", "monday", 540)


def test_moving_a_pupil_keeps_both_enrolments_with_the_reason(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, pupils = _school_pupils(con, 1)
    code = con.execute("SELECT intervention_code FROM core.dim_intervention LIMIT 1").fetchone()
    assert code is not None
    start = date(2026, 9, 8)
    first = pv.started(
        pv.check_start(
            {"start_date": start.isoformat(), "reason": "Needs help with reading."},
            today=date(2026, 11, 20),
        ),
        school_urn=school,
        upn=pupils[0][1],
        intervention_code=code[0],
        group_id="PG-A",
        staff_id=None,
        sessions_planned=None,
        now=NOW,
    )
    pv.land_enrolments(con, [first], staff="app-user-1", keys=TEST_KEYS, now=NOW)
    assert build_duckdb(con).ok
    end = pv.check_end(
        {"end_date": "2026-10-13", "end_reason": "moved"},
        start_date=start,
        today=date(2026, 11, 20),
    )
    then = pv.started(
        pv.check_start(
            {"start_date": "2026-10-13", "reason": "The slot clashes with speech and language."},
            today=date(2026, 11, 20),
        ),
        school_urn=school,
        upn=pupils[0][1],
        intervention_code=code[0],
        group_id="PG-B",
        staff_id=None,
        sessions_planned=None,
        now=NOW + timedelta(seconds=1),
    )
    landed = pv.land_enrolments(
        con, [pv.ended(first, end), then], staff="app-user-1", keys=TEST_KEYS, now=NOW
    )
    assert len(landed.batch_ids) == 1  # both versions in one batch, one transaction
    assert build_duckdb(con, touched=set(landed.touched)).ok
    rows = con.execute(
        "SELECT enrolment_id, group_id, cast(end_date AS VARCHAR), end_reason, reason "
        "FROM core.fct_provision_enrolment WHERE list_contains(?, enrolment_id) ORDER BY 2",
        [[first.enrolment_id, then.enrolment_id]],
    ).fetchall()
    assert rows == [
        (first.enrolment_id, "PG-A", "2026-10-13", "moved", "Needs help with reading."),
        (then.enrolment_id, "PG-B", None, None, "The slot clashes with speech and language."),
    ]
    # The first enrolment's earlier version is its history.
    versions = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_provision_enrolments "
        "WHERE enrolment_id = ? AND _reject_reason IS NULL",
        [first.enrolment_id],
    ).fetchone()
    assert versions == (2,)
