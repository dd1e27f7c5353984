"""Term dates as a local authority publishes them: one row per term, with the half-term
break inside it ("Term starts", "Half term starts", "Half term ends", "Term ends", dates
written "Wednesday 3 September 2025"), for the school named with --school.

Each row is two canonical ``terms`` records, the half terms either side of the break:
the first from the term's start to the last weekday before the break, the second from the
first weekday after it to the term's end. A school's own terms.csv (canonical) is read as
it is; this is for the school that has only its authority's published table.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from empowered.sources.dates import to_iso
from empowered.sources.errors import SourceError
from empowered.sources.records import ReadResult, SkippedRow, SourceRecord
from empowered.sources.tabular import DEFAULT_MAX_BYTES, normalise_header, read_header, read_table

# Normalised headings -> what they hold.
COLUMNS = {
    "academic_year": ("academic_year", "school_year", "year"),
    "term": ("term",),
    "term_starts": ("term_starts", "term_start", "first_day_of_term", "term_begins"),
    "break_starts": ("half_term_starts", "half_term_start", "half_term_begins"),
    "break_ends": ("half_term_ends", "half_term_end"),
    "term_ends": ("term_ends", "term_end", "last_day_of_term"),
}
HALF_TERM = {"autumn": (1, 2), "spring": (3, 4), "summer": (5, 6)}
_YEAR = re.compile(r"^(\d{4})\s*(?:to|-|/|\u2013)\s*(\d{2}|\d{4})$")


def _academic_year(text: str | None) -> str | None:
    """ "2025 to 2026", "2025-26", "2025/2026" -> "2025/26"; anything else as written."""
    match = _YEAR.match((text or "").strip())
    if not match:
        return text
    return f"{match[1]}/{match[2][-2:]}"


def _day(text: str | None) -> date | None:
    iso = to_iso(text)
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _weekday_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class TermDatesReader:
    """A local authority's published term dates (one row per term, its half-term break
    inside): two canonical half terms per row."""

    name = "term-dates"

    def __init__(self, *, school: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.school = school
        self.max_bytes = max_bytes

    @staticmethod
    def fits(header: list[str]) -> bool:
        names = {normalise_header(h) for h in header}
        return all(
            any(alias in names for alias in COLUMNS[key])
            for key in ("term", "term_starts", "break_starts", "break_ends", "term_ends")
        )

    def recognises(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() not in (".csv", ".xlsx", ".txt"):
            return False
        try:
            header = read_header(path, head=head or None, expected=_expected())
        except SourceError:
            return False
        return self.fits(header)

    def read(self, path: Path) -> ReadResult:
        if not self.school:
            raise SourceError(
                path.name,
                "term dates do not say which school keeps them: tell the importer with "
                "--school URN (import the file once for each school that follows them)",
            )
        table = read_table(path, max_bytes=self.max_bytes, expected=_expected())
        index = {normalise_header(h): i for i, h in enumerate(table.header)}
        where = {
            key: next((index[a] for a in aliases if a in index), None)
            for key, aliases in COLUMNS.items()
        }
        records: list[SourceRecord] = []
        skipped = list(table.skipped)
        for row_number, cells in table.rows:

            def cell(key: str, cells: list[str | None] = cells) -> str | None:
                position = where[key]
                return cells[position] if position is not None else None

            term = (cell("term") or "").strip().casefold()
            dates = [cell(k) for k in ("term_starts", "break_starts", "break_ends", "term_ends")]
            if term not in HALF_TERM and not any(dates):
                # A published table's footnote ("Schools will also close for INSET days").
                skipped.append(SkippedRow(row_number, "a note below the table, not a term"))
                continue
            year = _academic_year(cell("academic_year"))
            starts, ends = cell("term_starts"), cell("term_ends")
            first, second = HALF_TERM.get(term, (None, None))
            break_starts, break_ends = _day(cell("break_starts")), _day(cell("break_ends"))
            if break_starts is None or break_ends is None or first is None:
                # Without the break the term is one record, for staging to judge as written.
                halves = [(first, starts, ends)]
            else:
                halves = [
                    (first, starts, _weekday_before(break_starts).isoformat()),
                    (second, _weekday_after(break_ends).isoformat(), ends),
                ]
            for half, start, end in halves:
                records.append(
                    SourceRecord(
                        "terms",
                        {
                            "school_urn": self.school,
                            "academic_year": year,
                            "term": term or None,
                            "half_term": str(half) if half else None,
                            "start_date": to_iso(start),
                            "end_date": to_iso(end),
                        },
                        row_number,
                    )
                )
        return ReadResult(
            path.name,
            self.name,
            records,
            skipped=skipped,
            warnings=[
                "read as a local authority's term dates: two half terms per row, either side "
                "of the half-term break; INSET days and closures are not in such a table",
                *table.warnings,
            ],
        )


def _expected() -> set[str]:
    return {alias for aliases in COLUMNS.values() for alias in aliases}
