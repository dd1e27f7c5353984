"""The demo's concerns and leavers' files: landed through the concern service by the demo
teacher and teaching assistant, built like any source, their words never in clear."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.demo import DEMO_SEED, create_demo_accounts
from empowered.identity import IdentityReader
from empowered.synth.app_concerns import CONCERNS, land_concerns
from empowered.synth.app_sources import WRITERS, land_demo_records
from empowered.views import PupilScope
from empowered.views.concerns import cp_files_due
from identity_keys import TEST_KEYS


def test_the_demo_records_concerns_and_leaves_one_file_to_chase(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    assert land_concerns in WRITERS
    accounts = {a.role: a.username for a in create_demo_accounts(con)}
    result = land_demo_records(con, keys=TEST_KEYS, today=date.today(), seed=DEMO_SEED)
    assert result is not None and result.ok
    rows = con.execute(
        "SELECT c.recorded_by, c.category, c.concern_text, c.school_urn, b.source "
        "FROM core.fct_concern AS c JOIN meta.batches AS b USING (batch_id)"
    ).fetchall()
    assert len(rows) >= 3
    users = dict(con.execute("SELECT 'app-user-' || user_id, username FROM app.users").fetchall())
    recorders = {users[r[0]] for r in rows}
    assert recorders <= {accounts["teacher"], accounts["teaching_assistant"]}
    assert len({r[1] for r in rows}) == len(rows)  # varied categories
    assert {r[4] for r in rows} == {"app-concern"}
    reader = IdentityReader(TEST_KEYS)
    written = {words for _, words, _, _ in CONCERNS}
    assert all(str(r[2]).startswith("enc1:") and reader.text(r[2]) in written for r in rows)
    acknowledged = con.execute(
        "SELECT count(*) FROM core.fct_concern_event WHERE event = 'acknowledged'"
    ).fetchone()
    assert acknowledged == (1,)
    school = rows[0][3]
    leavers = con.execute(
        "SELECT count(*) FROM core.fct_enrolment WHERE school_urn = ? AND leaving_date IS NOT NULL",
        [school],
    ).fetchone()
    assert leavers is not None and leavers[0] >= 2
    due = cp_files_due(con, scope=PupilScope.school(school), today=date.today(), keys=TEST_KEYS)
    received = con.execute("SELECT count(*) FROM core.fct_cp_file_transfer").fetchone()
    assert received is not None and received[0] >= 1
    # Only the latest leaver's file is left to chase (older leavers beyond the reminder's
    # look-back are not listed either way).
    assert len(due) == 1
