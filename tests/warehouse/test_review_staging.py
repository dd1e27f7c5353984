"""Reviews held in the app through staging and core: a meeting and its outcomes' ratings
are accepted beside imported reviews; a rating off the -2..+2 scale, a row with neither
progress nor rating, a meeting of another plan and a meeting in the future are
quarantined with their reasons."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from empowered.reviews import MEETINGS, PROGRESS, SOURCE
from empowered.sources.landing import land_app_records
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def test_app_reviews_and_their_quarantine(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    [(plan, other, school, start)] = con.execute(
        "SELECT p.plan_id, (SELECT min(plan_id) FROM core.fct_plan WHERE plan_id <> p.plan_id), "
        "p.school_urn, p.start_date FROM core.fct_plan AS p "
        "WHERE p.plan_id IN (SELECT plan_id FROM core.fct_plan_outcome) ORDER BY 1 LIMIT 1"
    ).fetchall()
    [(outcome,)] = con.execute(
        "SELECT min(outcome_id) FROM core.fct_plan_outcome WHERE plan_id = ?", [plan]
    ).fetchall()
    held = start + timedelta(days=30)
    meeting = {
        "meeting_id": "RM-T1",
        "school_urn": school,
        "plan_id": plan,
        "held_on": held.isoformat(),
        "held_by": "app-user-1",
        "parents_met": "Y",
        "parent_views": "Pleased.",
        "next_review_due": (held + timedelta(days=90)).isoformat(),
    }
    future = meeting | {"meeting_id": "RM-T2", "held_on": "2999-01-01", "next_review_due": ""}

    def row(n: int, **values: str) -> dict[str, str]:
        base = {"review_id": f"RM-T1-{n}", "plan_id": plan, "outcome_id": outcome}
        return base | {"review_date": held.isoformat(), "meeting_id": "RM-T1"} | values

    reviews = [
        row(1, rating="2"),
        row(2, rating="3"),
        row(3),
        row(4, rating="0", plan_id=other, outcome_id=""),
    ]
    land_app_records(
        con,
        [(MEETINGS, [meeting, future]), (PROGRESS, reviews)],
        source=SOURCE,
        file_name="test reviews",
        seed="test-review-staging",
        keys=TEST_KEYS,
    )
    result = build_duckdb(con, touched={MEETINGS.raw_table, PROGRESS.raw_table})
    assert result.ok, [f.message for f in result.failures()]
    rejected = {
        (entity, column, reason)
        for entity, column, reason in con.execute(
            "SELECT entity, column_name, reason FROM quarantine.rejected_rows WHERE batch_id IN "
            "(SELECT batch_id FROM meta.batches WHERE source = ?)",
            [SOURCE],
        ).fetchall()
    }
    assert rejected == {
        ("review_meetings", "held_on", "is in the future"),
        ("plan_reviews", "rating", "is not a whole number from -2 to 2"),
        (
            "plan_reviews",
            "progress",
            "is missing: give the progress in words or as a rating from -2 to +2",
        ),
        ("plan_reviews", "meeting_id", "is not a review meeting of this plan"),
    }
    got = con.execute(
        "SELECT review_id, rating, progress, meeting_id FROM core.fct_plan_review "
        "WHERE meeting_id IS NOT NULL"
    ).fetchall()
    assert got == [("RM-T1-1", 2, None, "RM-T1")]
    [(due, last)] = con.execute(
        "SELECT review_due_on, last_held_review_on FROM core.fct_plan WHERE plan_id = ?", [plan]
    ).fetchall()
    assert last is not None and last >= held
    if last == held:  # no imported review after it: the meeting's own next date
        assert due == held + timedelta(days=90)
