"""What a backup copies: raw, app and meta, and every sequence, as one consistent snapshot.

``raw`` is the source of truth (every import and everything entered in the app lands
there), ``app`` holds users, sessions, the audit log, notes and the app's own records, and
``meta`` the batches and bookkeeping. staging, core, marts and quarantine are built from
raw, and reference from the seed files shipped in the package, so a backup leaves them out
and a restore builds them again: that a restore's build gives the same marts is the proof
that raw is the source of truth.

All tables are read in one transaction on a cursor of their own, so the copy is a
consistent snapshot (DuckDB's MVCC) while the server goes on writing; sequences are read
after the tables are counted, because nextval is not transactional: read then, each is
past every id the snapshot holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from empowered.backup.manifest import SequenceValue, TableCopy
from empowered.warehouse.connection import table_exists

SCHEMAS = ("raw", "app", "meta")

# Parquet has no 128-bit integers: DuckDB writes them as DOUBLE and loses digits (a
# HUGEINT fingerprint in meta.raw_snapshot). These types travel as text and are cast back.
_AS_TEXT = frozenset({"HUGEINT", "UHUGEINT", "BIGNUM", "VARINT", "BIT", "TIME WITH TIME ZONE"})


def sql(name: str) -> str:
    return resources.files("empowered.backup").joinpath(f"queries/{name}.sql").read_text()


def ident(name: str) -> str:
    """One name (a column's) quoted; names come from the catalog, never from people."""
    return '"' + name.replace('"', '""') + '"'


def quoted(name: str) -> str:
    """``schema.table`` (or ``schema.sequence``) as a quoted, qualified name."""
    return ".".join(ident(part) for part in name.split(".", 1))


def columns(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str]]:
    schema, table = name.split(".", 1)
    rows = con.execute(sql("table_columns"), [schema, table]).fetchall()
    return [(str(column), str(kind)) for column, kind in rows]


def _select_list(con: duckdb.DuckDBPyConnection, name: str) -> str:
    parts = []
    for column, kind in columns(con, name):
        quoted_column = ident(column)
        parts.append(
            f"CAST({quoted_column} AS VARCHAR) AS {quoted_column}"
            if kind in _AS_TEXT
            else quoted_column
        )
    return ", ".join(parts)


@dataclass(frozen=True)
class Snapshot:
    """What one read transaction sees: the tables (with DDL and counts) and sequences."""

    cursor: duckdb.DuckDBPyConnection
    tables: list[TableCopy]
    sequences: list[SequenceValue]
    schema_version: int | None

    def copy_table(self, table: TableCopy, target: Path) -> None:
        """Write ``table`` as it stood when the snapshot began to ``target`` (zstd Parquet)."""
        path = str(target).replace("'", "''")
        self.cursor.execute(
            f"COPY (SELECT {_select_list(self.cursor, table.name)} FROM {quoted(table.name)})"
            f" TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )


@contextmanager
def snapshot(con: duckdb.DuckDBPyConnection) -> Iterator[Snapshot]:
    """One read transaction on a cursor of its own (the caller's connection may be serving
    other requests): what it lists and copies is the warehouse at one moment."""
    with con.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            tables = [
                TableCopy(f"{s}.{t}", _count(cur, f"{s}.{t}"), ddl, f"{s}.{t}.parquet")
                for s, t, ddl in _tables(cur)
            ]
            version = schema_version(cur)
            # After the counts: every id in the snapshot was handed out before this read.
            sequences = [
                SequenceValue(str(n), int(v), int(i), int(lo), int(hi), bool(c))
                for n, v, i, lo, hi, c in cur.execute(sql("sequences")).fetchall()
            ]
            yield Snapshot(cur, tables, sequences, version)
        finally:
            cur.execute("ROLLBACK")  # read only: nothing to commit


def _tables(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    rows = cur.execute(sql("backed_up_tables"), [list(SCHEMAS)]).fetchall()
    return [(str(s), str(t), str(ddl)) for s, t, ddl in rows]


def _count(cur: duckdb.DuckDBPyConnection, name: str) -> int:
    [(rows,)] = cur.execute(f"SELECT count(*) FROM {quoted(name)}").fetchall()
    return int(rows)


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's schema version (``meta.schema_version``), where it records one."""
    if not table_exists(con, "meta", "schema_version"):
        return None
    row = con.execute("SELECT max(version) FROM meta.schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])
