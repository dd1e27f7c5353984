"""Contributions from visiting professionals on a pupil's page, each with its provenance.

Read from ``core.fct_contribution`` (never raw), each one only if the user may see its area
(``PupilScope.shows_area``: a visitor's chosen areas, a member of staff's role), decrypted
through :mod:`empowered.identity` for those entries only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.access.sections import Section
from empowered.identity import IdentityReader
from empowered.views import PupilScope, queries
from empowered.views.provenance import FORM_WORDS, Provenance, role_words
from empowered.warehouse.connection import table_exists

# The areas in words, for the form's choices and the page.
AREA_WORDS = {
    "wellbeing": "Wellbeing (mood and engagement)",
    "behaviour": "Behaviour",
    "learning": "Learning and assessment",
    "strategies": "Strategies that help",
    "register": "SEN needs and plans",
    "provision": "Provision and interventions",
    "attendance": "Attendance",
    "safeguarding": "Safeguarding",
}


@dataclass(frozen=True)
class Contribution:
    contribution_id: str
    area: str
    title: str
    note: str
    visited_on: date
    file_name: str | None
    file_sha256: str | None
    provenance: Provenance


def pupil_contributions(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    reader: IdentityReader | None,
) -> list[Contribution]:
    """The contributions about this pupil the user may read, newest visit first (none when
    the section is not shown, or without a reader: a scope that may not see identity)."""
    if not scope.shows(Section.PUPIL_CONTRIBUTIONS) or reader is None:
        return []
    if not (table_exists(con, "core", "fct_contribution") and table_exists(con, "app", "users")):
        return []
    found = []
    for r in queries.rows(con, "pupil_contributions", scope=scope, pupil_key=pupil_key):
        if not scope.shows_area(str(r["area"])):
            continue
        via = FORM_WORDS.get(str(r["source"]), "an unknown source")
        found.append(
            Contribution(
                contribution_id=str(r["contribution_id"]),
                area=str(r["area"]),
                title=reader.text(r["title"]) or "",
                note=reader.text(r["note"]) or "",
                visited_on=r["visited_on"],
                file_name=reader.text(r["file_name"]),
                file_sha256=r["file_sha256"],
                provenance=Provenance(
                    who=r["author_username"],
                    role=role_words(r["author_role"]),
                    organisation=r["organisation"],
                    at=r["loaded_at"],
                    via=via,
                ),
            )
        )
    return found


def contribution_of(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    contribution_id: str,
    *,
    scope: PupilScope,
    reader: IdentityReader,
) -> Contribution | None:
    """One contribution about this pupil the user may read (None: not found or not theirs
    to read; the two are not told apart)."""
    for c in pupil_contributions(con, pupil_key, scope=scope, reader=reader):
        if c.contribution_id == contribution_id:
            return c
    return None
