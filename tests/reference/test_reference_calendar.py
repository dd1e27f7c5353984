"""reference.calendar_date: one row per day with English bank holidays and academic years."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from empowered.reference import load_reference


def day(con: duckdb.DuckDBPyConnection, when: str) -> dict[str, object]:
    cursor = con.execute("select * from reference.calendar_date where date_day = ?", [when])
    row = cursor.fetchone()
    assert row is not None, when
    return {d[0]: value for d, value in zip(cursor.description, row, strict=True)}


def test_one_row_per_date(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """select count(*), count(distinct date_day), min(date_day), max(date_day)
           from reference.calendar_date"""
    ).fetchone()
    assert row == (7305, 7305, date(2015, 9, 1), date(2035, 8, 31))


def test_bank_holidays(con: duckdb.DuckDBPyConnection) -> None:
    christmas = day(con, "2025-12-25")
    assert christmas["is_bank_holiday"] is True
    assert christmas["bank_holiday_name"] == "Christmas Day"
    early_may = day(con, "2025-05-05")
    assert early_may["is_bank_holiday"] is True
    assert early_may["bank_holiday_name"]
    ordinary = day(con, "2025-05-06")
    assert ordinary["is_bank_holiday"] is False
    assert ordinary["bank_holiday_name"] is None
    # England's calendar, not Scotland's: 2 January is not a bank holiday here.
    assert day(con, "2026-01-02")["is_bank_holiday"] is False
    per_year = con.execute(
        """select count(*) from reference.calendar_date
           where is_bank_holiday and year(date_day) = 2025"""
    ).fetchone()
    assert per_year == (8,)


def test_academic_year_boundary(con: duckdb.DuckDBPyConnection) -> None:
    first = day(con, "2025-09-01")
    assert first["academic_year"] == "2025/26"
    assert first["academic_year_start"] == 2025
    last = day(con, "2025-08-31")
    assert last["academic_year"] == "2024/25"
    assert last["academic_year_start"] == 2024


def test_weekdays(con: duckdb.DuckDBPyConnection) -> None:
    monday = day(con, "2025-09-01")
    assert (monday["iso_weekday"], monday["weekday_name"], monday["is_weekend"]) == (
        1,
        "Monday",
        False,
    )
    sunday = day(con, "2025-08-31")
    assert (sunday["iso_weekday"], sunday["weekday_name"], sunday["is_weekend"]) == (
        7,
        "Sunday",
        True,
    )
    assert day(con, "2025-08-30")["iso_weekday"] == 6


def test_iso_week_and_month_columns(con: duckdb.DuckDBPyConnection) -> None:
    # 29 December 2025 is a Monday in ISO week 1 of 2026.
    row = day(con, "2025-12-29")
    assert (row["iso_year"], row["iso_week"]) == (2026, 1)
    assert (row["month"], row["month_name"], row["day_of_month"]) == (12, "December", 29)


def test_custom_range_and_century_rollover() -> None:
    con = duckdb.connect()
    counts = load_reference(con, first_date=date(1999, 8, 30), last_date=date(1999, 9, 2))
    assert counts["calendar_date"] == 4
    years = con.execute(
        "select academic_year from reference.calendar_date order by date_day"
    ).fetchall()
    assert [y for (y,) in years] == ["1998/99", "1998/99", "1999/00", "1999/00"]


def test_range_without_bank_holidays() -> None:
    con = duckdb.connect()
    counts = load_reference(con, first_date=date(2025, 6, 2), last_date=date(2025, 6, 3))
    assert counts["calendar_date"] == 2


def test_reversed_range_is_refused() -> None:
    with pytest.raises(ValueError, match="before first_date"):
        load_reference(duckdb.connect(), first_date=date(2025, 9, 1), last_date=date(2025, 8, 31))
