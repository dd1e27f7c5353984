"""Retention removes a pupil past the retention period from EVERY layer.

Checked generically: every table in the warehouse (from the catalogue) is searched, every
column of every row, for the pupil's key and for identity values only they have; their raw
rows are looked for by the ids staging gave them. A table added later that holds a pupil
key fails here until retention covers it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from pupil_fixtures import last_record_day, mentions, plant, raw_left

from empowered.access.audit import read_log
from empowered.access.retention import apply, pupils_past

pytestmark = pytest.mark.slow

# The one table allowed to name a purged pupil: the audit log, with their pseudonymous key
# only (the purge record, and the record of who saw their file until its own period ends).
KEPT = {"app.audit_log"}


def test_a_pupil_past_retention_is_removed_from_every_layer(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    planted = plant(con, tmp_path, last_record_day(con))
    p = planted.pupil
    held = mentions(con, (p,))
    # They are everywhere before: raw pseudonym map, staging, core, marts, app tables.
    for table in ("raw.pupil_pseudonym", "staging.stg_canonical_pupils", "core.pupil_identity",
                  "core.dim_characteristics_history", "core.bridge_group_member",
                  "marts.wellbeing_pupil_day", "app.pupil_notes", "app.trigger_reviews",
                  "app.user_pupils"):  # fmt: skip
        assert held.get(table), table
    assert {"observations", "pupils", "characteristics", "plans", "plan_reviews",
            "provision_sessions"} <= set(planted.raw_rows)  # fmt: skip
    assert raw_left(con, planted.raw_rows) > 0
    assert planted.identifiers, "their UPN at least is theirs alone"
    before_audit = read_log(con, pupil_key=p, limit=100)

    # Eight years on, their observations are past retention but not their whole record.
    assert pupils_past(con, today=date.today() + timedelta(days=8 * 366)).pupils == 0
    later = date.today() + timedelta(days=14 * 366)
    assert pupils_past(con, today=later).pupils >= 1

    applied = apply(con, today=later, files=planted.folders)

    assert applied.build_ok and applied.pupils_purged >= 1
    # Nothing of theirs anywhere but the audit log: not their key, not their identity
    # (clear or encrypted), not a raw row of any source.
    left = mentions(con, (p, *planted.identifiers))
    assert set(left) <= KEPT, {t: n for t, n in left.items() if t not in KEPT}
    assert raw_left(con, planted.raw_rows) == 0
    # The stored copies of a file that held their rows are gone; other files stay.
    assert not any(path.exists() for path in planted.file_copies)
    assert planted.unrelated_file.exists() and applied.files_deleted == 2
    # One pseudonymous purge record: counts per table, nothing identifying.
    [purge] = read_log(con, pupil_key=p, event="pupil_purged")
    rows = purge["detail"]["rows"]
    for table in ("raw.canonical_pupils", "raw.canonical_observations", "raw.pupil_pseudonym",
                  "core.pupil_identity", "app.pupil_notes", "app.trigger_reviews",
                  "quarantine.rejected_rows"):  # fmt: skip
        assert rows.get(table, 0) >= 1, table
    assert not any(value in str(purge) for value in planted.identifiers)
    # The audit log otherwise holds only what it held before (the key, no identity).
    kept = read_log(con, pupil_key=p, limit=100)
    assert {e["event_id"] for e in kept} - {e["event_id"] for e in before_audit} == {
        purge["event_id"]
    }
    # A pupil on roll keeps everything, the note included.
    other = mentions(con, (planted.other,))
    for table in ("core.pupil_identity", "app.pupil_notes", "raw.pupil_pseudonym"):
        assert other.get(table), table
    # Applying again finds nobody.
    assert pupils_past(con, today=later).pupils == 0
