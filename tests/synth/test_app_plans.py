"""The demo's plans (issue 13, item 9): landed through the plan page's own service for
pupils on the SEN register at the demo school, then built like any source."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.access.store import ensure_access_tables
from empowered.access.users import add_user
from empowered.synth.app_plans import EHC_PLANS, SUPPORT_PLANS, write_plans
from empowered.synth.app_sources import WRITERS, land_demo_records
from identity_keys import TEST_KEYS


def test_the_demo_school_gets_living_plans(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    assert write_plans in WRITERS
    (school,) = con.execute(
        "SELECT school_urn FROM marts.register_pupil WHERE on_register GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone() or ("",)
    ensure_access_tables(con)
    add_user(con, "demo-senco", "correct horse battery staple", "senco", school_urn=school)
    result = land_demo_records(con, keys=TEST_KEYS, today=date.today(), seed=11)
    assert result is not None
    assert result.ok, "\n".join(f.message for f in result.failures())
    # Every landed row was accepted: the writer went through the form's checks.
    assert con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows AS q JOIN meta.batches AS b "
        "ON b.batch_id = q.batch_id WHERE b.source = 'app-plan'"
    ).fetchone() == (0,)
    plans = con.execute(
        "SELECT plan_type, status, plan_version, school_urn FROM core.fct_plan "
        "WHERE saved_by IS NOT NULL"
    ).fetchall()
    # A dozen or more at the demo's school; the test trust's schools are smaller.
    on_register = dict(
        con.execute(
            "SELECT sen_provision, count(*) FROM marts.register_pupil "
            "WHERE on_register AND school_urn = ? GROUP BY 1",
            [school],
        ).fetchall()
    )
    support = [p for p in plans if p[0] == "sen_support_plan"]
    ehc = [p for p in plans if p[0] == "ehc_plan"]
    assert len(support) == min(SUPPORT_PLANS, on_register.get("K", 0)) > 0
    assert len(ehc) == min(EHC_PLANS, on_register.get("E", 0))
    assert {p[3] for p in plans} == {school}
    assert {p[1] for p in plans} == {"draft", "agreed"}
    assert any(p[2] == 2 for p in plans), "some plans were changed at a review"
    # Each plan's outcomes are its latest version's, with strategies from the catalogue.
    outcomes = con.execute(
        "SELECT count(*), count(DISTINCT outcome_text), count(strategy_codes) "
        "FROM core.fct_plan_outcome AS o JOIN core.fct_plan AS p USING (plan_id) "
        "WHERE p.saved_by IS NOT NULL AND o.in_plan"
    ).fetchone()
    assert outcomes is not None and outcomes[0] >= 3 * len(plans) - len(plans)
    assert outcomes[1] >= 10 and outcomes[2] == outcomes[0]
    linked = con.execute("SELECT count(*) FROM marts.strategy_plan_outcome").fetchone()
    assert linked is not None and linked[0] >= outcomes[0]
    # A second run lands a second set of versions, never a duplicate row.
    again = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_plans WHERE _is_current "
        "GROUP BY plan_id HAVING count(*) > 1"
    ).fetchall()
    assert again == []
