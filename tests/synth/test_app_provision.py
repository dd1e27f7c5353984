"""The demo's intervention groups and session registers (synth.app_provision): landed
through the provision service, accepted by staging, and read by the provision map."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.demo import create_demo_accounts
from empowered.synth.app_provision import write_provision
from empowered.synth.app_sources import WRITERS, land_demo_records
from identity_keys import TEST_KEYS


def test_the_demo_runs_groups_with_a_living_register(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    assert write_provision in WRITERS
    create_demo_accounts(con)
    result = land_demo_records(con, keys=TEST_KEYS, today=date(2026, 11, 20), seed=7)
    assert result is not None and result.ok
    rejected = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows AS q JOIN meta.batches AS b "
        "ON b.batch_id = q.batch_id WHERE b.source LIKE 'app-provision-%'"
    ).fetchone()
    assert rejected == (0,)
    groups = con.execute(
        "SELECT count(*), count(DISTINCT intervention_code), count(DISTINCT school_urn) "
        "FROM core.dim_provision_group"
    ).fetchone()
    assert groups == (3, 2, 1)
    sessions = con.execute(
        "SELECT count(DISTINCT group_id || session_date), "
        "count(DISTINCT CASE WHEN NOT delivered THEN group_id || session_date END), "
        "count(*) FILTER (WHERE delivered AND NOT attended), "
        "count(DISTINCT missed_reason) "
        "FROM core.fct_provision_session WHERE group_id IS NOT NULL"
    ).fetchone()
    assert sessions is not None
    registers, missed, away, reasons = sessions
    assert registers >= 15  # six weeks of three weekly groups
    assert 0 < missed < registers / 3  # some missed, with their reasons
    assert reasons >= 1 and away > 0  # and pupils away now and then
    moved = con.execute(
        "SELECT count(*) FROM core.fct_provision_enrolment WHERE end_reason = 'moved'"
    ).fetchone()
    assert moved == (1,)
    # Every enrolment in a group starts with a reason in words, never a code.
    reasons_given = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE length(reason) > 30) "
        "FROM core.fct_provision_enrolment WHERE group_id IS NOT NULL"
    ).fetchone()
    assert reasons_given is not None and reasons_given[0] == reasons_given[1] >= 10
    # The provision map counts them.
    mapped = con.execute(
        "SELECT sum(sessions_delivered), sum(minutes_attended) FROM marts.provision_enrolment "
        "WHERE group_id IS NOT NULL"
    ).fetchone()
    assert mapped is not None and mapped[0] > 0 and mapped[1] > 0
