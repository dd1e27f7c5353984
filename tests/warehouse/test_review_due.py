"""When a plan's review falls due: from the latest review actually held (issue 13).

The defect: "review overdue" read the imported plan's next_review_due alone, so a plan
whose due date had passed was called overdue even when a review had been held after it
(46 of 87 "overdue" plans in the trust had in fact been reviewed)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb

from empowered.identity import IdentityReader
from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def _planless_pupils(con: duckdb.DuckDBPyConnection, n: int) -> tuple[str, date, list[str]]:
    """A school, its as-of date and the UPNs of ``n`` pupils on roll there with no plan."""
    [(school, as_of)] = con.execute(
        "SELECT a.school_urn, a.as_of_date FROM marts.school_as_of AS a "
        "JOIN marts.register_pupil AS r USING (school_urn) "
        "GROUP BY ALL ORDER BY count(*) FILTER (NOT r.has_current_plan) DESC, 1 LIMIT 1"
    ).fetchall()
    found = con.execute(
        "SELECT i.upn FROM marts.register_pupil AS r "
        "JOIN core.pupil_identity AS i USING (pupil_key) "
        "WHERE r.school_urn = ? AND NOT r.has_current_plan "
        "AND r.pupil_key NOT IN (SELECT pupil_key FROM core.fct_plan) "
        "ORDER BY r.pupil_key LIMIT ?",
        [school, n],
    ).fetchall()
    reader = IdentityReader(TEST_KEYS)
    upns = [reader.upn(u) for (u,) in found]
    assert len(upns) == n and all(upns)
    return school, as_of, [u for u in upns if u]


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _plan(plan_id: str, school: str, upn: str, kind: str, start: date, due: date | None) -> dict:
    return {
        "plan_id": plan_id,
        "school_urn": school,
        "upn": upn,
        "plan_type": kind,
        "start_date": start.isoformat(),
        "end_date": "",
        "next_review_due": due.isoformat() if due else "",
    }


def test_a_plan_reviewed_after_its_imported_due_date_is_not_overdue(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    school, as_of, (reviewed, missed, ehc, undated) = _planless_pupils(con, 4)
    start = as_of - timedelta(days=300)
    plans = [
        # Due 60 days ago, but reviewed 20 days ago: not overdue (the defect said overdue).
        _plan("TRV1", school, reviewed, "sen_support_plan", start, as_of - timedelta(days=60)),
        # Due 60 days ago, last reviewed before that (so the date set there): overdue.
        _plan("TRV2", school, missed, "sen_support_plan", start, as_of - timedelta(days=60)),
        # An EHC plan reviewed 200 days ago with a stale due date: due 12 months after.
        _plan("TRV3", school, ehc, "ehc_plan", start, as_of - timedelta(days=250)),
        # No due date and no review: the start + 4 months, long past.
        _plan("TRV4", school, undated, "sen_support_plan", start, None),
    ]
    outcomes = [
        {
            "outcome_id": f"TRO{i}",
            "plan_id": p["plan_id"],
            "area_of_need": "communication",
            "outcome_text": "Asks for help in class",
            "target_date": "",
        }
        for i, p in enumerate(plans[:3], start=1)
    ]
    reviews = [
        {
            "review_id": "TRR1",
            "plan_id": "TRV1",
            "outcome_id": "TRO1",
            "review_date": (as_of - timedelta(days=20)).isoformat(),
            "progress": "some",
            "note": "",
        },
        {
            "review_id": "TRR2",
            "plan_id": "TRV2",
            "outcome_id": "TRO2",
            "review_date": (as_of - timedelta(days=150)).isoformat(),
            "progress": "some",
            "note": "",
        },
        {
            "review_id": "TRR3",
            "plan_id": "TRV3",
            "outcome_id": "TRO3",
            "review_date": (as_of - timedelta(days=200)).isoformat(),
            "progress": "good",
            "note": "",
        },
    ]
    folder = tmp_path / "files"
    folder.mkdir()
    _write(folder, "plans", plans)
    _write(folder, "plan_outcomes", outcomes)
    _write(folder, "plan_reviews", reviews)
    import_canonical_folder(con, folder, keys=TEST_KEYS)
    result = build_duckdb(
        con,
        touched={
            "raw.canonical_plans",
            "raw.canonical_plan_outcomes",
            "raw.canonical_plan_reviews",
        },
    )
    assert result.ok, [f.message for f in result.failures()]
    got = {
        plan: (overdue, due)
        for plan, overdue, due in con.execute(
            "SELECT current_plan_id, review_overdue, plan_next_review_due "
            "FROM marts.register_pupil WHERE current_plan_id LIKE 'TRV%'"
        ).fetchall()
    }
    reviewed_on = as_of - timedelta(days=20)
    assert got["TRV1"] == (False, _months(reviewed_on, 4))
    assert got["TRV2"] == (True, as_of - timedelta(days=60))
    assert got["TRV3"] == (False, _months(as_of - timedelta(days=200), 12))
    assert got["TRV4"] == (True, _months(start, 4))


def _months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return date(year, month, min(day.day, last))


def test_across_the_trust_overdue_follows_the_latest_review_held(
    built: duckdb.DuckDBPyConnection,
) -> None:
    """Every running plan's due date falls after its latest review held, and "overdue"
    on the register is that date passing, nothing else."""
    rows = built.execute(
        "SELECT p.plan_id, p.last_held_review_on, p.review_due_on, r.review_overdue, "
        "r.as_of_date, p.next_review_due FROM marts.register_pupil AS r "
        "JOIN core.fct_plan AS p ON p.plan_id = r.current_plan_id"
    ).fetchall()
    assert rows
    for plan, held, due, overdue, as_of, _ in rows:
        assert held is None or due > held, plan
        assert overdue == (due < as_of), plan
    # The defect's shape: plans whose imported date had passed though a review was held
    # after it are no longer called overdue.
    reviewed_since = [
        r for r in rows if r[5] is not None and r[5] < r[4] and r[1] is not None and r[1] > r[5]
    ]
    assert reviewed_since, "the small trust has plans reviewed after their imported date"
    # (All of them were "overdue" before: their imported date had passed.)
    assert all(r[2] != r[5] for r in reviewed_since)
    assert sum(bool(r[3]) for r in reviewed_since) < len(reviewed_since)
