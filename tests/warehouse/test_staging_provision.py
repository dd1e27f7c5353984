"""Staging's rules for provision management's records (the intervention catalogue's cost
model, groups, a register's attendance), on rows landed without the app's form checks, as
a file or a faulty client would send them: each is quarantined with its reason."""

from __future__ import annotations

import duckdb

from empowered import provision as pv
from empowered.sources.landing import land_app_records
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def test_bad_provision_rows_are_quarantined_with_their_reasons(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, enrolment, code = con.execute(
        "SELECT school_urn, enrolment_id, intervention_code FROM core.fct_provision_enrolment "
        "ORDER BY enrolment_id LIMIT 1"
    ).fetchone() or ("", "", "")
    land_app_records(
        con,
        [
            (
                pv.INTERVENTIONS,
                [
                    {
                        "intervention_code": "bad-often",
                        "intervention_name": "Too often",
                        "sessions_per_week": "0",
                    },
                    {
                        "intervention_code": "bad-weeks",
                        "intervention_name": "Weeks",
                        "weeks": "many",
                    },
                ],
            ),
            (
                pv.GROUPS,
                [
                    {
                        "group_id": "PG-1",
                        "school_urn": school,
                        "intervention_code": code,
                        "group_name": "Sunday club",
                        "day_of_week": "sunday",
                        "start_date": "2026-09-01",
                    },
                    {
                        "group_id": "PG-2",
                        "school_urn": school,
                        "intervention_code": code,
                        "group_name": "Backwards",
                        "day_of_week": "monday",
                        "start_time": "10:00",
                        "end_time": "09:30",
                        "start_date": "2026-09-01",
                    },
                    {
                        "group_id": "PG-3",
                        "school_urn": school,
                        "intervention_code": "nope",
                        "group_name": "Unknown",
                        "start_date": "2026-09-01",
                    },
                    {
                        "group_id": "PG-4",
                        "school_urn": school,
                        "intervention_code": code,
                        "group_name": "Ends first",
                        "start_date": "2026-09-01",
                        "end_date": "2026-08-01",
                    },
                    {
                        "group_id": "PG-5",
                        "school_urn": school,
                        "intervention_code": code,
                        "group_name": "Fine",
                        "day_of_week": "Friday",
                        "start_time": "9:05",
                        "start_date": "2026-09-01",
                    },
                ],
            ),
            (
                pv.SESSIONS,
                [
                    {
                        "enrolment_id": enrolment,
                        "session_date": "2026-09-02",
                        "delivered": "N",
                        "attended": "Y",
                    },
                    {
                        "enrolment_id": enrolment,
                        "session_date": "2026-09-03",
                        "delivered": "Y",
                        "attended": "perhaps",
                    },
                ],
            ),
        ],
        source="test",
        file_name="faulty client",
        seed="faulty-provision",
        keys=TEST_KEYS,
    )
    assert build_duckdb(con).ok
    got = set(
        con.execute(
            "SELECT q.entity, q.column_name, q.reason FROM quarantine.rejected_rows AS q "
            "JOIN meta.batches AS b USING (batch_id) WHERE b.source = 'test'"
        ).fetchall()
    )
    assert got == {
        ("interventions", "sessions_per_week", "is not a whole number of 1 or more"),
        ("interventions", "weeks", "is not a whole number of 1 or more"),
        (
            "provision_groups",
            "day_of_week",
            "is not one of: monday, tuesday, wednesday, thursday, friday",
        ),
        ("provision_groups", "end_time", "is not after the start time"),
        (
            "provision_groups",
            "intervention_code",
            "is not an intervention in the catalogue (interventions.csv)",
        ),
        ("provision_groups", "end_date", "is before the start date"),
        (
            "provision_sessions",
            "attended",
            "says the pupil attended a session that was not delivered",
        ),
        ("provision_sessions", "attended", "must be Y or N (or Yes/No)"),
    }
    fine = con.execute(
        "SELECT day_of_week, start_minute FROM core.dim_provision_group WHERE group_id = 'PG-5'"
    ).fetchone()
    assert fine == ("friday", 545)
