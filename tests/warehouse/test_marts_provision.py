"""Provision-map marts, checked against independent Python over the core tables and
against small hand-built inputs with known answers."""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from importlib import resources
from typing import Any

import duckdb
import pytest
from mart_fixtures import sessions_by_hand

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import Model, discover_models

PROVISION_MARTS = (
    "marts.school_as_of",
    "marts.provision_enrolment",
    "marts.provision_intervention_summary",
    "marts.provision_need_coverage",
    "marts.provision_without_need",
)
AGE_MEASURES = {"reading_age_months", "spelling_age_months"}
DAYS_PER_MONTH = 365.25 / 12

Row = dict[str, Any]


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable[Any] = ()) -> list[Row]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    return discover_models()


def rebuild(con: duckdb.DuckDBPyConnection, models: dict[str, Model], *names: str) -> None:
    """Re-run some provision marts (in the order given) on a modified warehouse copy, and
    fail if any of their error-level checks finds offending rows."""
    engine = DuckDBEngine(con)
    for name in names:
        model = models[name]
        engine.materialise(model)
        errors = [c for c in model.checks if c.severity == "error"]
        counts = engine.count_offending([c.sql for c in errors])
        assert [c.name for c, n in zip(errors, counts, strict=True) if n] == [], name


# --- independent computations -------------------------------------------------------


def as_of_dates(con: duckdb.DuckDBPyConnection) -> dict[str, date | None]:
    attendance = dict(
        con.execute(
            "select school_urn, max(session_date) from core.fct_attendance_session group by 1"
        ).fetchall()
    )
    observed = dict(
        con.execute(
            "select school_urn, max(observed_on) from core.fct_observation group by 1"
        ).fetchall()
    )
    schools = [u for (u,) in con.execute("select school_urn from core.dim_school").fetchall()]
    return {u: attendance.get(u) or observed.get(u) for u in schools}


def academic_year(day: date) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def need_in_force(history: list[Row], pupil_key: str, school_urn: str, on: date) -> Row | None:
    for h in history:
        if (
            h["pupil_key"] == pupil_key
            and h["school_urn"] == school_urn
            and h["valid_from"] <= on
            and (h["valid_to"] is None or on < h["valid_to"])
        ):
            return h
    return None


def broad_area_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select code, name from reference.broad_area").fetchall())


def area_matches(area_of_need: str | None, broad_area: str | None, names: dict[str, str]) -> bool:
    if not area_of_need or not broad_area:
        return False
    wanted = area_of_need.strip().lower()
    return wanted in {broad_area.lower(), names.get(broad_area, "").lower()}


def expected_enrolments(con: duckdb.DuckDBPyConnection) -> dict[str, Row]:
    interventions = {
        r["intervention_code"]: r for r in rows(con, "select * from core.dim_intervention")
    }
    history = rows(con, "select * from core.dim_sen_status_history")
    names = broad_area_names(con)
    as_of = as_of_dates(con)
    out: dict[str, Row] = {}
    for e in rows(con, "select * from core.fct_provision_enrolment"):
        i = interventions[e["intervention_code"]]
        need = need_in_force(history, e["pupil_key"], e["school_urn"], e["start_date"])
        primary = need["primary_need"] if need else None
        broad = need["primary_broad_area"] if need else None
        today = as_of[e["school_urn"]]
        recorded = e["sessions_recorded"] > 0
        planned = e["sessions_planned"]
        gain = (
            e["post_score"] - e["pre_score"]
            if e["pre_score"] is not None and e["post_score"] is not None
            else None
        )
        months = (
            (e["post_date"] - e["pre_date"]).days / DAYS_PER_MONTH
            if e["pre_date"] is not None and e["post_date"] is not None
            else None
        )
        out[e["enrolment_id"]] = {
            "pupil_primary_need": primary,
            "need_matches": primary is not None
            and (primary == i["target_need"] or area_matches(i["area_of_need"], broad, names)),
            "is_current": today is not None
            and e["start_date"] <= today
            and (e["end_date"] is None or e["end_date"] >= today),
            "delivery_rate": e["sessions_delivered"] / planned if recorded and planned else None,
            "score_gain": gain,
            "months_elapsed": months,
            "ratio_gain": gain / months
            if i["measure"] in AGE_MEASURES and gain is not None and months
            else None,
            "has_pre_and_post": gain is not None,
            "academic_year": academic_year(e["start_date"]),
            **{
                k: e[k]
                for k in (
                    "pupil_key",
                    "school_urn",
                    "intervention_code",
                    "sessions_planned",
                    "sessions_delivered",
                    "cost_per_pupil",
                    "staff_cost",
                    "materials_and_training_cost",
                )
            },
            "sessions_recorded": e["sessions_recorded"],
            "target_need": i["target_need"],
        }
    return out


def seed_bands() -> list[tuple[str, float, float | None]]:
    text = (resources.files("empowered.reference") / "seeds" / "eef_cost_band.csv").read_text(
        encoding="utf-8"
    )
    return [
        (
            r["band"],
            float(r["min_cost_per_pupil"]),
            float(r["max_cost_per_pupil"]) if r["max_cost_per_pupil"] else None,
        )
        for r in csv.DictReader(text.splitlines())
    ]


def band_for(cost: float) -> str | None:
    # Half-open: min inclusive, max exclusive; the open-ended top band has no max.
    found = [b for b, lo, hi in seed_bands() if cost >= lo and (hi is None or cost < hi)]
    assert len(found) <= 1, cost
    return found[0] if found else None


# --- the built small trust ----------------------------------------------------------


def test_every_provision_mart_has_rows_and_keeps_its_grain(
    built: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    for name in PROVISION_MARTS:
        key = ", ".join(models[name].unique_key)
        assert key, name
        [(total, distinct)] = con_counts(built, name, key)
        assert total > 0, f"{name} is empty"
        assert total == distinct, f"{name} repeats its key ({key})"


def con_counts(con: duckdb.DuckDBPyConnection, table: str, key: str) -> list[tuple[int, int]]:
    sql = f"select count(*), count(distinct ({key})) from {table}"  # names from our headers
    return [(int(a), int(b)) for a, b in con.execute(sql).fetchall()]


def test_no_pupil_identity_in_provision_marts(
    built: duckdb.DuckDBPyConnection,
) -> None:
    columns = {
        c
        for (c,) in built.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' "
            "and table_name like 'provision%'"
        ).fetchall()
    }
    assert "pupil_key" in columns
    assert not columns & {"upn", "forename", "surname", "legal_surname", "date_of_birth"}


def test_as_of_date_is_the_latest_register_mark(built: duckdb.DuckDBPyConnection) -> None:
    expected = as_of_dates(built)
    got = dict(built.execute("select school_urn, as_of_date from marts.school_as_of").fetchall())
    assert got == expected
    assert all(d is not None for d in got.values())


def test_enrolment_figures_match_python_over_core(built: duckdb.DuckDBPyConnection) -> None:
    expected = expected_enrolments(built)
    got = {r["enrolment_id"]: r for r in rows(built, "select * from marts.provision_enrolment")}
    assert got.keys() == expected.keys()
    floats = (
        "delivery_rate",
        "score_gain",
        "months_elapsed",
        "ratio_gain",
        "cost_per_pupil",
        "staff_cost",
        "materials_and_training_cost",
    )
    for enrolment_id, want in expected.items():
        have = got[enrolment_id]
        for column, value in want.items():
            if column in ("sessions_recorded", "target_need"):
                continue
            if column in floats:
                assert close(have[column], value), (enrolment_id, column, have[column], value)
            else:
                assert have[column] == value, (enrolment_id, column, have[column], value)
    # The synthetic trust exercises both sides of every rule checked above.
    assert {w["need_matches"] for w in expected.values()} == {True, False}
    assert any(w["ratio_gain"] is not None for w in expected.values())
    assert cost_parts_add_up(got.values())


def cost_parts_add_up(enrolments: Iterable[Row]) -> bool:
    return all(
        close(r["staff_cost"] + r["materials_and_training_cost"], r["cost_per_pupil"])
        for r in enrolments
    )


def expected_summary(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Row]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for e in expected_enrolments(con).values():
        groups[(e["school_urn"], e["intervention_code"])].append(e)
        groups[("TRUST", e["intervention_code"])].append(e)
    out: dict[tuple[str, str], Row] = {}
    for key, members in groups.items():
        recorded = [m for m in members if m["sessions_recorded"] > 0]
        planned = sum(m["sessions_planned"] for m in recorded)
        gains = [m["score_gain"] for m in members if m["has_pre_and_post"]]
        total = sum(m["cost_per_pupil"] for m in members)
        annual = total / len({(m["pupil_key"], m["academic_year"]) for m in members})
        out[key] = {
            "enrolments": len(members),
            "pupils": len({m["pupil_key"] for m in members}),
            "current_pupils": len({m["pupil_key"] for m in members if m["is_current"]}),
            "sessions_planned": sum(m["sessions_planned"] for m in members),
            "sessions_delivered": sum(m["sessions_delivered"] for m in members),
            "delivery_rate": sum(m["sessions_delivered"] for m in recorded) / planned
            if planned
            else None,
            "total_cost": total,
            "cost_per_pupil": total / len(members),
            "annual_cost_per_pupil": annual,
            "eef_cost_band": band_for(annual),
            "with_pre_and_post": len(gains),
            "mean_gain": statistics.fmean(gains) if gains else None,
            "sd_gain": statistics.stdev(gains) if len(gains) > 1 else None,
            "need_matches_share": sum(m["need_matches"] for m in members) / len(members),
        }
    return out


def test_intervention_summary_matches_python_over_core(
    built: duckdb.DuckDBPyConnection,
) -> None:
    expected = expected_summary(built)
    got = {
        (r["school_urn"], r["intervention_code"]): r
        for r in rows(built, "select * from marts.provision_intervention_summary")
    }
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        for column, value in want.items():
            if isinstance(value, float):
                assert close(got[key][column], value), (key, column, got[key][column], value)
            else:
                assert got[key][column] == value, (key, column, got[key][column], value)
    assert all(got[k]["is_trust_total"] == (k[0] == "TRUST") for k in got)
    assert len({r["eef_cost_band"] for r in expected.values()}) > 1


def test_trust_rows_are_the_sums_over_schools(built: duckdb.DuckDBPyConnection) -> None:
    summary = rows(built, "select * from marts.provision_intervention_summary")
    trust = {r["intervention_code"]: r for r in summary if r["is_trust_total"]}
    schools = [r for r in summary if not r["is_trust_total"]]
    assert trust.keys() == {r["intervention_code"] for r in schools}
    additive = (
        "enrolments",
        "current_pupils",
        "sessions_planned",
        "sessions_delivered",
        "enrolments_with_session_records",
        "minutes_delivered",
        "with_pre_and_post",
    )
    for code, t in trust.items():
        parts = [r for r in schools if r["intervention_code"] == code]
        for column in additive:
            assert t[column] == sum(p[column] for p in parts), (code, column)
        assert close(t["total_cost"], sum(p["total_cost"] for p in parts))
        # Distinct pupils: a pupil who moved school is one pupil to the trust.
        assert max(p["pupils"] for p in parts) <= t["pupils"] <= sum(p["pupils"] for p in parts)


def register(con: duckdb.DuckDBPyConnection) -> list[Row]:
    return rows(
        con,
        """select h.school_urn, h.pupil_key, coalesce(h.primary_need, 'NOT_RECORDED') as need,
                  h.primary_broad_area as broad_area, h.secondary_need
           from core.dim_sen_status_history as h
           join core.fct_enrolment as r using (pupil_key, school_urn)
           where h.is_current and r.is_on_roll and h.sen_provision in ('K', 'E')""",
    )


def this_years_enrolments(con: duckdb.DuckDBPyConnection) -> list[Row]:
    as_of = as_of_dates(con)
    interventions = {
        r["intervention_code"]: r for r in rows(con, "select * from core.dim_intervention")
    }
    out = []
    for e in rows(con, "select * from core.fct_provision_enrolment"):
        today = as_of[e["school_urn"]]
        assert today is not None
        year_start = date(int(academic_year(today)[:4]), 9, 1)
        if e["start_date"] <= today and (e["end_date"] is None or e["end_date"] >= year_start):
            out.append({**e, **interventions[e["intervention_code"]], "as_of": today})
    return out


def test_need_coverage_matches_python_over_core(built: duckdb.DuckDBPyConnection) -> None:
    pupils = register(built)
    provision = this_years_enrolments(built)
    names = broad_area_names(built)
    as_of = as_of_dates(built)
    training = rows(built, "select * from core.fct_staff_training")
    expected: dict[tuple[str, str], Row] = {}
    for school, need in {(p["school_urn"], p["need"]) for p in pupils}:
        group = [p for p in pupils if (p["school_urn"], p["need"]) == (school, need)]
        today = as_of[school]
        assert today is not None
        since = today.replace(year=today.year - 3)

        def has(pupil: Row, matching: bool, school: str = school, need: str = need) -> bool:
            return any(
                e["school_urn"] == school
                and e["pupil_key"] == pupil["pupil_key"]
                and (
                    not matching
                    or e["target_need"] == need
                    or area_matches(e["area_of_need"], pupil["broad_area"], names)
                )
                for e in provision
            )

        courses = [
            t
            for t in training
            if t["school_urn"] == school
            and t["area_of_need"] == need
            and t["completed_on"] is not None
            and since < t["completed_on"] <= today
        ]
        expected[(school, need)] = {
            "sen_pupils": len(group),
            "pupils_with_provision": sum(has(p, False) for p in group),
            "pupils_with_matching_provision": sum(has(p, True) for p in group),
            "interventions_offered_for_need": len(
                {
                    e["intervention_code"]
                    for e in provision
                    if e["school_urn"] == school and e["target_need"] == need
                }
            ),
            "training_records_for_need": len(courses),
            "staff_trained_for_need": len({t["staff_id"] for t in courses}),
        }
    got = {
        (r["school_urn"], r["primary_need"]): {k: r[k] for k in next(iter(expected.values()))}
        for r in rows(built, "select * from marts.provision_need_coverage")
    }
    assert got == expected
    # Both questions the mart answers have a "yes" and a "no" in the synthetic trust.
    assert any(v["pupils_with_matching_provision"] == 0 for v in expected.values())
    assert any(v["pupils_with_matching_provision"] > 0 for v in expected.values())
    assert any(v["training_records_for_need"] == 0 for v in expected.values())


def test_provision_without_need_matches_python_over_core(
    built: duckdb.DuckDBPyConnection,
) -> None:
    held = {(p["school_urn"], p["need"]) for p in register(built)}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for e in this_years_enrolments(built):
        if e["target_need"] and (e["school_urn"], e["target_need"]) not in held:
            expected[(e["school_urn"], e["intervention_code"])] += 1
    got = {
        (r["school_urn"], r["intervention_code"]): r["enrolments"]
        for r in rows(built, "select * from marts.provision_without_need")
    }
    assert got == dict(expected)
    assert got  # the synthetic trust runs a reading group where no pupil has SPLD


# --- hand-built inputs --------------------------------------------------------------

SCHOOL = "100001"
AREA_CL = "Cognition and learning"
# What core copies from each hand-built intervention onto its enrolments.
MEASURES = {"x": "reading_age_months", "y": "standardised_score", "z": "rating"}


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, records: list[Row]) -> None:
    """Swap a table's rows for hand-built ones, keeping its real column types; columns a
    record leaves out are null. A view (the attendance sessions) becomes a table of its
    shape."""
    schema, name = table.split(".")
    if con.execute(
        "select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
        [schema, name],
    ).fetchall()[0][0]:
        assert table == "core.fct_attendance_session"
        sessions_by_hand(con)
    con.execute(f"delete from {table}")  # table names are literals in this module
    for record in records:
        columns = ", ".join(record)
        marks = ", ".join("?" for _ in record)
        con.execute(f"insert into {table} ({columns}) values ({marks})", list(record.values()))


def enrolment(enrolment_id: str, pupil: str, code: str, start: date, **more: Any) -> Row:
    return {
        "enrolment_id": enrolment_id,
        "pupil_key": pupil,
        "school_urn": SCHOOL,
        "intervention_code": code,
        "measure": MEASURES[code],
        "start_date": start,
        "end_date": more.pop("end_date", start + timedelta(days=60)),
        "sessions_planned": 10,
        "sessions_recorded": 10,
        "sessions_delivered": 8,
        "minutes_delivered": 240,
        "staff_cost": 10.0,
        "materials_and_training_cost": 5.0,
        "cost_per_pupil": 15.0,
        **more,
    }


def status(pupil: str, start: date, need: str | None, area: str | None, **more: Any) -> Row:
    return {
        "pupil_key": pupil,
        "school_urn": SCHOOL,
        "valid_from": start,
        "valid_to": more.pop("valid_to", None),
        "is_current": more.pop("is_current", True),
        "sen_provision": "K" if need else "N",
        "primary_need": need,
        "primary_broad_area": area,
        **more,
    }


@pytest.fixture
def hand_built(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> duckdb.DuckDBPyConnection:
    """The small trust's warehouse with one school's worth of hand-built provision rows,
    as_of_date 2026-07-20 (its only attendance mark)."""
    con = warehouse_copy
    replace_rows(
        con,
        "core.dim_intervention",
        [
            {"intervention_code": "x", "intervention_name": "X", "group_size": 1,
             "area_of_need": AREA_CL, "target_need": "SPLD", "measure": MEASURES["x"]},
            {"intervention_code": "y", "intervention_name": "Y", "group_size": 1,
             "area_of_need": " ci ", "target_need": "ASD", "measure": MEASURES["y"]},
            {"intervention_code": "z", "intervention_name": "Z", "group_size": 1,
             "area_of_need": None, "target_need": None, "measure": MEASURES["z"]},
        ],
    )  # fmt: skip
    replace_rows(con, "core.dim_school", [{"school_urn": SCHOOL}])
    replace_rows(
        con,
        "core.dim_pupil",
        [{"pupil_key": f"p{i}", "school_urn": SCHOOL} for i in range(1, 8)],
    )
    replace_rows(
        con,
        "core.fct_attendance_session",
        [{"pupil_key": "p1", "school_urn": SCHOOL, "session_date": date(2026, 7, 20),
          "session": "AM", "code": "/", "code_category": "present"}],
    )  # fmt: skip
    replace_rows(
        con,
        "core.dim_sen_status_history",
        [
            status("p1", date(2024, 9, 1), "SPLD", "CL"),
            status("p2", date(2024, 9, 1), "MLD", "CL"),
            status("p3", date(2024, 9, 1), "SEMH", "SEMH"),
            status("p5", date(2024, 9, 1), "SEMH", "SEMH", valid_to=date(2025, 10, 1),
                   is_current=False),
            status("p5", date(2025, 10, 1), "ASD", "CI"),
            status("p6", date(2024, 9, 1), "SLCN", "CI"),
            status("p7", date(2024, 9, 1), None, None),
        ],
    )  # fmt: skip
    replace_rows(
        con,
        "core.fct_enrolment",
        [{"pupil_key": p, "school_urn": SCHOOL, "is_on_roll": p != "p6"}
         for p in ("p1", "p2", "p3", "p5", "p6", "p7")],
    )  # fmt: skip
    return con


def test_need_matches_on_hand_built_rows(
    hand_built: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    con = hand_built
    start = date(2025, 9, 15)
    replace_rows(
        con,
        "core.fct_provision_enrolment",
        [
            enrolment("e1", "p1", "x", start),  # SPLD, X targets SPLD
            enrolment("e2", "p2", "x", start),  # MLD is Cognition and learning, X's area
            enrolment("e3", "p3", "x", start),  # SEMH: neither
            enrolment("e4", "p4", "x", start),  # no SEN status at all
            enrolment("e5", "p5", "y", date(2025, 9, 30)),  # still SEMH the day before
            enrolment("e6", "p5", "y", date(2025, 10, 1)),  # ASD from that day (inclusive)
            enrolment("e7", "p6", "y", start),  # SLCN is CI: area given as a code
            enrolment("e8", "p1", "z", start),  # an intervention with no need named
            enrolment("e9", "p7", "x", start),  # on the register as N, no need
        ],
    )
    rebuild(con, models, "marts.school_as_of", "marts.provision_enrolment")
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "select enrolment_id, pupil_primary_need, matches_target_need, need_matches "
            "from marts.provision_enrolment"
        ).fetchall()
    }
    assert got == {
        "e1": ("SPLD", True, True),
        "e2": ("MLD", False, True),
        "e3": ("SEMH", False, False),
        "e4": (None, False, False),
        "e5": ("SEMH", False, False),
        "e6": ("ASD", True, True),
        "e7": ("SLCN", False, True),
        "e8": ("SPLD", False, False),
        "e9": (None, False, False),
    }


def test_current_delivery_and_ratio_gain_on_hand_built_rows(
    hand_built: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    con = hand_built
    as_of = date(2026, 7, 20)
    replace_rows(
        con,
        "core.fct_provision_enrolment",
        [
            enrolment("ends-on-as-of", "p1", "x", date(2026, 6, 1), end_date=as_of,
                      pre_date=date(2026, 1, 1), pre_score=100.0,
                      post_date=date(2026, 1, 1) + timedelta(days=183),
                      post_score=109.0, score_gain=9.0),
            enrolment("ended-before", "p1", "x", date(2026, 6, 1),
                      end_date=as_of - timedelta(days=1)),
            enrolment("open-ended", "p2", "y", date(2026, 1, 5), end_date=None,
                      pre_date=date(2026, 1, 5), pre_score=90.0, post_date=date(2026, 7, 5),
                      post_score=95.0, score_gain=5.0),
            enrolment("starts-after", "p2", "y", as_of + timedelta(days=1)),
            enrolment("last-year", "p3", "x", date(2024, 9, 10), end_date=date(2025, 8, 31)),
            enrolment("no-register", "p3", "z", date(2025, 9, 10), sessions_recorded=0,
                      sessions_delivered=0),
            enrolment("none-planned", "p3", "z", date(2025, 9, 10), sessions_planned=0),
            enrolment("pre-only", "p1", "x", date(2025, 9, 10), pre_date=date(2025, 9, 10),
                      pre_score=100.0),
        ],
    )  # fmt: skip
    rebuild(con, models, "marts.school_as_of", "marts.provision_enrolment")
    got = {r["enrolment_id"]: r for r in rows(con, "select * from marts.provision_enrolment")}
    current = {k for k, r in got.items() if r["is_current"]}
    assert current == {"ends-on-as-of", "open-ended"}
    assert {k for k, r in got.items() if not r["in_as_of_year"]} == {"starts-after", "last-year"}
    assert got["ends-on-as-of"]["delivery_rate"] == pytest.approx(0.8)
    assert got["no-register"]["delivery_rate"] is None
    assert got["none-planned"]["delivery_rate"] is None
    # Reading age: 9 months gained over 183 days, about 6 months elapsed.
    assert got["ends-on-as-of"]["months_elapsed"] == pytest.approx(183 / DAYS_PER_MONTH)
    assert got["ends-on-as-of"]["ratio_gain"] == pytest.approx(9 / (183 / DAYS_PER_MONTH))
    assert got["open-ended"]["ratio_gain"] is None  # standardised score: no ratio gain
    assert got["open-ended"]["score_gain"] == 5.0
    assert got["pre-only"]["has_pre_and_post"] is False
    assert got["pre-only"]["ratio_gain"] is None
    assert got["open-ended"]["academic_year"] == "2025/26"


def test_as_of_falls_back_to_observations(
    hand_built: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    con = hand_built
    con.execute("delete from core.fct_attendance_session")
    replace_rows(
        con,
        "core.fct_observation",
        [{"observation_id": str(i), "pupil_key": "p1", "school_urn": SCHOOL,
          "observed_on": day} for i, day in enumerate((date(2026, 3, 2), date(2026, 5, 6)))],
    )  # fmt: skip
    rebuild(con, models, "marts.school_as_of")
    assert con.execute(
        "select as_of_date, as_of_source, as_of_academic_year from marts.school_as_of"
    ).fetchall() == [(date(2026, 5, 6), "observations", "2025/26")]
    con.execute("delete from core.fct_observation")
    rebuild(con, models, "marts.school_as_of")
    assert con.execute("select as_of_date from marts.school_as_of").fetchall() == [(None,)]


def test_seed_cost_bands_tile_the_line_without_gaps() -> None:
    bands = sorted(seed_bands(), key=lambda b: b[1])
    assert bands[0][1] == 0
    assert bands[-1][2] is None
    for (_, _, upper), (_, lower, _) in zip(bands, bands[1:], strict=False):
        assert upper == lower  # each max is the next band's min: one must be exclusive


@pytest.mark.parametrize(
    ("annual_cost", "band"),
    [
        (0.0, "very low"),
        (79.99, "very low"),
        (80.0, "low"),
        (199.99, "low"),
        (200.0, "moderate"),
        (720.0, "high"),
        (1199.99, "high"),
        (1200.0, "very high"),
        (50_000.0, "very high"),
    ],
)
def test_eef_cost_band_boundaries(
    warehouse_copy: duckdb.DuckDBPyConnection,
    models: dict[str, Model],
    annual_cost: float,
    band: str,
) -> None:
    con = warehouse_copy
    code = con.execute("select min(intervention_code) from core.dim_intervention").fetchall()
    # Two half-cost blocks for one pupil in one year and one full block for another: the
    # annual cost per pupil is their total over two pupil-years (exact in binary floats).
    costs = (annual_cost / 2, annual_cost / 2, annual_cost)
    replace_rows(
        con,
        "marts.provision_enrolment",
        [
            {"enrolment_id": f"e{i}", "pupil_key": pupil, "school_urn": SCHOOL,
             "intervention_code": code[0][0], "academic_year": "2025/26",
             "cost_per_pupil": cost, "is_current": False, "has_pre_and_post": False,
             "has_session_records": False, "need_matches": False,
             "start_date": date(2025, 9, 10)}
            for i, (pupil, cost) in enumerate(zip(("p1", "p1", "p2"), costs, strict=True))
        ],
    )  # fmt: skip
    rebuild(con, models, "marts.provision_intervention_summary")
    found = rows(
        con,
        "select annual_cost_per_pupil, eef_cost_band from marts.provision_intervention_summary "
        "where school_urn = ?",
        [SCHOOL],
    )
    assert len(found) == 1
    assert found[0]["annual_cost_per_pupil"] == pytest.approx(annual_cost)
    assert found[0]["eef_cost_band"] == band == band_for(found[0]["annual_cost_per_pupil"])


def test_provision_recorded_after_the_last_register_mark_is_current(
    hand_built: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    """Provision the web app records this term, after the last attendance import, is
    "now": the page said "pupils now 0" everywhere when every open enrolment started after
    the school's last register mark. The latest delivered session moves "now" forward."""
    con = hand_built
    as_of = date(2026, 7, 20)
    this_term = date(2026, 11, 16)
    replace_rows(
        con,
        "core.fct_provision_enrolment",
        [
            enrolment("this-term", "p1", "x", date(2026, 10, 26), end_date=None),
            enrolment("summer", "p2", "y", date(2026, 4, 20), end_date=as_of),
            enrolment("planned", "p3", "x", date(2027, 1, 11), end_date=None),
        ],
    )
    replace_rows(
        con,
        "core.fct_provision_session",
        [
            {"enrolment_id": "this-term", "session_date": this_term, "delivered": True,
             "attended": True},
            {"enrolment_id": "planned", "session_date": date(2027, 1, 11), "delivered": False,
             "attended": False},
        ],
    )  # fmt: skip
    rebuild(con, models, "marts.school_as_of", "marts.provision_enrolment")
    got = dict(
        con.execute("select enrolment_id, is_current from marts.provision_enrolment").fetchall()
    )
    assert got == {"this-term": True, "summer": False, "planned": False}
