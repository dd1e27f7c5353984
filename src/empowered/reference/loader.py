"""Load the packaged reference seeds and a date dimension into the ``reference`` schema.

Every CSV in ``empowered/reference/seeds`` becomes ``reference.<file stem>``. The files are
parsed here with the standard library rather than by DuckDB's sniffer so that each value
is checked against a declared type (``schema.py``) and any problem is reported with the
file, row and column a person has to fix. Nothing is written until every seed has
passed, so a bad edit never leaves the warehouse with half-replaced reference tables.

Versioned seeds keep several rows per code (for example the attendance code ``B`` before
and after 19 August 2024). Join them on the code *and* the date of the fact::

    on r.code = f.code
   and f.date >= r.effective_from
   and (r.effective_to is null or f.date <= r.effective_to)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb
import holidays

from empowered.reference.loaded_figures import ensure_loaded_figure_tables
from empowered.reference.schema import (
    ATTENDANCE_CATEGORIES,
    PROVENANCE_COLUMNS,
    ColumnType,
    schema_for,
)
from empowered.warehouse.connection import in_transaction

SCHEMA = "reference"
CALENDAR_TABLE = "calendar_date"

_SEED_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})

Value = str | bool | int | float | date | None


class ReferenceDataError(ValueError):
    """A seed file is malformed. Says which file, data row (1 = first row after the
    header) and column, so the fix is a data edit rather than a debugging session."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        where = [file]
        if row is not None:
            where.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        elif line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class Seed:
    """One parsed and validated seed file, ready to insert."""

    name: str
    file: str
    columns: tuple[str, ...]
    types: tuple[ColumnType, ...]
    rows: tuple[tuple[Value, ...], ...]
    lines: tuple[int, ...]

    def column(self, name: str) -> list[Value]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def _convert(text: str, column_type: ColumnType) -> Value:
    """Turn one cell into a Python value of the declared type (empty = NULL).

    Raises ValueError with a short reason; the caller adds file, row and column.
    """
    if text == "":
        return None
    if column_type == "VARCHAR":
        return text
    if column_type == "BOOLEAN":
        lowered = text.lower()
        # Only true/false: a Y/N or 1/0 slipping in would silently mean something else.
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if column_type == "INTEGER":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if column_type == "DOUBLE":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if column_type == "DATE":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {text!r}") from None
    raise AssertionError(f"unhandled column type {column_type}")  # pragma: no cover


def read_seed(name: str, text: str, *, file: str | None = None) -> Seed:
    """Parse and validate the text of one seed file.

    Checks: the header has every declared column (plus ``source`` and
    ``effective_from``) and no duplicates; every row has as many cells as the header;
    required cells are filled; values have their declared type and, where listed, an
    allowed value; ``effective_to`` is not before ``effective_from``; and no two rows
    with the same key are in force on the same day.
    """
    file = file or f"{name}.csv"
    if not _SEED_NAME.match(name):
        raise ReferenceDataError(
            "seed file names must be lower case letters, digits and underscores", file=file
        )
    schema = schema_for(name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise ReferenceDataError("the file is empty: a header row is required", file=file) from None
    except csv.Error as exc:
        raise ReferenceDataError(f"unreadable CSV: {exc}", file=file, line=1) from None

    seen: set[str] = set()
    for column in header:
        if column == "":
            raise ReferenceDataError("the header has an empty column name", file=file, line=1)
        if column in seen:
            raise ReferenceDataError("column appears twice in the header", file=file, column=column)
        seen.add(column)
    for column in (*schema.column_names, *PROVENANCE_COLUMNS):
        if column not in seen:
            raise ReferenceDataError(
                "required column is missing from the header", file=file, line=1, column=column
            )

    extras = tuple(column for column in header if column not in schema.column_names)
    columns = (*schema.column_names, *extras)
    types = tuple(schema.type_of(column) for column in columns)
    position = {column: header.index(column) for column in columns}
    required = (*schema.required, *PROVENANCE_COLUMNS)

    rows: list[tuple[Value, ...]] = []
    lines: list[int] = []
    row_number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ReferenceDataError(
                f"unreadable CSV: {exc}", file=file, row=row_number + 1, line=reader.line_num
            ) from None
        row_number += 1
        line = reader.line_num
        if not cells or all(cell.strip() == "" for cell in cells):
            # A blank trailing line is an editing accident, not a row.
            row_number -= 1
            continue
        if len(cells) != len(header):
            raise ReferenceDataError(
                f"has {len(cells)} cells but the header has {len(header)}",
                file=file,
                row=row_number,
                line=line,
            )
        values: list[Value] = []
        for column, column_type in zip(columns, types, strict=True):
            cell = cells[position[column]].strip()
            if cell == "" and column in required:
                raise ReferenceDataError(
                    "must not be empty", file=file, row=row_number, line=line, column=column
                )
            allowed = schema.allowed.get(column)
            if allowed is not None and cell != "" and cell not in allowed:
                raise ReferenceDataError(
                    f"{cell!r} is not one of {', '.join(sorted(allowed))}",
                    file=file,
                    row=row_number,
                    line=line,
                    column=column,
                )
            try:
                values.append(_convert(cell, column_type))
            except ValueError as exc:
                raise ReferenceDataError(
                    str(exc), file=file, row=row_number, line=line, column=column
                ) from None
        record = dict(zip(columns, values, strict=True))
        start, end = record["effective_from"], record.get("effective_to")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            raise ReferenceDataError(
                "effective_to is before effective_from",
                file=file,
                row=row_number,
                line=line,
                column="effective_to",
            )
        rows.append(tuple(values))
        lines.append(line)

    key = schema.key or (("code",) if "code" in columns else ())
    if key:
        _check_no_overlap(file, columns, key, rows, lines)
    return Seed(name, file, columns, types, tuple(rows), tuple(lines))


def _check_no_overlap(
    file: str,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Sequence[tuple[Value, ...]],
    lines: Sequence[int],
) -> None:
    """No two rows with the same key may be in force on the same day.

    A code may repeat (a new version after a DfE change) only if the earlier row was
    closed with an effective_to before the later one starts.
    """
    key_index = [columns.index(column) for column in key]
    start_index = columns.index("effective_from")
    end_index = columns.index("effective_to") if "effective_to" in columns else None
    by_key: dict[tuple[Value, ...], list[int]] = {}
    for number, row in enumerate(rows):
        by_key.setdefault(tuple(row[i] for i in key_index), []).append(number)
    for key_value, numbers in by_key.items():
        for later_pos, later in enumerate(numbers):
            for earlier in numbers[:later_pos]:
                if _overlaps(rows[earlier], rows[later], start_index, end_index):
                    shown = ", ".join(f"{c}={v!r}" for c, v in zip(key, key_value, strict=True))
                    raise ReferenceDataError(
                        f"duplicate {shown}: in force at the same time as row {earlier + 1} "
                        f"(line {lines[earlier]}); close the older row with effective_to",
                        file=file,
                        row=later + 1,
                        line=lines[later],
                        column=key[0],
                    )


def _overlaps(
    first: tuple[Value, ...], second: tuple[Value, ...], start: int, end: int | None
) -> bool:
    def period(row: tuple[Value, ...]) -> tuple[date, date]:
        begins = row[start]
        ends = row[end] if end is not None else None
        assert isinstance(begins, date)  # effective_from is required, so never empty
        return begins, ends if isinstance(ends, date) else date.max

    first_start, first_end = period(first)
    second_start, second_end = period(second)
    return first_start <= second_end and second_start <= first_end


def _check_references(seeds: dict[str, Seed]) -> None:
    """Checks that span rows or files: the things a one-row data edit can break."""
    provision = seeds.get("sen_provision")
    if provision is not None:
        codes = set(provision.column("code"))
        for number, target in enumerate(provision.column("maps_to"), start=1):
            if target not in codes:
                raise ReferenceDataError(
                    f"maps_to {target!r} is not an SEN provision code",
                    file=provision.file,
                    row=number,
                    line=provision.lines[number - 1],
                    column="maps_to",
                )
    need, area = seeds.get("sen_need"), seeds.get("broad_area")
    if need is not None and area is not None:
        areas = set(area.column("code"))
        for number, value in enumerate(need.column("broad_area"), start=1):
            if value is not None and value not in areas:
                raise ReferenceDataError(
                    f"broad area {value!r} is not a code in broad_area.csv",
                    file=need.file,
                    row=number,
                    line=need.lines[number - 1],
                    column="broad_area",
                )
    attendance = seeds.get("attendance_code")
    if attendance is not None:
        _check_attendance_flags(attendance)


# What each category means for the statistics: possible, present, authorised, unauthorised.
# The flags are stored for convenient SQL but must never disagree with the category.
_ATTENDANCE_FLAGS: dict[str, tuple[bool, bool, bool, bool]] = {
    "present": (True, True, False, False),
    "approved_activity": (True, True, False, False),
    "authorised_absence": (True, False, True, False),
    "unauthorised_absence": (True, False, False, True),
    "not_possible": (False, False, False, False),
    "administrative": (False, False, False, False),
}
assert set(_ATTENDANCE_FLAGS) == ATTENDANCE_CATEGORIES

_FLAG_COLUMNS = (
    "counts_as_possible",
    "counts_as_present",
    "counts_as_authorised",
    "counts_as_unauthorised",
)


def _check_attendance_flags(seed: Seed) -> None:
    categories = seed.column("category")
    flags = [seed.column(column) for column in _FLAG_COLUMNS]
    for number, category in enumerate(categories, start=1):
        assert isinstance(category, str)  # required and checked against the allowed set
        expected = _ATTENDANCE_FLAGS[category]
        for column, values, wanted in zip(_FLAG_COLUMNS, flags, expected, strict=True):
            if values[number - 1] is not wanted:
                raise ReferenceDataError(
                    f"must be {str(wanted).lower()} for category {category!r}",
                    file=seed.file,
                    row=number,
                    line=seed.lines[number - 1],
                    column=column,
                )


def _seed_directory(seeds_dir: Path | Traversable | None) -> Traversable:
    if seeds_dir is not None:
        return seeds_dir
    # importlib.resources finds the folder inside an installed wheel as well as a checkout.
    return resources.files("empowered.reference").joinpath("seeds")


def read_seeds(seeds_dir: Path | Traversable | None = None) -> dict[str, Seed]:
    """Parse and validate every ``*.csv`` in the seeds folder, keyed by seed name."""
    folder = _seed_directory(seeds_dir)
    files = sorted(
        (entry for entry in folder.iterdir() if entry.is_file() and entry.name.endswith(".csv")),
        key=lambda entry: entry.name,
    )
    seeds: dict[str, Seed] = {}
    for entry in files:
        name = entry.name.removesuffix(".csv")
        # utf-8-sig: a spreadsheet that adds a byte-order mark must not rename column one.
        seeds[name] = read_seed(name, entry.read_text(encoding="utf-8-sig"), file=entry.name)
    _check_references(seeds)
    return seeds


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, width: int, rows: Sequence[Sequence[Value]]
) -> None:
    """Insert with bound parameters, many rows per statement: seeds are a few hundred
    rows, and one statement per row would cost more than the rest of the load."""
    batch = max(1, 2000 // max(width, 1))
    placeholder = "(" + ", ".join(["?"] * width) + ")"
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        params: list[Value] = [value for row in chunk for value in row]
        con.execute(f"insert into {table} values {', '.join([placeholder] * len(chunk))}", params)


def _create_seed_table(con: duckdb.DuckDBPyConnection, seed: Seed) -> None:
    table = f"{SCHEMA}.{_quote(seed.name)}"
    columns = ", ".join(
        f"{_quote(column)} {column_type}"
        for column, column_type in zip(seed.columns, seed.types, strict=True)
    )
    con.execute(f"create or replace table {table} ({columns})")
    if seed.rows:
        _insert_rows(con, table, len(seed.columns), seed.rows)
    if seed.name == "eef_months":
        # The EEF table lists positive effect sizes only; a negative effect size converts
        # to the same number of months, negative. Mirroring here keeps the seed a copy of
        # the published table while letting SQL look up any effect size with one join.
        con.execute(
            f"""
            insert into {table} by name
            select -max_effect_size as min_effect_size, -min_effect_size as max_effect_size,
                   -months as months, * exclude (min_effect_size, max_effect_size, months)
                   replace ('negative' as impact)
            from {table} where months > 0
            """
        )


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> tuple[tuple[date, str], ...]:
    # Cached because building the holiday table is most of the cost of a reload. The
    # package lists both the holiday and its weekday substitute ("Boxing Day (observed)")
    # when it falls at a weekend; both are kept, as the weekend day is not a school day.
    england = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return tuple(sorted((day, str(name)) for day, name in england.items()))


def _create_calendar(con: duckdb.DuckDBPyConnection, first_date: date, last_date: date) -> None:
    table = f"{SCHEMA}.{CALENDAR_TABLE}"
    bank = [
        (day, name)
        for day, name in _bank_holidays(first_date.year, last_date.year)
        if first_date <= day <= last_date
    ]
    if bank:
        values = "values " + ", ".join(["(cast(? as date), cast(? as varchar))"] * len(bank))
        params: list[Value] = [value for pair in bank for value in pair]
    else:
        values = "select cast(null as date), cast(null as varchar) where false"
        params = []
    # The English academic year runs 1 September to 31 August; it is the year every
    # school report is organised by, so it is precomputed once here.
    con.execute(
        f"""
        create or replace table {table} as
        with bank_holiday(day, name) as ({values}),
        days as (
            select cast(d as date) as date_day
            from generate_series(cast(? as date), cast(? as date), interval 1 day) as t(d)
        ),
        dated as (
            select date_day,
                   cast(case when month(date_day) >= 9 then year(date_day)
                             else year(date_day) - 1 end as integer) as academic_year_start
            from days
        )
        select d.date_day,
               cast(isodow(d.date_day) as integer) as iso_weekday,
               dayname(d.date_day) as weekday_name,
               isodow(d.date_day) >= 6 as is_weekend,
               b.name is not null as is_bank_holiday,
               b.name as bank_holiday_name,
               cast(d.academic_year_start as varchar) || '/'
                   || lpad(cast((d.academic_year_start + 1) % 100 as varchar), 2, '0')
                   as academic_year,
               d.academic_year_start,
               cast(isoyear(d.date_day) as integer) as iso_year,
               cast(week(d.date_day) as integer) as iso_week,
               cast(month(d.date_day) as integer) as month,
               monthname(d.date_day) as month_name,
               cast(day(d.date_day) as integer) as day_of_month
        from dated as d
        left join bank_holiday as b on b.day = d.date_day
        order by d.date_day
        """,
        [*params, first_date, last_date],
    )


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Start a transaction unless the caller already has one open (then theirs decides).

    DuckDB has no "in a transaction?" call, and a failed BEGIN would abort the caller's
    transaction, so ask for the transaction id twice: in auto-commit mode every
    statement gets a new one, inside an open transaction both answers are the same.
    """
    if in_transaction(con):
        return False
    con.execute("begin transaction")
    return True


def load_reference(
    con: duckdb.DuckDBPyConnection,
    *,
    first_date: date = date(2015, 9, 1),
    last_date: date = date(2035, 8, 31),
    seeds_dir: Path | Traversable | None = None,
) -> dict[str, int]:
    """(Re)create ``reference.<seed>`` for every packaged seed and ``reference.calendar_date``.

    Idempotent: tables are replaced, so running it twice gives the same result. Every
    seed is validated before anything is written, and the writes happen in one
    transaction. ``seeds_dir`` replaces the packaged folder (tests, a trust's own
    figures). Returns the row count of each table, keyed by table name without schema.

    Raises ReferenceDataError for a malformed seed and ValueError for an empty date range.
    """
    if last_date < first_date:
        raise ValueError(f"last_date {last_date} is before first_date {first_date}")
    seeds = read_seeds(seeds_dir)
    owns_transaction = _begin(con)
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for seed in seeds.values():
            _create_seed_table(con, seed)
        _create_calendar(con, first_date, last_date)
        # Figures loaded from the DfE's files are kept; the register reads the tables.
        ensure_loaded_figure_tables(con)
        counts = _row_counts(con, [*seeds, CALENDAR_TABLE])
    except BaseException:
        if owns_transaction:
            con.execute("rollback")
        raise
    if owns_transaction:
        con.execute("commit")
    return counts


def _row_counts(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        found = con.execute(f"select count(*) from {SCHEMA}.{_quote(table)}").fetchone()
        counts[table] = int(found[0]) if found is not None else 0
    return counts
