"""Term dates as a local authority publishes them (one row per term with its half-term
break, dates like "Wednesday 3 September 2025", a title and a footnote): two half terms
per row, and a school calendar the attendance can be checked against.

File and truth: fixtures/real/ (see test_real_pupil_lists). The truth numbers half terms
1 and 2 within each term; EmpowerED+ numbers them 1 to 6 through the year, as its canonical
terms.csv does (docs/canonical-format.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from real_files import import_file, read_truth, set_up_school

NAME = "la_term_dates.csv"
FIRST_HALF = {"autumn": 1, "spring": 3, "summer": 5}


def test_a_local_authoritys_term_dates_make_the_calendar(tmp_path: Path) -> None:
    truth = read_truth(NAME)
    school = str(truth["school_urn"])
    warehouse = str(tmp_path / "w.duckdb")
    set_up_school(warehouse, school)
    output = import_file(warehouse, NAME, school=school)
    assert "read as a local authority's term dates" in output
    assert "a note below the table, not a term" in output

    con = duckdb.connect(warehouse, read_only=True)
    terms = con.execute(
        "SELECT academic_year, term, half_term, start_date, end_date "
        "FROM staging.stg_canonical_terms WHERE _is_current ORDER BY start_date"
    ).fetchall()
    days = con.execute(
        "SELECT count(*) FILTER (WHERE is_school_day), min(date_day) FILTER (WHERE is_term_time), "
        "max(date_day) FILTER (WHERE is_term_time) "
        "FROM core.dim_school_calendar WHERE school_urn = ? "
        "AND academic_year IN ('2025/26', '2026/27')",
        [school],
    ).fetchone()
    con.close()
    expected = [
        (t["academic_year"], t["term"], FIRST_HALF[t["term"]] + t["half_term"] - 1,
         t["start_date"], t["end_date"])
        for t in truth["truth"]["terms"]
    ]  # fmt: skip
    assert [(y, t, h, str(s), str(e)) for y, t, h, s, e in terms] == expected
    assert days is not None and str(days[1]) == "2025-09-03" and str(days[2]) == "2027-07-21"
    assert 370 <= days[0] <= 390  # about 190 school days a year, bank holidays taken out
    # The years the LA's file covers are its own; the others are the standard calendar's.
    con = duckdb.connect(warehouse, read_only=True)
    standard = con.execute(
        "SELECT DISTINCT academic_year FROM staging.stg_canonical_school_terms "
        "WHERE school_urn = ? AND is_standard ORDER BY 1",
        [school],
    ).fetchall()
    con.close()
    assert [y for (y,) in standard] == ["2022/23", "2023/24", "2024/25", "2027/28"]
