"""The demo's living record: the actions writer lands realistic actions at the demo
school, owned by the demo accounts, some overdue and some done, through the actions
service (issue 13, items 3 and 9)."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.access.policy import can_see_pupil, scope_for
from empowered.access.roles import Role
from empowered.access.users import list_users
from empowered.actions import build_actions
from empowered.demo import create_demo_accounts
from empowered.synth.app_actions import write_actions
from empowered.synth.app_sources import WRITERS, DemoContext
from identity_keys import TEST_KEYS


def test_the_demo_school_gets_varied_actions_for_its_staff(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    assert write_actions in WRITERS
    create_demo_accounts(con)
    users = [u for u in list_users(con) if u.school_urn is not None]
    school = users[0].school_urn
    assert school is not None
    staff = {u.role: u for u in users if u.school_urn == school}
    today = date.today()
    context = DemoContext(school, staff, TEST_KEYS, today, seed=7)
    landed = write_actions(con, context)
    assert landed > 0
    # Landed only: the demo's hook builds once, after every writer.
    built = con.execute("SELECT count(*) FROM core.fct_action WHERE owner IS NOT NULL")
    assert built.fetchone() == (0,)
    assert build_actions(con).ok
    rows = con.execute(
        "SELECT owner, pupil_key, status, is_open AND due_date < ?, description, kind, source "
        "FROM core.fct_action WHERE owner IS NOT NULL",
        [today],
    ).fetchall()
    by_ref = {f"app-user-{u.user_id}": u for u in staff.values()}
    owners = {by_ref[r[0]].role for r in rows}
    assert owners == {Role.TEACHER, Role.TEACHING_ASSISTANT, Role.SENCO, Role.DSL}
    statuses = [r[2] for r in rows]
    assert {"open", "done", "cancelled"} <= set(statuses)
    assert any(r[3] for r in rows), "some are overdue"
    assert len({r[4] for r in rows}) >= 8 and len({r[5] for r in rows}) >= 4
    # Every owner may open the page of the pupil their action is about.
    for owner, pupil, *_ in rows:
        assert can_see_pupil(scope_for(con, by_ref[owner], today=today), pupil)
    # Status changes kept as history, all from the app's own source.
    assert con.execute(
        "SELECT count(*) FROM core.fct_action_history WHERE owner IS NOT NULL AND NOT is_current"
    ).fetchone() == (statuses.count("done") + statuses.count("cancelled"),)
    sources = con.execute(
        "SELECT DISTINCT b.source FROM raw.canonical_actions AS r "
        "JOIN meta.batches AS b ON b.batch_id = r._batch_id WHERE r.owner IS NOT NULL"
    ).fetchall()
    assert sources == [("app-action",)]


def test_the_same_seed_lands_the_same_actions(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    create_demo_accounts(con)
    users = [u for u in list_users(con) if u.school_urn is not None]
    school = users[0].school_urn
    assert school is not None
    staff = {u.role: u for u in users if u.school_urn == school}
    context = DemoContext(school, staff, TEST_KEYS, date(2026, 3, 2), seed=11)
    write_actions(con, context)
    first = con.execute(
        "SELECT action_id, description, due_date FROM raw.canonical_actions "
        "WHERE owner IS NOT NULL ORDER BY 1, 2, 3"
    ).fetchall()
    con.execute("DELETE FROM raw.canonical_actions WHERE owner IS NOT NULL")
    write_actions(con, context)
    again = con.execute(
        "SELECT action_id, description, due_date FROM raw.canonical_actions "
        "WHERE owner IS NOT NULL ORDER BY 1, 2, 3"
    ).fetchall()
    assert first == again and first
