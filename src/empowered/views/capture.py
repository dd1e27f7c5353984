"""What the capture page shows: the pupils a member of staff may log for, and the strategy
catalogue. Landing a capture is :mod:`empowered.sources.capture`'s job; nothing here
decides access (the scope comes from the access layer) and nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.identity import identity_reader
from empowered.keys import Keys
from empowered.sources.capture import DEFAULT_STRATEGIES, Choices
from empowered.views import OutOfScope, PupilScope, queries


@dataclass(frozen=True)
class CapturePupil:
    pupil_key: str
    school_urn: str
    name: str
    group: str  # the group the page lists the pupil under


@dataclass(frozen=True)
class CaptureTarget:
    """The pupil a capture is for. ``upn`` goes only into the landed row; the dates are
    the pupil's time on roll at the school, which a capture's day must fall in."""

    pupil_key: str
    school_urn: str
    name: str
    upn: str
    entry_date: date | None = None
    leaving_date: date | None = None

    def has_left(self, today: date) -> bool:
        return self.leaving_date is not None and self.leaving_date < today


def capture_pupils(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    groups: Sequence[str] = (),
    search: str = "",
) -> list[CapturePupil]:
    """The pupils in ``scope``, ordered by group then name. A pupil in one of ``groups``
    (a teacher's own classes) is listed under that group, anyone else under their
    registration group. ``search`` keeps pupils whose name or group contains it."""
    if not scope.identified:
        return []
    mine = set(groups)
    found = []
    reader = identity_reader(scope)
    for r in queries.rows(con, "capture_pupils", scope=scope):
        own = [g for g in r["group_codes"] if g in mine]
        group = own[0] if own else str(r["reg_group"] or r["year_group"] or "No group")
        name = reader.name(r)
        found.append(CapturePupil(str(r["pupil_key"]), str(r["school_urn"]), name, group))
    words = search.casefold().split()
    if words:
        found = [p for p in found if all(w in f"{p.name} {p.group}".casefold() for w in words)]
    return sorted(found, key=lambda p: (p.group, p.name.casefold(), p.pupil_key))


# The marts capture_pupil.sql reads (what a kept row depends on).
CAPTURE_PUPIL_TABLES = ("core.pupil_identity", "core.fct_enrolment")


def capture_pupil_row(
    con: duckdb.DuckDBPyConnection, pupil_key: str, *, scope: PupilScope
) -> queries.Row | None:
    """The pupil's row as stored (names and UPN still encrypted), or None for one outside
    ``scope`` or unknown alike: what :func:`target_of` makes the target from."""
    rows = queries.rows(con, "capture_pupil", scope=scope, pupil_key=pupil_key)
    return rows[0] if rows else None


def capture_pupil_rows(
    con: duckdb.DuckDBPyConnection, *, scope: PupilScope
) -> dict[str, queries.Row]:
    """:func:`capture_pupil_row` of every pupil in ``scope``, by pupil key, in one read."""
    found: dict[str, queries.Row] = {}
    for row in queries.rows(con, "capture_pupils_rows", scope=scope):
        found.setdefault(str(row["pupil_key"]), row)
    return found


def target_of(
    row: queries.Row | None, pupil_key: str, *, scope: PupilScope, keys: Keys | None = None
) -> CaptureTarget:
    """The target of a row from :func:`capture_pupil_row`, or :class:`OutOfScope`."""
    if row is None or not scope.identified:
        raise OutOfScope(pupil_key)
    reader = identity_reader(scope, keys)
    return CaptureTarget(
        str(row["pupil_key"]),
        str(row["school_urn"]),
        reader.name(row),
        str(reader.upn(row["upn"])),
        _date(row["entry_date"]),
        _date(row["leaving_date"]),
    )


def capture_target(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    keys: Keys | None = None,
) -> CaptureTarget:
    """The pupil, or :class:`OutOfScope` for one outside ``scope`` or unknown alike."""
    row = capture_pupil_row(con, pupil_key, scope=scope)
    return target_of(row, pupil_key, scope=scope, keys=keys)


def _date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def strategy_choices(con: duckdb.DuckDBPyConnection) -> Choices:
    """The trust's strategy catalogue (code, name), or the quick form's if it has none."""
    try:
        rows = queries.rows(con, "capture_strategies")
    except duckdb.CatalogException:
        rows = []
    return tuple((str(r["strategy_code"]), str(r["strategy_name"])) for r in rows) or (
        DEFAULT_STRATEGIES
    )
