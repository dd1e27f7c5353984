"""Landing the warehouse's sources in the lake: what Spark builds from.

The app keeps raw rows as the record (every import, capture and plan lands there first);
publishing copies them to the lake as Parquet, a landing at a time: a batch is written
once, in a file with the other batches published with it, and only a batch that changed
afterwards (a retention purge, a key rotation) is written again, with the rest of its
file. Tables not landed by batch (the DfE reference data, the trigger rules, the
landing log) are small and written again whole when their digest changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from empowered.warehouse.changes import BATCH_COLUMN, raw_tables
from empowered.warehouse.lake import Lake, Snapshot, TableEntry

# Tables outside raw and reference that the models read (empowered.warehouse.models).
META_SOURCES = ("meta.batches", "meta.trigger_rules")
# What the build sets out to build (meta.raw_snapshot, as empowered.warehouse.changes keeps
# it for a DuckDB build): written from the batches published, for the landing check.
RAW_SNAPSHOT = "meta.raw_snapshot"
# A table whose batches sit in more files than this is written again as one file.
MAX_FILES = 32


def source_tables(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Every source table the models read, mapped to whether it is landed by batch."""
    tables = raw_tables(con)
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'reference'"
    ).fetchall()
    tables.update({name: False for (name,) in rows})
    tables.update(dict.fromkeys(META_SOURCES, False))
    return tables


def publish(
    con: duckdb.DuckDBPyConnection, lake: Lake, *, tables: Iterable[str] | None = None
) -> Snapshot:
    """Copy the sources that changed since the lake's snapshot (only ``tables``, when
    given: those an import or a capture wrote) and commit them. Returns the snapshot."""
    known = source_tables(con)
    wanted = sorted(known if tables is None else (set(tables) & set(known)) | set(META_SOURCES))
    before = lake.current()
    written: dict[str, TableEntry] = {}
    for table in wanted:
        entry = before.tables.get(table)
        if known[table]:
            new = _publish_batches(con, lake, table, entry)
        else:
            new = _publish_whole(con, lake, table, entry)
        if new is not None:
            written[table] = new

    def change(latest: Snapshot) -> Snapshot:
        tables = {**latest.tables, **written}
        tables[RAW_SNAPSHOT] = _raw_snapshot(con, lake, tables, latest.tables.get(RAW_SNAPSHOT))
        return latest.with_tables(tables)

    if not written and RAW_SNAPSHOT in before.tables:
        return before
    return lake.commit(change)


def behind(con: duckdb.DuckDBPyConnection, lake: Lake) -> bool:
    """Whether the lake's sources differ from the warehouse's in a way ``publish`` would
    write: a batch's rows counted (no digest of every row, as ``publish`` takes), and the
    small tables' digests. Cheap enough to ask every half minute without the write lock."""
    snapshot = lake.current()
    for table, batched in source_tables(con).items():
        entry = snapshot.tables.get(table)
        if entry is None:
            return True
        if not batched:
            if _publish_token(con, table)[2] != entry.token:
                return True
            continue
        counts = con.execute(f"SELECT {BATCH_COLUMN}, count(*) FROM {table} GROUP BY 1").fetchall()
        if {str(b): int(n) for b, n in counts} != {b: int(v[0]) for b, v in entry.batches.items()}:
            return True
    return RAW_SNAPSHOT not in snapshot.tables


def _publish_token(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, str]:
    """A table published whole: its rows, the sum of their hashes and its token."""
    [(rows, digest)] = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} AS t"
    ).fetchall()
    return int(rows), int(digest), f"{rows}:{digest}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    cursor = con.execute(f"SELECT * FROM {table} LIMIT 0")
    return tuple(d[0] for d in cursor.description or [])


def _copy(con: duckdb.DuckDBPyConnection, lake: Lake, table: str, select: str) -> str:
    relative = lake.new_file(table)
    target = lake.path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    location = str(target).replace("'", "''")
    con.execute(f"COPY ({select}) TO '{location}' (FORMAT parquet)")
    return relative


def _publish_whole(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: str, entry: TableEntry | None
) -> TableEntry | None:
    rows, _, token = _publish_token(con, table)
    if entry is not None and entry.token == token:
        return None
    relative = _copy(con, lake, table, f"SELECT * FROM {table}")
    return TableEntry(files=(relative,), columns=_columns(con, table), rows=int(rows), token=token)


def _publish_batches(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: str, entry: TableEntry | None
) -> TableEntry | None:
    now: dict[str, list[Any]] = {
        str(batch): [int(rows), str(digest)]
        for batch, rows, digest in con.execute(
            f"SELECT {BATCH_COLUMN}, count(*), sum(hash(t)::HUGEINT) FROM {table} AS t GROUP BY 1"
        ).fetchall()
    }
    held: Mapping[str, list[Any]] = entry.batches if entry is not None else {}
    unchanged = {b: v for b, v in held.items() if b in now and v[:2] == now[b]}
    if entry is not None and len(unchanged) == len(held) == len(now):
        return None
    # A file holding a batch that changed or went is written again with its other batches.
    stale_files = {v[2] for b, v in held.items() if b not in unchanged}
    keep = {b: v for b, v in unchanged.items() if v[2] not in stale_files}
    rewrite = sorted(set(now) - set(keep), key=int)
    if len({v[2] for v in keep.values()}) + 1 > MAX_FILES:  # compact: one file for all
        keep, rewrite = {}, sorted(now, key=int)
    batches = dict(keep)
    if rewrite or not now:
        ids = ", ".join(rewrite) or "NULL"
        relative = _copy(con, lake, table, f"SELECT * FROM {table} WHERE {BATCH_COLUMN} IN ({ids})")
        batches.update({b: [*now[b], relative] for b in rewrite})
        files = sorted({v[2] for v in batches.values()} | ({relative} if not now else set()))
    else:
        files = sorted({v[2] for v in batches.values()})
    token = hashlib.sha256(json.dumps(sorted(now.items())).encode()).hexdigest()[:32]
    return TableEntry(
        files=tuple(files),
        columns=_columns(con, table),
        rows=sum(v[0] for v in now.values()),
        token=token,
        batches=batches,
    )


def _raw_snapshot(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    tables: Mapping[str, TableEntry],
    entry: TableEntry | None,
) -> TableEntry:
    """meta.raw_snapshot as a DuckDB build keeps it: a row per batched table, and per batch."""
    rows: list[tuple[str, int | None, int]] = []
    for name, table in sorted(tables.items()):
        if name.startswith("raw.") and table.batches:
            rows.append((name, None, 0))
            rows += [(name, int(b), int(v[0])) for b, v in table.batches.items()]
    token = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32]
    if entry is not None and entry.token == token:
        return entry
    names, batches, counts = ([r[i] for r in rows] for i in range(3))
    select = (
        "SELECT unnest(?::VARCHAR[]) AS table_name, unnest(?::BIGINT[]) AS batch_id, "
        "unnest(?::BIGINT[]) AS row_count, NULL::HUGEINT AS fingerprint"
    )
    relative = lake.new_file(RAW_SNAPSHOT)
    target = lake.path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({select}) TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)",
        [names, batches, counts],
    )
    return TableEntry(
        files=(relative,),
        columns=("table_name", "batch_id", "row_count", "fingerprint"),
        rows=len(rows),
        token=token,
    )
