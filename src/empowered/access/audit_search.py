"""Searching the audit log for the audit page and its CSV export.

Who may see which entries is decided here from the caller's scope (``access.policy``'s
schools): the whole trust for a trust admin; for a school's safeguarding lead, what their
school's staff did and what trust-level accounts did with their school's pupils.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import duckdb

from empowered.access.audit import EVENT_TYPES


@cache
def _sql(name: str) -> str:
    return resources.files("empowered.access").joinpath(f"queries/{name}.sql").read_text()


# A school's pupils, from the warehouse's enrolments; before a first build there are none.
_SCHOOL_PUPILS = (
    "select pupil_key from core.fct_enrolment where list_contains($schools, school_urn)"
)
_NO_PUPILS = "select cast(null as varchar) where false"


@dataclass(frozen=True)
class Search:
    """What the audit page was asked for; empty fields match everything."""

    username: str | None = None
    pupil_key: str | None = None
    event: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.username, self.pupil_key, self.event,
                                          self.since, self.until))  # fmt: skip


def parse_search(params: dict[str, str]) -> tuple[Search, dict[str, str]]:
    """A ``Search`` from the page's query, and a plain message per field that is wrong."""
    errors: dict[str, str] = {}

    def text(name: str, longest: int) -> str | None:
        value = (params.get(name) or "").strip()
        return value[:longest] or None

    def day(name: str) -> date | None:
        value = text(name, 10)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            errors[name] = "Enter the date as a date, for example 2026-11-23."
            return None

    event = text("event", 40)
    if event is not None and event not in EVENT_TYPES:
        errors["event"] = "Choose an event from the list."
        event = None
    search = Search(text("user", 64), text("pupil", 100), event, day("since"), day("until"))
    if search.since and search.until and search.until < search.since:
        errors["until"] = "The end date is before the start date."
    return search, errors


def _has_enrolments(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' "
        "AND table_name = 'fct_enrolment'"
    ).fetchone()
    row_v = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'core' "
        "AND view_name = 'fct_enrolment'"
    ).fetchone()
    return bool((row and row[0]) or (row_v and row_v[0]))


def search_log(
    con: duckdb.DuckDBPyConnection,
    search: Search,
    *,
    schools: frozenset[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of matching entries (newest first) and how many match in all."""
    pupils = _SCHOOL_PUPILS if schools is not None and _has_enrolments(con) else _NO_PUPILS
    # The subquery is one of two constants above, never a user's value.
    query = _sql("audit_search").replace("{school_pupils}", pupils)
    since = datetime.combine(search.since, datetime.min.time()) if search.since else None
    before = (
        datetime.combine(search.until + timedelta(days=1), datetime.min.time())
        if search.until
        else None
    )
    cursor = con.execute(
        query,
        {
            "schools": sorted(schools) if schools is not None else None,
            "username": search.username,
            "pupil_key": search.pupil_key,
            "event": search.event,
            "since": since,
            "before": before,
            "limit": max(0, int(limit)),
            "offset": max(0, int(offset)),
        },
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    total = int(rows[0]["total"]) if rows else 0
    if not rows and offset:
        # Past the last page: count what matches to say so.
        _, total = search_log(con, search, schools=schools, limit=1, offset=0)
    for row in rows:
        row.pop("total")
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        row["at"] = row["at"].replace(tzinfo=UTC)
    return rows, total
