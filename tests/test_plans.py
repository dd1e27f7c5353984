"""Plans written in the app (issue 13, item 1): checked as staging checks them, landed as a
new version of the plan each save (the plan and its outcomes in one transaction), built
through staging and core, with the history kept and an outcome taken out no longer current."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from empowered import plans
from empowered.identity import IdentityReader
from empowered.views import PupilScope, queries
from empowered.views.capture import strategy_choices
from empowered.views.plan import plan_page
from identity_keys import TEST_KEYS

TODAY = date.today()


def a_pupil(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    """A pupil on roll: (school, pupil key, UPN as the school's MIS would give it)."""
    row = con.execute(
        "SELECT i.school_urn, i.pupil_key, i.upn FROM core.pupil_identity AS i "
        "JOIN core.dim_pupil AS p USING (pupil_key) WHERE p.is_on_roll "
        "ORDER BY i.pupil_key LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), str(IdentityReader(TEST_KEYS).upn(row[2]))


def plan_form(outcomes: list[dict[str, object]], **extra: str) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {
        "plan_type": ["sen_support_plan"],
        "start_date": [(TODAY - timedelta(days=7)).isoformat()],
        "next_review_due": [(TODAY + timedelta(days=60)).isoformat()],
        "strengths": ["Kind to younger children; loves building things."],
        "needs_communication": ["Finds spoken instructions hard to hold on to."],
        "outcome_count": [str(len(outcomes))],
    }
    for n, o in enumerate(outcomes):
        for k, v in o.items():
            form[f"o{n}_{k}"] = list(v) if isinstance(v, list) else [str(v)]
    form.update({k: [v] for k, v in extra.items()})
    return form


def outcome(text: str, area: int = 0, **extra: object) -> dict[str, object]:
    return {
        "text": text,
        "area": plans.AREAS[area],
        "target": (TODAY + timedelta(days=90)).isoformat(),
        **extra,
    }


def senco_ref(con: duckdb.DuckDBPyConnection) -> str:
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user, find_user
    from empowered.sources.capture import staff_ref

    ensure_access_tables(con)
    found = find_user(con, "plan-senco")
    if found is None:
        found = add_user(
            con, "plan-senco", "correct horse battery staple", "senco", school_urn=a_pupil(con)[0]
        )
    return staff_ref(found.user_id)


def save(
    con: duckdb.DuckDBPyConnection, form: dict[str, list[str]], *, agree: bool = False
) -> plans.SavedPlan:
    school, _, upn = a_pupil(con)
    staff = senco_ref(con)
    checked = plans.check_plan(form, strategies=strategy_choices(con), today=TODAY, agree=agree)
    assert checked.ok, checked.errors
    saved = plans.land_plan(
        con,
        checked,
        school_urn=school,
        upn=upn,
        staff=staff,
        keys=TEST_KEYS,
        now=datetime.now(),
        key=plans.new_key(),
    )
    assert saved is not None
    assert plans.build_plan(con, saved).ok
    return saved


def test_a_plan_lands_builds_and_keeps_every_version(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, pupil, _ = a_pupil(con)
    codes = [c for c, _ in strategy_choices(con)][:2]
    first = save(
        con,
        plan_form(
            [
                outcome("Will ask for help using a help card.", 0, strategy=codes),
                outcome("Will read the next ten common exception words.", 1),
                outcome("Will use a calm corner when upset.", 2, who="Class TA", how_often="Daily"),
            ]
        ),
    )
    assert first.version == 1 and len(first.outcome_ids) == 3
    sources = con.execute(
        "SELECT DISTINCT source FROM meta.batches WHERE batch_id IN (SELECT unnest(?))",
        [list(first.batch_ids)],
    ).fetchall()
    assert sources == [("app-plan",)]
    fact = con.execute(
        "SELECT plan_version, status, strengths, pupil_key FROM core.fct_plan WHERE plan_id = ?",
        [first.plan_id],
    ).fetchone()
    assert fact == (1, "draft", "Kind to younger children; loves building things.", pupil)
    kept = con.execute(
        "SELECT outcome_id, strategy_codes, who FROM core.fct_plan_outcome WHERE plan_id = ? "
        "AND in_plan ORDER BY outcome_id",
        [first.plan_id],
    ).fetchall()
    assert len(kept) == 3
    assert {r[1] for r in kept} == {";".join(codes), None}
    linked = con.execute(
        "SELECT strategy_code FROM marts.strategy_plan_outcome WHERE plan_id = ? ORDER BY 1",
        [first.plan_id],
    ).fetchall()
    assert [r[0] for r in linked] == sorted(codes)

    # An edit: the second outcome taken out, the first reworded, a fourth added.
    scope = PupilScope.school(school)
    page = plan_page(con, pupil, scope=scope)
    assert page.current is not None and page.current.plan_id == first.plan_id
    form = page.current.form()
    gone = form["o1_id"][0]
    form["o1_remove"] = ["yes"]
    form["o0_text"] = ["Will ask for help using words or the help card."]
    form["outcome_count"] = ["4"]
    form.update({f"o3_{k}": [str(v)] for k, v in outcome("Will join a lunchtime club.", 2).items()})
    second = save(con, form)
    assert (second.plan_id, second.version) == (first.plan_id, 2)
    current = {
        r[0]: r[1]
        for r in con.execute(
            "SELECT outcome_id, outcome_text FROM core.fct_plan_outcome WHERE plan_id = ? "
            "AND in_plan",
            [first.plan_id],
        ).fetchall()
    }
    assert gone not in current
    assert len(current) == 3
    # Taken out, the outcome keeps its row (reviews of it still point at it), out of the plan.
    assert con.execute(
        "SELECT in_plan FROM core.fct_plan_outcome WHERE outcome_id = ?", [gone]
    ).fetchone() == (False,)
    assert "Will ask for help using words or the help card." in current.values()
    # A review rates the outcomes in the plan now, not the one taken out.
    reviewed = queries.rows(con, "review_plan_outcomes", plan_id=first.plan_id)
    assert {str(o["outcome_id"]) for o in reviewed} == set(current)

    # Agreed: a third version, the same outcomes, who and when.
    page = plan_page(con, pupil, scope=scope)
    assert page.current is not None
    agreed_form = page.current.form() | {
        "agreed_with": ["parents_and_pupil"],
        "agreed_on": [TODAY.isoformat()],
    }
    third = save(con, agreed_form, agree=True)
    assert third.version == 3
    page = plan_page(con, pupil, scope=scope)
    assert page.current is not None
    assert page.current.status == "agreed" and page.current.agreed_on == TODAY
    assert page.current.heading.startswith("Version 3, agreed")
    assert "by plan-senco with the parents or carers and the pupil" in page.current.heading
    assert len(page.current.outcomes) == 3
    # The history: versions 2 and 1, readable, the first still with the outcome taken out.
    assert [v.number for v in page.history] == [2, 1]
    assert gone in {o.outcome_id for o in page.history[1].outcomes}
    assert gone not in {o.outcome_id for o in page.history[0].outcomes}
    assert con.execute(
        "SELECT count(*) FROM staging.stg_canonical_plans WHERE plan_id = ? "
        "AND _reject_reason IS NULL",
        [first.plan_id],
    ).fetchone() == (3,)


def test_a_form_opened_on_an_older_version_lands_nothing(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, pupil, upn = a_pupil(con)
    first = save(con, plan_form([outcome("Will follow a two-part instruction.")]))
    stale = plan_form([outcome("Something else.")], plan_id=first.plan_id, base_version="")
    checked = plans.check_plan(stale, strategies=(), today=TODAY)
    assert checked.ok
    with pytest.raises(plans.PlanChanged):
        plans.land_plan(
            con,
            checked,
            school_urn=school,
            upn=upn,
            staff="app-user-7",
            keys=TEST_KEYS,
            now=datetime.now(),
        )


def test_a_retried_post_lands_once(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    school, _, upn = a_pupil(con)
    checked = plans.check_plan(plan_form([outcome("Will tidy away.")]), strategies=(), today=TODAY)
    key = plans.new_key()
    args = {
        "school_urn": school,
        "upn": upn,
        "staff": "app-user-7",
        "keys": TEST_KEYS,
        "now": datetime.now(),
        "key": key,
    }
    assert plans.land_plan(con, checked, **args) is not None  # type: ignore[arg-type]
    assert plans.land_plan(con, checked, **args) is None  # type: ignore[arg-type]


def test_the_form_refuses_what_staging_would_quarantine() -> None:
    form = plan_form(
        [
            {"text": "", "area": "Nothing", "target": "31/02/2025", "strategy": ["made_up"]},
            outcome("Fine."),
        ],
        plan_type="statement",
        start_date="yesterday",
    )
    checked = plans.check_plan(form, strategies=(("calm_corner", "Calm corner"),), today=TODAY)
    assert set(checked.errors) == {
        "plan_type",
        "start_date",
        "o0_text",
        "o0_area",
        "o0_target",
        "o0_strategy",
    }
    agree = plans.check_plan(
        plan_form([outcome("Fine.")], agreed_with="the dog", agreed_on=""),
        strategies=(),
        today=TODAY,
        agree=True,
    )
    assert set(agree.errors) == {"agreed_with", "agreed_on"}
    assert not plans.check_plan(plan_form([]), strategies=(), today=TODAY).ok
    with pytest.raises(ValueError):
        plans.land_plan(
            duckdb.connect(),
            checked,
            school_urn="1",
            upn="x",
            staff="app-user-1",
            keys=TEST_KEYS,
            now=datetime.now(),
        )


def test_staging_quarantines_bad_plan_rows_landed_by_another_way(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    """The new columns' rules, for a file or a writer that did not use the form."""
    from empowered.sources.landing import land_app_records
    from empowered.warehouse.build import build_duckdb

    con = warehouse_copy
    school, _, upn = a_pupil(con)
    base = {
        "plan_id": "BAD-1",
        "school_urn": school,
        "upn": upn,
        "plan_type": "sen_support_plan",
        "start_date": TODAY.isoformat(),
    }
    rows = [
        base | {"plan_id": "BAD-1", "plan_version": "0"},
        base | {"plan_id": "BAD-2", "status": "finished"},
        base | {"plan_id": "BAD-3", "agreed_with": "the dog"},
        base | {"plan_id": "BAD-4", "status": "agreed"},
        base | {"plan_id": "BAD-5", "agreed_on": "soon"},
        base | {"plan_id": "GOOD-1", "plan_version": "1", "status": "draft"},
    ]
    outcomes = [
        {"outcome_id": "BO-1", "plan_id": "GOOD-1", "plan_version": "x"},
        {"outcome_id": "BO-2", "plan_id": "GOOD-1", "strategy_codes": "calm corner, ear"},
    ]
    land_app_records(
        con,
        [(plans.PLANS, rows), (plans.OUTCOMES, outcomes)],
        source="app-plan",
        file_name="bad plans",
        seed="bad plans",
        keys=TEST_KEYS,
    )
    assert build_duckdb(con, touched=set(plans.TOUCHED)).ok
    got = {
        (r[0], r[1]): r[2]
        for r in con.execute(
            "SELECT entity, source_row, column_name FROM quarantine.rejected_rows "
            "WHERE source_file = 'bad plans'"
        ).fetchall()
    }
    assert got == {
        ("plans", 1): "plan_version",
        ("plans", 2): "status",
        ("plans", 3): "agreed_with",
        ("plans", 4): "agreed_on",
        ("plans", 5): "agreed_on",
        ("plan_outcomes", 1): "plan_version",
        ("plan_outcomes", 2): "strategy_codes",
    }
