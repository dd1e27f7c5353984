"""Every row held about given pupils, in every layer: the one answer both retention (to
delete them) and subject access (to export them) use, so the two can never disagree.

Tables are found from the catalogue, not listed by hand, so a table added later is covered
as soon as it has a recognisable shape:

- a ``pupil_key`` column (staging, core, marts, the pseudonym map, notes, trigger reviews,
  visitors' pupils, the audit log...);
- a landed row's ids ``(_batch_id, _source_row, _source_item)`` (``raw.canonical_*`` and
  their staging models, captures included: a capture lands as a raw row like any other);
- a quarantine row's ``(entity, batch_id, source_row, source_item)``;
- a few child tables keyed by their parent's id (provision sessions, suspension reasons);
- the data-quality samples in ``meta.check_results`` that quote a pupil's key.

Raw rows are found through the staging models, which carry the pupil key beside the ids of
the raw row they typed, never by UPN or name: those may be ciphertext and the pupil key is
the one identifier every layer shares. Plan outcomes and reviews and provision sessions name
no pupil; they belong to the pupil of their plan or enrolment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb

KEYS = "pupil_data_keys"  # temp table: the pupils asked about
ROWS = "pupil_data_rows"  # temp table: their landed rows (pupil_key, entity, ids)

# Landed entities that name no pupil but belong to one through a parent record:
# (child entity, key column, parent entity).
CHILD_ENTITIES: tuple[tuple[str, str, str], ...] = (
    ("plan_outcomes", "plan_id", "plans"),
    ("plan_reviews", "plan_id", "plans"),
    ("provision_sessions", "enrolment_id", "provision_enrolments"),
)
# Built tables that name no pupil but belong to one through a parent row:
# table -> (key column, parent table).
CHILD_TABLES: dict[str, tuple[str, str]] = {
    "core.fct_provision_session": ("enrolment_id", "core.fct_provision_enrolment"),
    "core.fct_exclusion_reason": ("exclusion_key", "core.fct_exclusion"),
}
# Bookkeeping whose text can quote a pupil key (a failing check's sample rows).
MENTIONS: dict[str, str] = {"meta.check_results": "sample"}

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_LANDED_IDS = ("_batch_id", "_source_row", "_source_item")
_QUARANTINE_IDS = ("entity", "batch_id", "source_row", "source_item")
_ENTITY_OF = (("raw", "canonical_"), ("staging", "stg_canonical_"))

Kind = Literal["pupil_key", "landed", "quarantine", "child", "mention"]


@dataclass(frozen=True)
class PupilTable:
    """One table and how to find the pupils' rows in it (``where`` reads alias ``t``;
    ``owner`` is the pupil key each row belongs to)."""

    name: str  # schema.table
    kind: Kind
    where: str
    owner: str

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]


def _q(name: str) -> str:
    # Names come from the catalogue; refuse anything that is not a plain identifier.
    if not _IDENT.match(name):
        raise ValueError(f"not a plain table or column name: {name!r}")
    return name


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT c.table_schema || '.' || c.table_name, c.column_name "
        "FROM information_schema.columns AS c JOIN information_schema.tables AS t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "AND t.table_catalog = c.table_catalog "
        "WHERE t.table_type = 'BASE TABLE' AND c.table_catalog = current_database() "
        "ORDER BY 1, c.ordinal_position"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(str(table), []).append(str(column))
    return out


def _entity(table: str) -> str | None:
    schema, name = table.split(".")
    for s, prefix in _ENTITY_OF:
        if schema == s and name.startswith(prefix):
            return name[len(prefix) :]
    return None


def _landed_match(entity: str) -> str:
    return (
        f"SELECT d.pupil_key FROM {ROWS} AS d WHERE d.entity = '{_q(entity)}' "
        "AND d._batch_id = t._batch_id AND d._source_row = t._source_row "
        "AND d._source_item = t._source_item"
    )


_QUARANTINE_MATCH = (
    f"SELECT d.pupil_key FROM {ROWS} AS d WHERE d.entity = t.entity "
    "AND d._batch_id = t.batch_id AND d._source_row = t.source_row "
    "AND d._source_item = t.source_item"
)
_IN_KEYS = f"t.pupil_key IN (SELECT pupil_key FROM {KEYS})"


def pupil_tables(con: duckdb.DuckDBPyConnection) -> list[PupilTable]:
    """Every table that can hold a row about a pupil, children before their parents."""
    columns = _columns(con)
    found: list[PupilTable] = []
    for table, cols in columns.items():
        entity = _entity(table)
        if entity is not None and all(c in cols for c in _LANDED_IDS):
            match = _landed_match(entity)
            if "pupil_key" in cols:
                where = f"({_IN_KEYS} OR EXISTS ({match}))"
                owner = f"coalesce((SELECT k.pupil_key FROM {KEYS} AS k WHERE k.pupil_key = t.pupil_key), ({match} LIMIT 1))"  # noqa: E501
            else:
                where, owner = f"EXISTS ({match})", f"({match} LIMIT 1)"
            found.append(PupilTable(table, "landed", where, owner))
        elif all(c in cols for c in _QUARANTINE_IDS):
            found.append(
                PupilTable(
                    table,
                    "quarantine",
                    f"EXISTS ({_QUARANTINE_MATCH})",
                    f"({_QUARANTINE_MATCH} LIMIT 1)",
                )
            )
        elif "pupil_key" in cols:
            found.append(PupilTable(table, "pupil_key", _IN_KEYS, "t.pupil_key"))
    children: list[PupilTable] = []
    for table, (key, parent) in CHILD_TABLES.items():
        if table in columns and parent in columns:
            parents = f"SELECT p.{_q(key)}, p.pupil_key FROM {parent} AS p WHERE p.pupil_key IN (SELECT pupil_key FROM {KEYS})"  # noqa: E501
            children.append(
                PupilTable(
                    table,
                    "child",
                    f"t.{_q(key)} IN (SELECT {_q(key)} FROM ({parents}))",
                    f"(SELECT any_value(x.pupil_key) FROM ({parents}) AS x WHERE x.{_q(key)} = t.{_q(key)})",  # noqa: E501
                )
            )
    for table, column in MENTIONS.items():
        if table in columns:
            match = (
                f"SELECT k.pupil_key FROM {KEYS} AS k WHERE contains(t.{_q(column)}, k.pupil_key)"  # noqa: E501
            )
            children.append(PupilTable(table, "mention", f"EXISTS ({match})", f"({match} LIMIT 1)"))
    return children + found


def prepare(con: duckdb.DuckDBPyConnection, pupil_keys: Sequence[str]) -> None:
    """Fill the temp tables the ``where`` clauses read: the pupils, and every landed row of
    theirs that staging attributes to them (children through their parent's id). Must run
    before anything of theirs is deleted."""
    columns = _columns(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} (pupil_key VARCHAR PRIMARY KEY)")
    con.executemany(f"INSERT INTO {KEYS} VALUES (?)", [[k] for k in sorted(set(pupil_keys))])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ROWS} (pupil_key VARCHAR, entity VARCHAR, "
        "_batch_id BIGINT, _source_row BIGINT, _source_item BIGINT)"
    )
    staged = {
        e: t
        for t, cols in columns.items()
        if t.startswith("staging.")
        and (e := _entity(t)) is not None
        and all(c in cols for c in _LANDED_IDS)
    }
    for entity, table in staged.items():
        if "pupil_key" in columns[table]:
            con.execute(
                f"INSERT INTO {ROWS} SELECT DISTINCT s.pupil_key, ?, s._batch_id, s._source_row, "
                f"s._source_item FROM {table} AS s JOIN {KEYS} AS k ON k.pupil_key = s.pupil_key",
                [entity],
            )
    for child, key, parent in CHILD_ENTITIES:
        if child not in staged or parent not in staged:
            continue
        con.execute(
            f"INSERT INTO {ROWS} SELECT DISTINCT p.pupil_key, ?, c._batch_id, c._source_row, "
            f"c._source_item FROM {staged[child]} AS c JOIN (SELECT DISTINCT {_q(key)}, "
            f"pupil_key FROM {staged[parent]} WHERE pupil_key IN (SELECT pupil_key FROM {KEYS})) "
            f"AS p ON p.{_q(key)} = c.{_q(key)}",
            [child],
        )


def select_rows(table: PupilTable) -> str:
    """The pupils' rows of ``table``, each with the pupil it belongs to (``_pupil_key``)."""
    return f"SELECT {table.owner} AS _pupil_key, t.* FROM {table.name} AS t WHERE {table.where}"


def count_rows(
    con: duckdb.DuckDBPyConnection, tables: Sequence[PupilTable]
) -> dict[str, dict[str, int]]:  # noqa: E501
    """Rows per pupil per table (tables with none left out)."""
    out: dict[str, dict[str, int]] = {}
    for table in tables:
        for key, n in con.execute(
            f"SELECT _pupil_key, count(*) FROM ({select_rows(table)}) GROUP BY 1"
        ).fetchall():
            out.setdefault(str(key), {})[table.name] = int(n)
    return out


def batches_of(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(pupil key, batch id) of every batch that landed a row of the pupils."""
    return [
        (str(k), int(b))
        for k, b in con.execute(
            f"SELECT DISTINCT pupil_key, _batch_id FROM {ROWS} ORDER BY 1, 2"
        ).fetchall()
    ]


def drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {ROWS}")
    con.execute(f"DROP TABLE IF EXISTS {KEYS}")


__all__ = [
    "CHILD_ENTITIES",
    "CHILD_TABLES",
    "MENTIONS",
    "PupilTable",
    "batches_of",
    "count_rows",
    "drop",
    "prepare",
    "pupil_tables",
    "select_rows",
]
