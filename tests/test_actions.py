"""The actions service (issue 13, item 3): the form's checks, landing an action and its
status changes as app-entered rows, and what staging and core make of them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from empowered import actions as act
from empowered.identity import IdentityReader
from empowered.sources.landing import land_app_record
from identity_keys import TEST_KEYS

TODAY = date(2026, 3, 2)
OWNERS = {"app-user-4": act.Owner("app-user-4", "teacher", "Teacher")}


def test_the_form_is_checked_as_staging_checks_it() -> None:
    good = {
        "kind": "refer_specialist",
        "description": "Refer to the educational psychologist for a reading assessment.",
        "owner": "app-user-4",
        "due_date": "2026-03-20",
        "source": "trigger",
        "ref": "a1b2c3",
    }
    checked = act.check_action(good, owners=OWNERS, today=TODAY)
    assert (
        checked.ok and checked.values["source"] == "trigger" and checked.values["ref"] == "a1b2c3"
    )
    bad = act.check_action(
        {"kind": "nap", "description": "x" * 501, "owner": "app-user-9", "due_date": "20/03"},
        owners=OWNERS,
        today=TODAY,
    )
    assert set(bad.errors) == {"kind", "description", "owner", "due_date"}
    late = act.check_action(good | {"due_date": "2026-03-01"}, owners=OWNERS, today=TODAY)
    assert "has passed" in late.errors["due_date"]
    # A source no link gives is taken as the pupil's page, never landed as typed.
    odd = act.check_action(good | {"source": "elsewhere"}, owners=OWNERS, today=TODAY)
    assert odd.values["source"] == "pupil"


def _a_pupil(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    row = con.execute(
        "SELECT i.pupil_key, i.school_urn, i.upn FROM core.pupil_identity AS i "
        "JOIN core.dim_pupil AS p USING (pupil_key) WHERE p.is_on_roll ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), str(IdentityReader(TEST_KEYS).upn(row[2]))


def test_an_action_and_its_status_changes_flow_through_staging_and_core(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    pupil, school, upn = _a_pupil(con)
    action_id = act.new_action_id(TODAY)
    agreed_at = datetime(2026, 3, 2, 9, 30)
    act.land_action(
        con,
        act.NewAction(
            action_id,
            school,
            upn,
            "meet_family",
            "Meet the family to agree how homework is set.",
            "app-user-4",
            TODAY + timedelta(days=10),
            "review",
            "app-user-2",
        ),
        keys=TEST_KEYS,
        now=agreed_at,
    )
    assert act.already_landed(con, school, action_id)
    assert act.build_actions(con).ok
    key = f"{school}:{action_id}"
    current = con.execute("SELECT * FROM core.fct_action WHERE action_key = ?", [key]).fetchone()
    assert current is not None
    row = dict(zip([d[0] for d in con.description or ()], current, strict=True))
    assert (row["pupil_key"], row["status"], row["is_open"], row["owner"], row["kind"]) == (
        pupil,
        "open",
        True,
        "app-user-4",
        "meet_family",
    )
    for status, at in (("done", datetime(2026, 3, 9, 15, 0)), ("open", datetime(2026, 3, 10, 8))):
        act.land_status(con, row, upn=upn, status=status, by="app-user-4", keys=TEST_KEYS, now=at)
        assert act.build_actions(con).ok
    history = con.execute(
        "SELECT version_number, status, status_by, status_at, is_current "
        "FROM core.fct_action_history WHERE action_key = ? ORDER BY 1",
        [key],
    ).fetchall()
    assert history == [
        (1, "open", "app-user-2", agreed_at, False),
        (2, "done", "app-user-4", datetime(2026, 3, 9, 15, 0), False),
        (3, "open", "app-user-4", datetime(2026, 3, 10, 8), True),
    ]
    reopened = con.execute(
        "SELECT status, is_open, completed_on FROM core.fct_action WHERE action_key = ?", [key]
    ).fetchone()
    assert reopened == ("open", True, None)


def test_a_row_breaking_the_action_rules_is_quarantined_with_its_reason(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    _, school, upn = _a_pupil(con)
    base = {
        "action_id": "AA-20260302-000000000001",
        "school_urn": school,
        "upn": upn,
        "raised_on": "2026-03-02",
        "source": "register",
        "description": "Follow up.",
        "kind": "follow_up",
        "owner": "app-user-4",
        "status": "open",
    }
    cases = {
        "AA-20260302-000000000001": ({"status": "finished"}, "status"),
        "AA-20260302-000000000002": ({"status": "done", "status_by": ""}, "status_by"),
        "AA-20260302-000000000003": ({"owner": "Mrs Example"}, "owner"),
        "AA-20260302-000000000004": ({"kind": "lunch"}, "kind"),
    }
    for action_id, (change, _) in cases.items():
        land_app_record(
            con,
            act.ENTITY,
            base | {"action_id": action_id} | change,
            source=act.SOURCE,
            file_name="test",
            seed=action_id,
            keys=TEST_KEYS,
        )
    assert act.build_actions(con).ok
    got = dict(
        con.execute(
            "SELECT action_id, _reject_column FROM staging.stg_canonical_actions "
            "WHERE action_id LIKE 'AA-20260302-0000000000%'"
        ).fetchall()
    )
    assert got == {k: column for k, (_, column) in cases.items()}


def test_imported_actions_take_their_status_from_completed_on(
    built: duckdb.DuckDBPyConnection,
) -> None:
    wrong = built.execute(
        "SELECT count(*) FROM core.fct_action WHERE owner IS NULL AND "
        "(completed_on IS NULL) <> (status = 'open' AND is_open)"
    ).fetchone()
    assert wrong == (0,)
    assert built.execute(
        "SELECT count(*) FILTER (WHERE is_open), count(*) FILTER (WHERE NOT is_open) "
        "FROM core.fct_action"
    ).fetchone() > (0, 0)
