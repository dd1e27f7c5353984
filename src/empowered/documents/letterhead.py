"""What a school's documents carry at their head: its name, its logo if set, and who
parents should contact. ``app.school_letterheads`` is written here only (the command line
``empowered school letterhead``); the name comes from the warehouse (``core.dim_school``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from empowered.warehouse.connection import table_exists

LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
LOGO_MAX_BYTES = 512 * 1024  # a letterhead logo, not a photograph


class LetterheadRefused(ValueError):
    """A logo that is not a small PNG, JPEG or SVG, or an unknown school."""


@dataclass(frozen=True)
class Letterhead:
    school_urn: str | None  # None: the trust
    school_name: str
    contact: str | None
    logo_data_uri: str | None  # inline: documents fetch nothing (documents.pdf)


def school_name(con: duckdb.DuckDBPyConnection, school_urn: str) -> str | None:
    if not table_exists(con, "core", "dim_school"):
        return None
    row = con.execute(
        "SELECT school_name FROM core.dim_school WHERE school_urn = ?", [school_urn]
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def trust_name(con: duckdb.DuckDBPyConnection) -> str:
    if table_exists(con, "core", "dim_school"):
        row = con.execute(
            "SELECT max(trust_name) FROM core.dim_school WHERE trust_name IS NOT NULL"
        ).fetchone()
        if row and row[0]:
            return str(row[0])
    return "The trust"


def letterhead(con: duckdb.DuckDBPyConnection, school_urn: str | None) -> Letterhead:
    """The school's letterhead (the trust's for ``None``)."""
    if school_urn is None:
        return Letterhead(None, trust_name(con), None, None)
    name = school_name(con, school_urn) or f"The school with URN {school_urn}"
    contact = logo = None
    if table_exists(con, "app", "school_letterheads"):
        row = con.execute(
            "SELECT contact, logo, logo_type FROM app.school_letterheads WHERE school_urn = ?",
            [school_urn],
        ).fetchone()
        if row:
            contact = row[0]
            if row[1] is not None and row[2]:
                logo = f"data:{row[2]};base64,{base64.b64encode(bytes(row[1])).decode()}"
    return Letterhead(school_urn, name, contact, logo)


def set_letterhead(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    *,
    contact: str | None = None,
    logo: Path | None = None,
) -> Letterhead:
    """Set the contact line and/or the logo (what is not given is kept)."""
    if school_name(con, school_urn) is None:
        raise LetterheadRefused(f"no school with URN {school_urn} is in the warehouse")
    logo_bytes = logo_type = None
    if logo is not None:
        logo_type = LOGO_TYPES.get(logo.suffix.lower())
        if logo_type is None:
            raise LetterheadRefused(f"{logo.name}: a logo must be a .png, .jpg or .svg file")
        logo_bytes = logo.read_bytes()
        if len(logo_bytes) > LOGO_MAX_BYTES:
            raise LetterheadRefused(
                f"{logo.name}: {len(logo_bytes) // 1024} KB; a logo must be under "
                f"{LOGO_MAX_BYTES // 1024} KB"
            )
    con.execute(
        """INSERT INTO app.school_letterheads AS l
           (school_urn, contact, logo, logo_type, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (school_urn) DO UPDATE SET
             contact = coalesce(excluded.contact, l.contact),
             logo = coalesce(excluded.logo, l.logo),
             logo_type = coalesce(excluded.logo_type, l.logo_type),
             updated_at = excluded.updated_at""",
        [school_urn, contact, logo_bytes, logo_type, datetime.now(UTC).replace(tzinfo=None)],
    )
    return letterhead(con, school_urn)
