"""The demo's reviews, landed through the app's review service and built once."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.demo import create_demo_accounts
from empowered.synth.app_reviews import write_reviews
from empowered.synth.app_sources import WRITERS, land_demo_records
from identity_keys import TEST_KEYS


def test_the_demo_holds_reviews_with_views_and_an_ehc_step_coming_due(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    assert write_reviews in WRITERS
    create_demo_accounts(con)
    build = land_demo_records(con, keys=TEST_KEYS, today=date.today(), seed=7)
    assert build is not None and build.ok, [f.message for f in build.failures()] if build else None
    [(school,)] = con.execute(
        "SELECT DISTINCT school_urn FROM app.users WHERE role = 'senco'"
    ).fetchall()
    meetings = con.execute(
        "SELECT m.plan_id, m.plan_type, m.parent_views, m.pupil_views, m.parent_discussion, "
        "m.held_by, r.review_overdue FROM core.fct_review_meeting AS m "
        "JOIN marts.register_pupil AS r ON r.current_plan_id = m.plan_id "
        "WHERE m.school_urn = ?",
        [school],
    ).fetchall()
    assert len(meetings) >= 5
    # Every record went through staging: nothing of the app's sources was quarantined.
    rejected = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE batch_id IN "
        "(SELECT batch_id FROM meta.batches WHERE source IN ('app-review', "
        "'app-ehc-review-step'))"
    ).fetchone()
    assert rejected == (0,)
    # Plausible and varied words, the SENCo's account, and no reviewed plan left overdue.
    assert len({m[2] for m in meetings}) >= 3 and len({m[3] for m in meetings}) >= 3
    assert all(m[2] and m[3] and m[4] for m in meetings)
    assert {m[5] for m in meetings} == {
        f"app-user-{u}"
        for (u,) in con.execute("SELECT user_id FROM app.users WHERE role = 'senco'").fetchall()
    }
    assert not any(m[6] for m in meetings)
    # Each outcome rated on the closed scale.
    ratings = con.execute(
        "SELECT DISTINCT rating FROM core.fct_plan_review WHERE meeting_id IS NOT NULL"
    ).fetchall()
    assert {r for (r,) in ratings} <= {-2, -1, 0, 1, 2} and len(ratings) >= 3
    # An EHC plan whose advice and papers come due within six weeks, the report recorded.
    steps = dict(
        con.execute(
            "SELECT s.step, s.is_done FROM marts.ehc_review_step AS s "
            "JOIN core.fct_review_meeting AS m USING (plan_id) "
            "WHERE s.school_urn = ? AND s.shows_from <= s.as_of_date",
            [school],
        ).fetchall()
    )
    assert steps.get("advice_requested") is False and steps.get("papers_sent") is False
    assert steps.get("report_sent") is True
