"""Register marts against an independent computation over the core tables of the small
trust, and the as-of edge cases (a broken K/E run, no SEN record, leavers, overdue reviews)
on a copy whose core rows are edited by hand."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import duckdb
import pytest

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models

Pair = tuple[str, str]


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def as_of_dates(con: duckdb.DuckDBPyConnection) -> dict[str, date]:
    return dict(
        con.execute(
            "SELECT school_urn, max(session_date) FROM core.fct_attendance_session GROUP BY 1"
        ).fetchall()
    )


def expected_roll(con: duckdb.DuckDBPyConnection) -> set[Pair]:
    as_of = as_of_dates(con)
    return {
        (pupil, school)
        for pupil, school, entry, leaving in con.execute(
            "SELECT pupil_key, school_urn, entry_date, leaving_date FROM core.fct_enrolment"
        ).fetchall()
        if school in as_of
        and (entry is None or entry <= as_of[school])
        and (leaving is None or leaving > as_of[school])
    }


def expected_status(con: duckdb.DuckDBPyConnection) -> dict[Pair, str]:
    as_of = as_of_dates(con)
    latest: dict[Pair, tuple[date, str]] = {}
    for pupil, school, valid_from, provision in con.execute(
        "SELECT pupil_key, school_urn, valid_from, sen_provision FROM core.dim_sen_status_history"
    ).fetchall():
        if school in as_of and valid_from <= as_of[school]:
            if (pupil, school) not in latest or valid_from > latest[(pupil, school)][0]:
                latest[(pupil, school)] = (valid_from, provision)
    return {key: provision for key, (_, provision) in latest.items()}


def test_every_pupil_on_roll_is_on_the_register_table_with_their_status(
    built: duckdb.DuckDBPyConnection,
) -> None:
    got = {
        (r["pupil_key"], r["school_urn"]): r
        for r in rows(built, "SELECT * FROM marts.register_pupil")
    }
    roll = expected_roll(built)
    assert got.keys() == roll
    status = expected_status(built)
    as_of = as_of_dates(built)
    for key, r in got.items():
        assert r["sen_provision"] == status.get(key, "N")
        assert r["on_register"] == (r["sen_provision"] in ("K", "E"))
        assert r["as_of_date"] == as_of[key[1]]
        if r["on_register"]:
            assert r["on_register_since"] <= r["as_of_date"]
            assert r["days_on_register"] == (r["as_of_date"] - r["on_register_since"]).days
    counts = Counter(r["sen_provision"] for r in got.values())
    assert counts["N"] > 0 and counts["K"] > 0 and counts["E"] > 0
    identity = {
        name
        for (name,) in built.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'core' AND table_name = 'pupil_identity'"
        ).fetchall()
    }
    assert {"upn", "date_of_birth"} <= identity
    assert not (identity - {"pupil_key", "school_urn"}) & set(next(iter(got.values())))


def test_attendance_plans_provision_and_suspensions_as_of_the_date(
    built: duckdb.DuckDBPyConnection,
) -> None:
    as_of = as_of_dates(built)
    got = {
        (r["pupil_key"], r["school_urn"]): r
        for r in rows(built, "SELECT * FROM marts.register_pupil")
    }
    sessions: dict[Pair, list[int]] = defaultdict(lambda: [0, 0])
    for pupil, school, present in built.execute(
        "SELECT pupil_key, school_urn, is_present FROM core.fct_attendance_session "
        "WHERE is_possible AND school_week IS NOT NULL"
    ).fetchall():
        sessions[(pupil, school)][0] += 1
        sessions[(pupil, school)][1] += bool(present)
    plans: dict[Pair, list[tuple[str, date]]] = defaultdict(list)
    for pupil, school, kind, start, end, due in built.execute(
        "SELECT pupil_key, school_urn, plan_type, start_date, end_date, next_review_due "
        "FROM core.fct_plan"
    ).fetchall():
        if start <= as_of[school] and (end is None or end >= as_of[school]):
            plans[(pupil, school)].append((kind, due))
    provision: dict[Pair, list[str]] = defaultdict(list)
    for pupil, school, code, start, end in built.execute(
        "SELECT pupil_key, school_urn, intervention_code, start_date, end_date "
        "FROM core.fct_provision_enrolment"
    ).fetchall():
        if start <= as_of[school] and (end is None or end >= as_of[school]):
            provision[(pupil, school)].append(code)
    suspensions = Counter(
        (pupil, school)
        for pupil, school, start in built.execute(
            "SELECT pupil_key, school_urn, start_date FROM core.fct_exclusion "
            "WHERE category = 'suspension'"
        ).fetchall()
        if start <= as_of[school]
    )
    for key, r in got.items():
        possible, present = sessions.get(key, [0, 0])
        assert r["sessions_possible"] == (possible or None)
        if possible:
            assert r["attendance_rate"] == pytest.approx(present / possible)
            assert r["persistent_absence"] == ((possible - present) / possible >= 0.1)
        assert r["has_current_plan"] == bool(plans.get(key))
        if plans.get(key):
            kinds = {k for k, _ in plans[key]}
            assert r["current_plan_type"] == (
                "ehc_plan" if "ehc_plan" in kinds else "sen_support_plan"
            )
            due = r["plan_next_review_due"]
            assert r["review_overdue"] == (due is not None and due < r["as_of_date"])
        assert r["provision_count"] == len(provision.get(key, []))
        codes = sorted(set(provision.get(key, [])))
        assert r["provision_codes"] == (",".join(codes) if codes else None)
        assert r["suspensions_this_year"] == suspensions.get(key, 0)
    assert any(r["suspensions_this_year"] for r in got.values())


def test_school_summary_counts_the_register_against_the_roll_with_a_trust_row(
    built: duckdb.DuckDBPyConnection,
) -> None:
    pupils = rows(built, "SELECT * FROM marts.register_pupil")
    summary = {
        r["school_urn"]: r for r in rows(built, "SELECT * FROM marts.register_school_summary")
    }
    schools = {p["school_urn"] for p in pupils}
    assert summary.keys() == schools | {"TRUST"}
    for school, r in summary.items():
        mine = [p for p in pupils if school in (p["school_urn"], "TRUST")]
        sen = [p for p in mine if p["on_register"]]
        assert r["pupils_on_roll"] == len(mine)
        assert r["sen_support"] == sum(p["sen_provision"] == "K" for p in mine)
        assert r["ehc_plan"] == sum(p["sen_provision"] == "E" for p in mine)
        assert r["no_sen"] == len(mine) - len(sen)
        assert r["pct_sen"] == pytest.approx(100 * len(sen) / len(mine))
        assert r["pct_ehc_plan"] == pytest.approx(100 * r["ehc_plan"] / len(mine))
        assert r["sen_without_current_plan"] == sum(not p["has_current_plan"] for p in sen)
        assert r["sen_persistent_absence"] == sum(bool(p["persistent_absence"]) for p in sen)
        assert r["sen_low_attendance_no_plan"] == sum(
            p["attendance_rate"] is not None
            and p["attendance_rate"] < 0.9
            and not p["has_current_plan"]
            for p in sen
        )
        assert r["scope"] == ("trust" if school == "TRUST" else "school")
    assert summary["TRUST"]["national_pct_ehc_plan"] is not None


def test_need_summary_shares_add_up_and_carry_the_national_figure(
    built: duckdb.DuckDBPyConnection,
) -> None:
    pupils = rows(built, "SELECT * FROM marts.register_pupil WHERE on_register")
    needs = rows(built, "SELECT * FROM marts.register_need_summary")
    expected = Counter(
        (p["school_urn"], p["sen_provision"], p["primary_need"] or "unknown") for p in pupils
    )
    expected.update(
        Counter(("TRUST", p["sen_provision"], p["primary_need"] or "unknown") for p in pupils)
    )
    assert {
        (r["school_urn"], r["sen_provision"], r["primary_need"]): r["pupils"] for r in needs
    } == expected
    register = Counter(p["school_urn"] for p in pupils)
    register["TRUST"] = len(pupils)
    for r in needs:
        assert r["share_of_school_register"] == pytest.approx(
            100 * r["pupils"] / register[r["school_urn"]]
        )
    asd = next(
        r
        for r in needs
        if (r["school_urn"], r["sen_provision"], r["primary_need"]) == ("TRUST", "E", "ASD")
    )
    [(value, year, source)] = built.execute(
        "SELECT value, academic_year, source FROM reference.national_figure "
        "WHERE measure = 'ehcp_primary_need_share' AND \"group\" = 'ASD' "
        "ORDER BY academic_year DESC LIMIT 1"
    ).fetchall()
    assert (asd["national_share"], asd["national_academic_year"], asd["national_source"]) == (
        value,
        year,
        source,
    )
    assert asd["national_measure"] == "ehcp_primary_need_share"


def _rebuild_register(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    engine = DuckDBEngine(con)
    models = discover_models()
    for name in (
        "marts.school_as_of",
        "marts.school_year_as_of",
        "marts.attendance_pupil_day",
        "marts.attendance_pupil_week",
        "marts.attendance_pupil_year",
        "marts.register_pupil",
    ):
        engine.materialise(models[name])
    return {r["pupil_key"]: r for r in rows(con, "SELECT * FROM marts.register_pupil")}


def test_as_of_edge_cases_on_hand_edited_core_rows(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    [(school, as_of)] = con.execute(
        "SELECT school_urn, max(session_date) FROM core.fct_attendance_session "
        "GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchall()
    on_roll = [
        p
        for (p,) in con.execute(
            "SELECT pupil_key FROM marts.register_pupil WHERE school_urn = ? ORDER BY 1 LIMIT 5",
            [school],
        ).fetchall()
    ]
    broken, never, leaves_today, leaves_tomorrow, overdue = on_roll
    con.execute(
        "DELETE FROM core.dim_sen_status_history WHERE pupil_key IN (?, ?)", [broken, never]
    )
    history = [
        (date(2020, 9, 1), date(2021, 9, 1), "K"),
        (date(2021, 9, 1), date(2022, 1, 10), "N"),
        (date(2022, 1, 10), date(2023, 3, 1), "K"),
        (date(2023, 3, 1), as_of + timedelta(days=10), "E"),
        # A change dated after the as-of date is not yet in force.
        (as_of + timedelta(days=10), None, "N"),
    ]
    for valid_from, valid_to, provision in history:
        con.execute(
            "INSERT INTO core.dim_sen_status_history (pupil_key, school_urn, valid_from, "
            "valid_to, is_current, sen_provision, primary_need) VALUES (?, ?, ?, ?, ?, ?, 'ASD')",
            [broken, school, valid_from, valid_to, valid_to is None, provision],
        )
    con.execute(
        "UPDATE core.fct_enrolment SET leaving_date = ? WHERE pupil_key = ? AND school_urn = ?",
        [as_of, leaves_today, school],
    )
    con.execute(
        "UPDATE core.fct_enrolment SET leaving_date = ? WHERE pupil_key = ? AND school_urn = ?",
        [as_of + timedelta(days=1), leaves_tomorrow, school],
    )
    con.execute("DELETE FROM core.fct_plan WHERE pupil_key = ?", [overdue])
    con.execute(
        "INSERT INTO core.fct_plan (plan_id, pupil_key, school_urn, plan_type, start_date, "
        "end_date, is_active, next_review_due, last_review_date, review_count, "
        "review_due_on) "
        "VALUES ('T1', ?, ?, 'sen_support_plan', ?, NULL, true, ?, ?, 1, ?), "
        "('T2', ?, ?, 'ehc_plan', ?, ?, false, NULL, NULL, 0, ?)",
        [
            overdue,
            school,
            date(2024, 1, 8),
            as_of - timedelta(days=1),
            date(2025, 1, 6),
            as_of - timedelta(days=1),
            overdue,
            school,
            date(2022, 1, 4),
            as_of - timedelta(days=30),
            date(2023, 1, 4),
        ],
    )
    # Provision running on the as-of date: started by then and not ended before it.
    provision = [
        ("E1", "ZZ", as_of - timedelta(days=30), None),
        ("E2", "AA", as_of - timedelta(days=10), as_of),
        ("E3", "AA", as_of - timedelta(days=5), None),
        ("E4", "MM", as_of - timedelta(days=40), as_of - timedelta(days=1)),
        ("E5", "NN", as_of + timedelta(days=1), None),
    ]
    con.execute("DELETE FROM core.fct_provision_enrolment WHERE pupil_key = ?", [overdue])
    for enrolment, code, start, end in provision:
        con.execute(
            "INSERT INTO core.fct_provision_enrolment (enrolment_id, pupil_key, school_urn, "
            "intervention_code, start_date, end_date) VALUES (?, ?, ?, ?, ?, ?)",
            [enrolment, overdue, school, code, start, end],
        )
    got = _rebuild_register(con)
    assert got[broken]["sen_provision"] == "E"
    assert got[broken]["on_register_since"] == date(2022, 1, 10)
    assert got[broken]["days_on_register"] == (as_of - date(2022, 1, 10)).days
    assert got[never]["sen_provision"] == "N"
    assert got[never]["sen_provision_name"] == "No special educational need"
    assert got[never]["on_register"] is False and got[never]["on_register_since"] is None
    assert leaves_today not in got
    assert leaves_tomorrow in got
    plan = got[overdue]
    assert (plan["has_current_plan"], plan["current_plan_id"], plan["current_plan_type"]) == (
        True,
        "T1",
        "sen_support_plan",
    )
    assert plan["review_overdue"] is True
    assert plan["last_review_date"] == date(2025, 1, 6)
    assert (plan["provision_count"], plan["provision_codes"]) == (3, "AA,ZZ")
