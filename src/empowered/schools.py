"""Setting up a school: the first step of a warehouse, which a SENCo can take alone.

A school is a source row like any other. ``empowered school add`` lands ONE canonical
``schools`` record in raw as a batch of its own (source ``school-setup``), and staging,
core and the marts take it from there, exactly as they would a trust's ``schools.csv``.
Adding a school again with other details lands a newer row, which becomes the school's
current one; nothing is overwritten in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.sources.gias import find_school
from empowered.sources.landing import land_app_record
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import table_exists
from empowered.warehouse.runner import BuildResult, ProgressCallback

SOURCE = "school-setup"
PHASES = ("primary", "secondary", "all-through", "special", "alternative provision")
_URN = re.compile(r"^\d{6}$")
_LA = re.compile(r"^\d{3}$")
_ESTAB = re.compile(r"^\d{4}$")


class SchoolError(ValueError):
    """Details that cannot make a school: which detail (``field``: urn, name, phase, la,
    estab) and why, in words for a form or a command alike."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SchoolDetails:
    urn: str
    name: str
    phase: str
    la_code: str | None = None
    estab: str | None = None
    trust_name: str | None = None
    establishment_type: str | None = None


def details(
    urn: str,
    *,
    name: str | None = None,
    phase: str | None = None,
    la_code: str | None = None,
    estab: str | None = None,
    trust_name: str | None = None,
    gias: Path | None = None,
) -> SchoolDetails:
    """A school's details from what was typed and, for what was not, the GIAS file.

    The same rules as staging's for ``schools.csv`` (rules 1-4 of stg_canonical_schools)
    are applied here first, so that a typing mistake is explained at once instead of
    landing a row that staging quarantines."""
    urn = urn.strip()
    if not _URN.match(urn):
        raise SchoolError(
            "urn", f"{urn!r} is not a URN: a school's unique reference number is 6 digits."
        )
    found = find_school(gias, urn) if gias is not None else None
    if found is not None:
        name = name or found.name
        la_code = la_code or found.la_code
        estab = estab or found.estab
        trust_name = trust_name or found.trust_name
        if phase is None and found.phase is None:
            raise SchoolError(
                "phase",
                f"GIAS gives this school's phase as {found.gias_phase or 'blank'!r}, which is "
                f"not one EmpowerED+ has: say which ({', '.join(PHASES)}).",
            )
        phase = phase or found.phase
    if not name or not name.strip():
        raise SchoolError("name", "A school needs a name.")
    if phase is None:
        raise SchoolError("phase", f"A school needs a phase: {', '.join(PHASES)}.")
    phase = phase.strip().casefold()
    if phase not in PHASES:
        raise SchoolError("phase", f"{phase!r} is not a phase EmpowerED+ has: {', '.join(PHASES)}.")
    if la_code is not None and not _LA.match(la_code):
        raise SchoolError("la", f"{la_code!r} is not a local authority code: it is 3 digits.")
    if estab is not None and not _ESTAB.match(estab):
        raise SchoolError("estab", f"{estab!r} is not an establishment number: it is 4 digits.")
    return SchoolDetails(
        urn,
        name.strip(),
        phase,
        la_code,
        estab,
        (trust_name or "").strip() or None,
        found.establishment_type if found is not None else None,
    )


@dataclass(frozen=True)
class AddedSchool:
    school: SchoolDetails
    batch_id: int
    build: BuildResult


def add_school(
    con: duckdb.DuckDBPyConnection,
    school: SchoolDetails,
    *,
    keys: Keys,
    progress: ProgressCallback | None = None,
) -> AddedSchool:
    """Land the school as a ``schools`` row of its own and build what it touches."""
    values: dict[str, str | None] = {
        "school_urn": school.urn,
        "la_code": school.la_code,
        "estab": school.estab,
        "school_name": school.name,
        "phase": school.phase,
        "trust_name": school.trust_name,
        "establishment_type": school.establishment_type,
    }
    now = datetime.now(UTC)
    # Each addition is a batch of its own, even with the same details as an earlier one:
    # the latest batch is the school's current row.
    batch_id = land_app_record(
        con,
        ENTITIES["schools"],
        values,
        source=SOURCE,
        file_name=f"school add {school.urn}",
        seed=f"{SOURCE}|{school.urn}|{now.isoformat()}",
        keys=keys,
    )
    build = build_duckdb(con, touched={ENTITIES["schools"].raw_table}, progress=progress)
    return AddedSchool(school, batch_id, build)


def has_school(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the last build has any school (a new warehouse has none: the first step)."""
    if not table_exists(con, "core", "dim_school"):
        return False
    return con.execute("SELECT 1 FROM core.dim_school LIMIT 1").fetchone() is not None


@dataclass(frozen=True)
class ListedSchool:
    urn: str
    name: str
    phase: str
    dfe_number: str | None
    trust_name: str | None
    pupils: int


def list_schools(con: duckdb.DuckDBPyConnection) -> list[ListedSchool]:
    """The schools of the last build, with the pupils on roll in each (none before one)."""
    if not (table_exists(con, "core", "dim_school") and table_exists(con, "core", "dim_pupil")):
        return []
    rows = con.execute(
        """SELECT s.school_urn, s.school_name, s.phase, s.dfe_number, s.trust_name,
                  count(p.pupil_key) FILTER (WHERE p.is_on_roll)
           FROM core.dim_school AS s
           LEFT JOIN core.dim_pupil AS p USING (school_urn)
           GROUP BY ALL ORDER BY s.school_name, s.school_urn"""
    ).fetchall()
    return [ListedSchool(str(u), str(n), str(ph), d, t, int(c)) for u, n, ph, d, t, c in rows]
