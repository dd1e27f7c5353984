"""The calendar comes with the product (issue 12, item 6): a school that never sent
terms.csv gets England's standard term dates, its own terms replace them for the
academic years they cover and only those, and a mark outside every term year (a summer
holiday) is quarantined with the reason, never breaking the build.

Before issue 12 a mark outside the school's terms reached marts.attendance_pupil_day
without a school year, and that model's not_null(academic_year) check failed every later
build; before the standard calendar, a school with no terms.csv had all its marks
quarantined."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from empowered.cli import app

runner = CliRunner()
REASON = "is outside the school's term dates (its terms.csv, else England's standard term dates)"
SCHOOLS = "school_urn,la_code,estab,school_name,phase,trust_name\n990001,999,2001,Oak,primary,\n"
PUPILS = (
    "school_urn,upn,forename,surname,date_of_birth,sex,entry_date\n"
    "990001,L999200115001,Ada,Testpupil,2015-03-14,F,2021-09-01\n"
)
HEADER = "school_urn,academic_year,term,half_term,start_date,end_date\n"
# The school's own autumn 2026: it starts two days after the standard one (1 September).
OWN_2026 = HEADER + "990001,2026/27,autumn,1,2026-09-03,2026-10-23\n"
# The school's own last summer half term runs two days past the standard one (20 July).
OWN_2025 = HEADER + "990001,2025/26,summer,6,2026-06-01,2026-07-22\n"


def _marks(*rows: str) -> str:
    return "school_urn,upn,date,session,code\n" + "".join(
        f"990001,L999200115001,{row}\n" for row in rows
    )


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def _import(folder: Path, warehouse: str) -> str:
    result = runner.invoke(app, ["import", str(folder), "--warehouse", warehouse])
    assert result.exit_code == 0, result.output
    assert "build ok" in result.output
    return result.output


def _days(warehouse: str) -> list[tuple[str, str, str | None]]:
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(
        "SELECT d.session_date, d.academic_year, c.term FROM marts.attendance_pupil_day AS d "
        "JOIN core.dim_school_calendar AS c "
        "ON c.school_urn = d.school_urn AND c.date_day = d.session_date ORDER BY 1"
    ).fetchall()
    con.close()
    return [(str(day), year, term) for day, year, term in rows]


def _quarantined(warehouse: str) -> list[tuple[str, str]]:
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(
        "SELECT value, reason FROM quarantine.rejected_rows WHERE entity = 'attendance' ORDER BY 1"
    ).fetchall()
    con.close()
    return [(str(value), str(reason)) for value, reason in rows]


def test_a_school_with_no_terms_gets_the_standard_calendar(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    folder = _folder(
        tmp_path,
        "first",
        {"schools.csv": SCHOOLS, "pupils.csv": PUPILS,
         "attendance.csv": _marks("2025-11-04,AM,/", "2026-03-02,PM,I")},
    )  # fmt: skip
    _import(folder, warehouse)
    assert _days(warehouse) == [
        ("2025-11-04", "2025/26", "autumn"),
        ("2026-03-02", "2025/26", "spring"),
    ]
    assert _quarantined(warehouse) == []


def test_own_terms_replace_the_standard_ones_for_their_year_only(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    folder = _folder(
        tmp_path,
        "first",
        {"schools.csv": SCHOOLS, "pupils.csv": PUPILS, "terms.csv": OWN_2026,
         # 1 September is a standard term day but not one of this school's; 15 July is
         # in the standard 2025/26, a year the school sent no terms for.
         "attendance.csv": _marks("2026-07-15,AM,/", "2026-09-01,AM,/", "2026-09-07,AM,/")},
    )  # fmt: skip
    output = _import(folder, warehouse)
    assert REASON in output
    assert _days(warehouse) == [
        ("2026-07-15", "2025/26", "summer"),
        ("2026-09-07", "2026/27", "autumn"),
    ]
    assert [value for value, _ in _quarantined(warehouse)] == ["2026-09-01"]
    con = duckdb.connect(warehouse, read_only=True)
    terms = con.execute(
        "SELECT academic_year, min(date_day), count(DISTINCT half_term) "
        "FROM core.dim_school_calendar WHERE is_term_time GROUP BY 1 ORDER BY 1"
    ).fetchall()
    con.close()
    starts = {year: (str(first), halves) for year, first, halves in terms}
    # 2026/27 is the school's own single half term; the other years are the standard six.
    assert starts["2026/27"] == ("2026-09-03", 1)
    assert starts["2025/26"] == ("2025-09-01", 6)
    assert starts["2022/23"] == ("2022-09-01", 6)
    assert starts["2027/28"] == ("2027-09-01", 6)


def test_a_mark_in_the_summer_holiday_is_quarantined_until_its_term_is_added(
    tmp_path: Path,
) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    first = _folder(
        tmp_path,
        "first",
        {"schools.csv": SCHOOLS, "pupils.csv": PUPILS,
         "attendance.csv": _marks("2026-07-22,AM,/", "2026-08-10,AM,/", "2026-09-07,AM,/")},
    )  # fmt: skip
    output = _import(first, warehouse)
    assert REASON in output
    assert _days(warehouse) == [("2026-09-07", "2026/27", "autumn")]
    quarantined = _quarantined(warehouse)
    assert [value for value, _ in quarantined] == ["2026-07-22", "2026-08-10"]
    assert all(reason.startswith(REASON) for _, reason in quarantined)

    # The school adds its own last summer half term, two days longer than the standard
    # one: the mark on its last day is read again; August stays out.
    second = _folder(tmp_path, "second", {"terms.csv": OWN_2025})
    _import(second, warehouse)
    assert _days(warehouse) == [
        ("2026-07-22", "2025/26", "summer"),
        ("2026-09-07", "2026/27", "autumn"),
    ]
    assert [value for value, _ in _quarantined(warehouse)] == ["2026-08-10"]
