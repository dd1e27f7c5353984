"""What changed since the last build, table by table: the currency of incremental builds.

A build is handed the changes to its sources and passes on the changes it makes, so each
model can rebuild only what its inputs' changes reach:

- raw tables are compared with the snapshot of their batches the last good build saw
  (``meta.raw_snapshot``): new batches, batches that lost rows (a retention purge) and
  batches that are gone;
- a model that rebuilt only some rows reports the values of its tracked columns
  (``pupil_key``, ``school_urn``, dates...) found in the rows it added, removed or altered.

A change the runner cannot describe by keys is ``whole``: everything reading the table
rebuilds in full. The full build stays the reference; tests compare the two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

BATCH_COLUMN = "_batch_id"


@dataclass(frozen=True)
class Change:
    """How one table changed.

    ``keys`` maps a column to every value it held in a row that was added, removed or
    altered (old and new values both). ``appended_only`` says the only change was new rows
    whose keys no older row of any source had (new batches; new pupils' pseudonyms), so a
    lookup that changed this way cannot alter what older rows found in it.
    """

    whole: bool = False
    keys: Mapping[str, frozenset[Any]] = field(default_factory=dict)
    appended_only: bool = False

    def values(self, column: str) -> frozenset[Any] | None:
        """The changed values of ``column``, or None when the change is not known by it."""
        if self.whole:
            return None
        return self.keys.get(column)


WHOLE = Change(whole=True)

_SNAPSHOT_DDL = """CREATE TABLE IF NOT EXISTS meta.raw_snapshot (
    table_name VARCHAR NOT NULL,
    batch_id BIGINT,
    row_count BIGINT NOT NULL,
    fingerprint HUGEINT
)"""


def raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Every raw table, mapped to whether it holds landed batches (has ``_batch_id``)."""
    rows = con.execute(
        """SELECT t.table_name, bool_or(c.column_name = ?)
        FROM duckdb_tables() AS t
        JOIN duckdb_columns() AS c USING (database_name, schema_name, table_name)
        WHERE t.schema_name = 'raw' AND t.database_name = current_database()
        GROUP BY t.table_name""",
        [BATCH_COLUMN],
    ).fetchall()
    return {f"raw.{name}": bool(batched) for name, batched in rows}


def _batch_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, int]:
    # Rows per batch: cheap even on millions of rows (one grouped scan of one column).
    rows = con.execute(f"SELECT {BATCH_COLUMN}, count(*) FROM {table} GROUP BY ALL").fetchall()
    return {int(b): int(n) for b, n in rows}


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    [(count, digest)] = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} AS t"
    ).fetchall()
    return int(count), int(digest)


def current_snapshot(
    con: duckdb.DuckDBPyConnection,
) -> dict[str, dict[int, int] | tuple[int, int]]:
    """Rows per batch of every batched raw table; count and digest of the others."""
    return {
        table: _batch_counts(con, table) if batched else _fingerprint(con, table)
        for table, batched in raw_tables(con).items()
    }


def saved_snapshot(
    con: duckdb.DuckDBPyConnection,
) -> dict[str, dict[int, int] | tuple[int, int]] | None:
    """The snapshot the last good build saved, or None when there is none (build in full)."""
    con.execute(_SNAPSHOT_DDL)
    rows = con.execute(
        "SELECT table_name, batch_id, row_count, fingerprint FROM meta.raw_snapshot"
    ).fetchall()
    if not rows:
        return None
    saved: dict[str, dict[int, int] | tuple[int, int]] = {}
    for table, batch, count, digest in rows:
        if batch is None and digest is not None:
            saved[table] = (int(count), int(digest))
        else:
            counts = saved.setdefault(table, {})
            assert isinstance(counts, dict)
            if batch is not None:
                counts[int(batch)] = int(count)
    return saved


def save_snapshot(
    con: duckdb.DuckDBPyConnection, snapshot: Mapping[str, dict[int, int] | tuple[int, int]]
) -> None:
    con.execute(_SNAPSHOT_DDL)
    con.execute("DELETE FROM meta.raw_snapshot")
    rows: list[tuple[str, int | None, int, int | None]] = []
    for table, state in snapshot.items():
        if isinstance(state, tuple):
            rows.append((table, None, state[0], state[1]))
        else:
            # An empty batched table still gets a row, so "no batches" is remembered.
            rows.append((table, None, 0, None))
            rows += [(table, batch, count, None) for batch, count in state.items()]
    if rows:
        # One statement from four lists: executemany costs a statement per row.
        tables, batches, counts, digests = (list(c) for c in zip(*rows, strict=True))
        con.execute(
            "INSERT INTO meta.raw_snapshot SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
            "unnest(?::BIGINT[]), unnest(?::HUGEINT[])",
            [tables, batches, counts, digests],
        )


def forget_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """After a failed build: the next build cannot trust what this one left, so it is full."""
    con.execute(_SNAPSHOT_DDL)
    con.execute("DELETE FROM meta.raw_snapshot")


def raw_changes(
    before: Mapping[str, dict[int, int] | tuple[int, int]],
    after: Mapping[str, dict[int, int] | tuple[int, int]],
) -> dict[str, Change]:
    """Compare two snapshots: the change to every raw table that changed."""
    changes: dict[str, Change] = {}
    for table, now in after.items():
        then = before.get(table)
        if then is None or isinstance(now, tuple) != isinstance(then, tuple):
            changes[table] = WHOLE
        elif isinstance(now, tuple):
            assert isinstance(then, tuple)
            if now != then:
                # A non-batched raw table (the pupils' pseudonyms) only ever grows on
                # landing; any other change (a purge, a key rotation) is whole.
                changes[table] = Change(appended_only=True) if now[0] > then[0] else WHOLE
        else:
            assert isinstance(then, dict)
            new = {b for b in now if b not in then}
            altered = {b for b in now if b in then and now[b] != then[b]}
            gone = {b for b in then if b not in now}
            if new or altered or gone:
                changes[table] = Change(
                    keys={BATCH_COLUMN: frozenset(new | altered | gone)},
                    appended_only=not (altered or gone),
                )
    for table in before.keys() - after.keys():
        changes[table] = WHOLE
    return changes


def merge(changes: Iterable[Change]) -> Change:
    """One change standing for several (of one table's inputs, say).

    A column is known only when every change knows it: values taken from some changes
    alone would hide the others' (a partial rebuild by it would miss their rows).
    """
    merged: dict[str, set[Any]] | None = None
    appended = True
    for change in changes:
        if change.whole:
            return WHOLE
        appended = appended and change.appended_only
        if merged is None:
            merged = {column: set(values) for column, values in change.keys.items()}
            continue
        for column in list(merged):
            if column in change.keys:
                merged[column].update(change.keys[column])
            else:
                del merged[column]
    return Change(keys={c: frozenset(v) for c, v in (merged or {}).items()}, appended_only=appended)


_VERSIONS_DDL = """CREATE TABLE IF NOT EXISTS meta.model_versions (
    model VARCHAR NOT NULL,
    sql_hash VARCHAR NOT NULL
)"""


def _sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def edited_models(con: duckdb.DuckDBPyConnection, sqls: Mapping[str, str]) -> set[str]:
    """Models whose SQL differs from what the last good build ran (an upgrade, an edited
    rule): their tables were made by other SQL, so they are rebuilt in full."""
    con.execute(_VERSIONS_DDL)
    saved = dict(con.execute("SELECT model, sql_hash FROM meta.model_versions").fetchall())
    return {name for name, sql in sqls.items() if saved.get(name) != _sql_hash(sql)}


def save_versions(con: duckdb.DuckDBPyConnection, sqls: Mapping[str, str]) -> None:
    con.execute(_VERSIONS_DDL)
    con.execute("DELETE FROM meta.model_versions")
    names = sorted(sqls)
    con.execute(
        "INSERT INTO meta.model_versions SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
        [names, [_sql_hash(sqls[name]) for name in names]],
    )
