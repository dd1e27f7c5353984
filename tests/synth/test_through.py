"""A trust cut off at a date (synth.through): the school year so far, nothing after it.

The demo runs to the day before today; these tests cut on a fixed day in the middle of an
autumn term (tests/cut_trust.py), so none depends on today's date.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from cut_trust import CUT_THROUGH, CUT_TRUST
from empowered.synth import generate_trust

THROUGH = CUT_THROUGH
DAY = CUT_THROUGH.isoformat()
ISO = re.compile(r"\d{4}-\d\d-\d\d")
# Dates that look forward: a school publishes its term dates and INSET days ahead, and a
# plan's next review, an action's due date and an outcome's target may be after today.
FORWARD = {
    ("terms", "start_date"),
    ("terms", "end_date"),
    ("closures", "date"),
    ("plans", "next_review_due"),
    ("actions", "due_date"),
    ("plan_outcomes", "target_date"),
}


def _rows(folder: Path, entity: str) -> list[dict[str, str]]:
    with (folder / f"{entity}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _dated_after(folder: Path, day: date) -> dict[tuple[str, str], int]:
    """How many values of each (file, column) are dates after ``day``, forward ones aside."""
    found: dict[tuple[str, str], int] = {}
    for path in sorted(folder.glob("*.csv")):
        for row in _rows(folder, path.stem):
            for column, value in row.items():
                if (path.stem, column) in FORWARD or not ISO.fullmatch(value or ""):
                    continue
                if value > day.isoformat():
                    found[(path.stem, column)] = found.get((path.stem, column), 0) + 1
    return found


@pytest.fixture(scope="module")
def whole_years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same trust, not cut: both academic years whole."""
    out = tmp_path_factory.mktemp("whole-years")
    generate_trust(out, **CUT_TRUST, first_academic_year=2025)
    return out


def test_the_cut_trust_holds_the_term_so_far_and_nothing_after_the_day(
    cut_trust: Path, whole_years: Path
) -> None:
    assert _dated_after(cut_trust, THROUGH) == {}
    uncut = _dated_after(whole_years, THROUGH)
    for kind in ("attendance", "observations", "incidents", "plan_reviews", "pupils"):
        assert any(entity == kind for entity, _ in uncut), kind  # the whole year goes on
    # The current autumn term is there up to the day: registers, check-ins, behaviour.
    autumn = min(
        date.fromisoformat(t["start_date"])
        for t in _rows(cut_trust, "terms")
        if t["academic_year"] == "2026/27"
    )
    week_before = (THROUGH - timedelta(days=7)).isoformat()
    for entity, column in (
        ("attendance", "date"),
        ("observations", "observed_on"),
        ("strategy_uses", "used_on"),
    ):
        days = {r[column] for r in _rows(cut_trust, entity)}
        assert max(days) <= DAY and max(days) > week_before, entity
        assert any(d >= autumn.isoformat() for d in days), entity
    # The published term dates still run to the summer.
    assert max(t["end_date"] for t in _rows(cut_trust, "terms")) > "2027-07-01"


def test_what_came_before_the_day_is_the_whole_years_record(
    cut_trust: Path, whole_years: Path
) -> None:
    def marks(folder: Path) -> list[tuple[str, ...]]:
        return sorted(tuple(r.values()) for r in _rows(folder, "attendance") if r["date"] <= DAY)

    assert marks(cut_trust) == marks(whole_years)
    # A pupil who leaves after the day is still on roll; one who joins after it is not
    # known yet, nor is any record of theirs.
    cut = {p["upn"]: p for p in _rows(cut_trust, "pupils")}
    later = [p for p in _rows(whole_years, "pupils") if p["leaving_date"] > DAY]
    assert later and all(cut[p["upn"]]["leaving_date"] == "" for p in later)
    joiners = {p["upn"] for p in _rows(whole_years, "pupils") if p["entry_date"] > DAY}
    assert joiners and not joiners & set(cut)
    for entity in ("characteristics", "groups", "sen_status", "attendance"):
        assert not joiners & {r["upn"] for r in _rows(cut_trust, entity)}, entity
    # Each kept plan's outcomes and reviews are kept; no review hangs off a dropped plan.
    plans = {p["plan_id"] for p in _rows(cut_trust, "plans")}
    assert {r["plan_id"] for r in _rows(cut_trust, "plan_reviews")} <= plans
    assert {o["plan_id"] for o in _rows(cut_trust, "plan_outcomes")} <= plans


def test_a_day_before_the_first_year_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before the first academic year"):
        generate_trust(
            tmp_path, schools=1, pupils=20, first_academic_year=2025, through=date(2025, 8, 1)
        )


def test_the_built_warehouse_is_about_the_day(cut_warehouse: Path) -> None:
    con = duckdb.connect(str(cut_warehouse), read_only=True)
    try:
        as_of = con.execute(
            "SELECT min(as_of_date), max(as_of_date), any_value(as_of_academic_year) "
            "FROM marts.school_as_of"
        ).fetchone()
        assert as_of is not None
        assert THROUGH - timedelta(days=4) <= as_of[0] <= as_of[1] <= THROUGH
        assert as_of[2] == "2026/27"
        # This term's attendance, per pupil.
        term = con.execute(
            "SELECT count(*), max(possible) FROM marts.attendance_pupil_term "
            "WHERE academic_year = '2026/27' AND term = 'autumn'"
        ).fetchone()
        assert term is not None and term[0] > 100 and term[1] > 40
        # Running plans: some reviews overdue on the day, some due within four weeks.
        overdue, soon = con.execute(
            "SELECT count(*) FILTER (WHERE review_overdue), "
            "count(*) FILTER (WHERE plan_next_review_due > as_of_date "
            "AND plan_next_review_due <= as_of_date + 28) "
            "FROM marts.register_pupil WHERE has_current_plan"
        ).fetchone() or (0, 0)
        assert overdue > 0 and soon > 0
        # Nothing the whole years would not have quarantined.
        assert con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone() == (0,)
    finally:
        con.close()
