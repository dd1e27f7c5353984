"""School terms by name ("spring 2027") and their first days: which term a review pack is
for, and when it is due.

A school's own term dates come from ``core.dim_school_calendar`` (its ``term`` column,
loaded from the school's calendar); without them, the usual English terms: autumn from
early September, spring from early January, summer from mid April. A term is named by
its season and the calendar year it starts in, as staff say it: autumn 2026, spring 2027
and summer 2027 make up the academic year 2026/27.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from empowered.school_years import academic_year_label
from empowered.warehouse.connection import table_exists

SEASONS = ("autumn", "spring", "summer")
# The usual first days (month, day) when a school's calendar has no term dates; a weekend
# moves on to the Monday.
USUAL_STARTS = {"autumn": (9, 1), "spring": (1, 4), "summer": (4, 15)}
_NAME = re.compile(r"^\s*(autumn|spring|summer)(?:\s+term)?\s+(\d{4})\s*$", re.IGNORECASE)


class UnknownTerm(ValueError):
    """A term name that is not a season and a year ("spring 2027")."""


@dataclass(frozen=True)
class Term:
    season: str  # autumn | spring | summer
    year: int  # the calendar year it starts in
    starts_on: date
    from_calendar: bool  # False: the usual English dates, the school's not being loaded

    @property
    def name(self) -> str:
        """ "spring term 2027" """
        return f"{self.season} term {self.year}"

    @property
    def academic_year(self) -> str:
        """ "2026/27" """
        return academic_year_label(self.year if self.season == "autumn" else self.year - 1)

    @property
    def dates_note(self) -> str:
        if self.from_calendar:
            return "from the school's calendar"
        return "the usual English term dates (the school's own are not loaded)"


def parse_term(text: str) -> tuple[str, int]:
    """("spring", 2027) from "spring 2027" or "Spring term 2027", or :class:`UnknownTerm`."""
    found = _NAME.match(text)
    if found is None:
        raise UnknownTerm(
            f'"{text}" is not a term: give a season and a year, such as "spring 2027" '
            "(autumn, spring or summer)"
        )
    return found.group(1).lower(), int(found.group(2))


def _usual_start(season: str, year: int) -> date:
    month, day = USUAL_STARTS[season]
    first = date(year, month, day)
    return first + timedelta(days=(7 - first.weekday()) % 7 if first.weekday() >= 5 else 0)


def _calendar_starts(
    con: duckdb.DuckDBPyConnection, school_urn: str | None
) -> dict[tuple[str, int], date]:
    """The first school day of every term in the calendar (the earliest of the trust's
    schools for ``None``), by (season, calendar year it starts in)."""
    if not table_exists(con, "core", "dim_school_calendar"):
        return {}
    found = con.execute(
        """SELECT lower(term), min(date_day) FROM core.dim_school_calendar
           WHERE term IS NOT NULL AND is_school_day AND (? IS NULL OR school_urn = ?)
           GROUP BY school_urn, academic_year, lower(term)""",
        [school_urn, school_urn],
    ).fetchall()
    starts: dict[tuple[str, int], date] = {}
    for season, first in found:
        if season in SEASONS:
            key = (str(season), first.year)
            starts[key] = min(first, starts.get(key, first))
    return starts


def term_named(con: duckdb.DuckDBPyConnection, school_urn: str | None, text: str) -> Term:
    season, year = parse_term(text)
    first = _calendar_starts(con, school_urn).get((season, year))
    if first is not None:
        return Term(season, year, first, True)
    return Term(season, year, _usual_start(season, year), False)


def _usual_terms_after(day: date) -> list[Term]:
    return [
        Term(s, y, _usual_start(s, y), False)
        for y in (day.year, day.year + 1)
        for s in SEASONS
        if _usual_start(s, y) > day
    ]


def term_ahead(con: duckdb.DuckDBPyConnection, school_urn: str | None, day: date) -> Term:
    """The next term to start after ``day``: the school's calendar where it has one."""
    starts = _calendar_starts(con, school_urn)
    ahead = sorted((first, key) for key, first in starts.items() if first > day)
    if ahead:
        first, (season, year) = ahead[0]
        return Term(season, year, first, True)
    return min(_usual_terms_after(day), key=lambda t: t.starts_on)


def term_for(
    con: duckdb.DuckDBPyConnection, school_urn: str | None, text: str | None, day: date
) -> Term:
    """The term a pack is for: the one named, else the one ahead of ``day``."""
    return term_named(con, school_urn, text) if text else term_ahead(con, school_urn, day)
