"""Where each thing shown on a page came from: who, in which role and organisation, when,
and through which form or file (issue 13, item 6: "everything shown carries its
provenance").

Every row in the warehouse came in as a batch (``meta.batches``: its source, file or form,
when it landed). A view that wants provenance selects its rows' ``batch_id`` (core facts
carry it) and, where a member of staff recorded the row in the app, its staff reference;
:func:`provenance_for` then reads those batches and accounts once for the whole page, and
the ``_provenance.html`` partial renders one :class:`Provenance` the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from empowered.access.roles import Role
from empowered.views import queries
from empowered.warehouse.connection import table_exists

# The words for each source of batches (``meta.batches.source``); anything else is named
# as "the <source> import".
SOURCE_WORDS = {
    "canonical": "the EmpowerED+ import file",
    "ctf": "the common transfer file",
    "sims": "the SIMS export",
    "arbor": "the Arbor export",
    "bromcom": "the Bromcom export",
    "json": "the data file",
    "observations": "the observation forms export",
    "provision": "the provision tracker",
}
# Forms of the app (each is a source of its own): how people know them.
FORM_WORDS = {
    "capture": "the quick capture form",
    "app-contribution": "the visiting professional’s note form",
    "pupil-match": "the import page (a pupil chosen)",
    "school-setup": "the school set-up page",
}


@dataclass(frozen=True)
class Provenance:
    """Where one thing shown came from."""

    who: str | None  # the account's username (None: unknown or an account since removed)
    role: str | None  # in words
    organisation: str | None
    at: datetime | None  # when it landed in the warehouse
    via: str  # "the quick capture form", "the SIMS export sims-pupils.csv"
    entered: bool = True  # typed into the app (True) or imported from a file (False)

    @property
    def sentence(self) -> str:
        verb = "Entered" if self.entered else "Imported"
        parts = [f"{verb} by {self.who}"] if self.who else [verb]
        if self.who and self.role:
            parts.append(self.role)
        if self.who and self.organisation:
            parts.append(self.organisation)
        text = ", ".join(parts)
        if self.at is not None:
            text += f", on {self.at.day} {self.at:%B %Y} at {self.at:%H:%M}"
        return f"{text}, {'through' if self.entered else 'from'} {self.via}"


def role_words(value: object) -> str | None:
    try:
        return Role(str(value)).label
    except ValueError:
        return None


@dataclass(frozen=True)
class Account:
    username: str
    role: str | None
    organisation: str | None


def accounts(con: duckdb.DuckDBPyConnection, refs: Iterable[str | None]) -> dict[str, Account]:
    """The accounts behind staff references (``app-user-N``), by reference."""
    wanted = sorted({r for r in refs if r and r.startswith("app-user-")})
    if not wanted or not table_exists(con, "app", "users"):
        return {}
    return {
        str(r["ref"]): Account(str(r["username"]), role_words(r["role"]), r["organisation"])
        for r in queries.rows(con, "staff_accounts", refs=wanted)
    }


def via(source: str, file_name: str | None) -> tuple[str, bool]:
    """How a batch came in, in words ("the SIMS export sims.csv"), and whether it was
    entered in the app (a form) rather than imported."""
    if source in FORM_WORDS:
        return FORM_WORDS[source], True
    words = SOURCE_WORDS.get(source, f"the {source} import")
    return (f"{words} {file_name}" if file_name else words), False


def provenance_for(
    con: duckdb.DuckDBPyConnection, rows: Iterable[dict[str, Any]]
) -> dict[int, Provenance]:
    """The provenance of each batch the rows came from, by batch id. A row that a member
    of staff recorded in the app names them in ``staff_ref`` (the batch's own provenance
    then names that account; see :func:`for_row`)."""
    ids = sorted({int(r["batch_id"]) for r in rows if r.get("batch_id") is not None})
    if not ids:
        return {}
    uploaders: dict[int, Any] = {}
    if table_exists(con, "app", "import_batches"):
        uploaders = {
            int(u["batch_id"]): u for u in queries.rows(con, "batch_uploaders", batch_ids=ids)
        }
    found: dict[int, Provenance] = {}
    for b in queries.rows(con, "batch_provenance", batch_ids=ids):
        words, entered = via(str(b["source"]), b["file_name"])
        u = uploaders.get(int(b["batch_id"]), {})
        found[int(b["batch_id"])] = Provenance(
            who=u.get("username"),
            role=role_words(u.get("role")),
            organisation=u.get("organisation"),
            at=b["loaded_at"],
            via=words,
            entered=entered,
        )
    return found


def for_row(
    row: dict[str, Any],
    batches: dict[int, Provenance],
    staff: dict[str, Account],
    *,
    staff_column: str = "staff_id",
) -> Provenance | None:
    """One row's provenance: its batch's, with the account that recorded it in the app
    (the row's staff reference) as the who."""
    batch_id = row.get("batch_id")
    base = batches.get(int(batch_id)) if batch_id is not None else None
    if base is None:
        return None
    account = staff.get(str(row.get(staff_column) or ""))
    if base.entered and account is not None:
        return Provenance(
            account.username, account.role, account.organisation, base.at, base.via, True
        )
    return base


def attach_provenance(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Give each row (with ``batch_id``, and ``staff_id`` where staff recorded it) its
    ``provenance``, reading every batch and account the rows name once."""
    batches = provenance_for(con, rows)
    staff = accounts(con, (r.get("staff_id") for r in rows))
    for r in rows:
        r["provenance"] = for_row(r, batches, staff)
