"""Dates as schools' exports write them, read as ISO dates (2015-03-14).

Staging reads ISO and DD/MM/YYYY (``parse_uk_date``); exports also write "14-Mar-2015",
"14 March 2015", "Wednesday 3 September 2025", "14-03-2015" (GIAS), "14.03.2015",
ISO date-times ("2015-03-14T00:00:00", Bromcom and the APIs) and a time after the date
("01/12/2026 08:14"). Those are turned into ISO here, once, for every reader. A text that
is none of these, or names a day that does not exist (31/02/2025), is returned as
written, so that staging quarantines it showing the value the school typed.

A date cell of a workbook that was not formatted as a date reaches us as Excel's serial
number (42652 is 2016-10-09: days since 30 December 1899). In a date column, a whole
number of five digits (1927 to 2119) is read so; no other number is.

Two-digit years are never guessed: "14/03/15" could be 1915 or 2015 in a date of birth.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*,?\s+)?"
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:z|[+-]\d{2}:?\d{2})?)?"
_NAMED = re.compile(
    rf"^{_WEEKDAY}(\d{{1,2}})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{{4}}){_TIME}$"
)
_ISO = re.compile(rf"^(\d{{4}})-(\d{{2}})-(\d{{2}}){_TIME}$")
_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_NUMERIC = re.compile(rf"^(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}){_TIME}$")
# Canonical columns that hold a date (the ones staging parses with parse_uk_date).
_DATE_COLUMN = re.compile(r"(^date$|_date$|^date_of_birth$|_on$|^pupil_dob$|^period_(start|end)$)")


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def to_iso(text: str | None) -> str | None:
    """``text`` as an ISO date when it is a date in a form exports use; else as written."""
    if text is None:
        return None
    loose = " ".join(text.strip().casefold().split())
    found: str | None = None
    if m := _SERIAL.match(loose):
        found = (_EXCEL_EPOCH + timedelta(days=int(m[1]))).isoformat()
    elif m := _ISO.match(loose):
        found = _iso(int(m[1]), int(m[2]), int(m[3]))
    elif m := _NUMERIC.match(loose):
        found = _iso(int(m[3]), int(m[2]), int(m[1]))
    elif (m := _NAMED.match(loose)) and m[2] in MONTHS:
        found = _iso(int(m[3]), MONTHS[m[2]], int(m[1]))
    return found or text


def is_date_column(column: str) -> bool:
    return bool(_DATE_COLUMN.search(column))
