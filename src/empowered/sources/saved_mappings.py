"""A school's saved column mappings: kept in the warehouse file (``app.column_mappings``),
so they travel and are backed up with it, every version kept, and read back through
``load_mapping`` (a safe YAML loader) like any mapping file.

A mapping is a school's own: who may list or use one is the caller's to decide from the
access policy (``policy.import_schools``), which this module takes as ``schools``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from empowered.sources.layouts import settle_records
from empowered.sources.mapping import MappedTableReader, Mapping, MappingError, load_mapping
from empowered.sources.records import ReadResult
from empowered.warehouse.connection import table_exists

log = logging.getLogger(__name__)

# The latest version of each school's mappings (an earlier one is kept, not offered).
_LATEST = """
    SELECT school_urn, name, body FROM app.column_mappings
    QUALIFY row_number() OVER (PARTITION BY school_urn, name ORDER BY saved_at DESC) = 1
"""


@dataclass(frozen=True)
class SavedMapping:
    school_urn: str
    name: str
    description: str
    mapping: Mapping

    @property
    def key(self) -> str:
        """How a form names it: the school and the mapping's name."""
        return f"{self.school_urn}:{self.name}"


def save_mapping(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    document: dict[str, Any],
    *,
    saved_by: int | None,
) -> Mapping:
    """Keep ``document`` (checked by ``load_mapping`` first) as the school's mapping of
    that name; a newer version of a name replaces the older in what is offered."""
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    mapping = load_mapping(body, origin=f"saved mapping {document.get('name')}")
    con.execute(
        "INSERT INTO app.column_mappings VALUES (?, ?, ?, ?, ?)",
        [school_urn, mapping.name, body, datetime.now(), saved_by],
    )
    return mapping


def saved_mappings(
    con: duckdb.DuckDBPyConnection, schools: frozenset[str] | None
) -> list[SavedMapping]:
    """The latest mappings of ``schools`` (None: every school), by school and name."""
    if not table_exists(con, "app", "column_mappings"):
        return []
    rows = con.execute(f"SELECT * FROM ({_LATEST}) ORDER BY school_urn, name").fetchall()
    out = []
    for school, name, body in rows:
        if schools is not None and school not in schools:
            continue
        try:
            mapping = load_mapping(str(body), origin=f"saved mapping {name}")
        except MappingError as err:  # changed outside the app: not offered, not fatal
            log.warning("saved mapping %s of school %s cannot be used: %s", name, school, err)
            continue
        out.append(SavedMapping(str(school), str(name), mapping.description or name, mapping))
    return out


def find_saved(
    con: duckdb.DuckDBPyConnection, key: str, schools: frozenset[str] | None
) -> SavedMapping | None:
    """The mapping a form or command names (``URN:name``), if ``schools`` may use it."""
    return next((m for m in saved_mappings(con, schools) if m.key == key), None)


class SavedMappingReader(MappedTableReader):
    """A file read through a saved mapping, settled as a fitted layout's records are (one
    status per register entry, no record for an undated "No SEN")."""

    def read(self, path: Path) -> ReadResult:
        result = super().read(path)
        records, undated_none = settle_records(self.mapping, list(result.records))
        result.records = records
        result.warnings = [f"read with the saved mapping {self.mapping.name}", *result.warnings]
        if undated_none:
            result.warnings.append(
                f"{undated_none} rows say no SEN (or leave it empty) without a date: no SEN "
                "record was made for them"
            )
        return result
