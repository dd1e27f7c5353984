"""Landing: every source row goes into raw, untouched, with where it came from.

Raw tables are append-only. Each row keeps its values as text exactly as read, plus the
batch id, the file's SHA-256, the file name and the spreadsheet row number (header = row
1), so any figure in the warehouse can be traced back to the cell it came from. Columns
the format does not know are kept as JSON in ``_extra`` and reported. The one exception to
"untouched": identity (names, UPN, MIS id, date of birth) is stored as ciphertext with its
blind indexes (``empowered.sources.protect``); it is encrypted in Python before the row is
written, so the clear value never reaches the warehouse file, its WAL or free blocks.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
from sqlglot import exp

from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES, ENTITIES, Entity
from empowered.sources.errors import SourceError
from empowered.sources.protect import Protection, protect_rows, pseudonym_rows
from empowered.sources.pseudonyms import ensure_pseudonym_table, register_upns
from empowered.sources.records import SourceRecord


@dataclass(frozen=True)
class LandedBatch:
    entity: str
    file_name: str
    batch_id: int | None  # None when the identical file had already been landed
    rows: int
    extra_columns: tuple[str, ...] = ()
    new_pupils: int = 0

    @property
    def already_loaded(self) -> bool:
        return self.batch_id is None


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_pseudonym_table(con)
    # Every import and build calls this: when every table and column is there (one
    # read of the catalog), the hundred-odd statements that would make them are skipped.
    held: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'raw'"
    ).fetchall():
        held.setdefault(table, set()).add(column)
    for entity in (*ENTITIES.values(), *APP_ENTITIES.values()):
        if entity.raw_table in held and set(entity.stored_columns) <= held[entity.raw_table]:
            continue
        columns = ",\n".join(f"{c} VARCHAR" for c in entity.stored_columns)
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {entity.raw_table} (
                _batch_id BIGINT NOT NULL,
                _source_row BIGINT NOT NULL,
                _source_item BIGINT NOT NULL,
                _source_file VARCHAR NOT NULL,
                _file_hash VARCHAR NOT NULL,
                {columns},
                _extra VARCHAR
            )"""
        )
        # A warehouse made by an earlier version gains the columns added since (the
        # identity indexes, a school's type of establishment).
        for c in entity.stored_columns:
            con.execute(f"ALTER TABLE {entity.raw_table} ADD COLUMN IF NOT EXISTS {c} VARCHAR")


def already_landed(con: duckdb.DuckDBPyConnection, file_hash: str) -> bool:
    return (
        con.execute("SELECT 1 FROM meta.batches WHERE file_hash = ?", [file_hash]).fetchone()
        is not None
    )


def _next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open, and registering
    # the landing frame on this connection next would be refused.
    [(batch_id,)] = con.execute("SELECT nextval('meta.batch_seq')").fetchall()
    return int(batch_id)


def _record_batch(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    source: str,
    entity: Entity,
    file_name: str,
    file_hash: str,
    rows: int,
    extras: tuple[str, ...],
) -> None:
    con.execute(
        "INSERT INTO meta.batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            source,
            entity.name,
            file_name,
            file_hash,
            rows,
            ",".join(extras) or None,
            datetime.now(),
        ],
    )


def _protection(keys: Keys | Protection) -> Protection:
    return keys if isinstance(keys, Protection) else _protection_of(keys)


@lru_cache(maxsize=4)
def _protection_of(keys: Keys) -> Protection:
    # One per set of keys, so that what it remembers serves every file of an import.
    return Protection(keys)


def _register_pupils(
    con: duckdb.DuckDBPyConnection, protection: Protection, batch_id: int, upns: dict[str, str]
) -> int:
    digests, pupil_keys, valid = pseudonym_rows(protection, upns)
    return register_upns(con, batch_id, digests, pupil_keys, valid)


def _insert_columns(entity: Entity) -> str:
    return ", ".join(
        ["_batch_id", "_source_row", "_source_item", "_source_file", "_file_hash"]
        + list(entity.stored_columns)
        + ["_extra"]
    )


@dataclass(frozen=True)
class PreparedBatch:
    """One batch's rows read, numbered and protected, ready to write (:func:`write_batch`):
    the Python half of landing, which needs no transaction."""

    file_name: str
    file_hash: str
    source: str
    entity: Entity
    frame: dict[str, npt.NDArray[Any]]
    rows: int
    extras: tuple[str, ...]
    protection: Protection
    upns: dict[str, str]


def prepare_records(
    file_name: str,
    file_hash: str,
    source: str,
    entity: Entity,
    records: Sequence[SourceRecord],
    *,
    keys: Keys | Protection,
) -> PreparedBatch:
    """Check, number and protect what a reader read from one file for one entity: all of
    landing that runs no statement (the web app does it before taking its write lock)."""
    columns = entity.raw_columns
    unknown = sorted({k for r in records for k in r.values} - set(columns))
    if unknown:
        raise SourceError(
            file_name, f"reader produced columns {entity.name} does not have: {', '.join(unknown)}"
        )
    extras = tuple(sorted({k for r in records for k in r.extra}))
    # One source row can hold several records of an entity (a CTF pupil's attendance
    # sessions, a wide register's days): number them within their row.
    items: list[int] = []
    seen: dict[int, int] = {}
    for r in records:
        seen[r.source_row] = seen.get(r.source_row, 0) + 1
        items.append(seen[r.source_row])
    # DuckDB scans a dict of NumPy arrays directly: several times faster than passing
    # Python lists as query parameters, which matters for a year of attendance marks.
    frame: dict[str, npt.NDArray[Any]] = {
        "_source_row": np.fromiter((r.source_row for r in records), np.int64, len(records)),
        "_source_item": np.array(items, dtype=np.int64),
        "_extra": np.array(
            [
                json.dumps(r.extra, ensure_ascii=False, sort_keys=True) if r.extra else None
                for r in records
            ],
            dtype=object,
        ),
    }
    protection = _protection(keys)
    identity = entity.identity_columns
    protected = protect_rows(
        protection, entity, (tuple([r.values.get(c) for c in identity]) for r in records)
    )
    for c in columns:
        if c not in identity:
            frame[c] = np.array([r.values.get(c) for r in records], dtype=object)
    frame.update(protected.columns)
    return PreparedBatch(
        file_name,
        file_hash,
        source,
        entity,
        frame,
        len(records),
        extras,
        protection,
        dict(protected.upns),
    )


def next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    """A new batch id. Drawn outside the transaction that writes the batch, it leaves a gap
    if that transaction never commits: builds track the batches they saw as a set, so a gap
    (or batches committing out of order) loses nothing."""
    return _next_batch_id(con)


class BatchIds:
    """New batch ids, drawn from the sequence ``block`` at a time and handed out one by one.

    Drawing one id on its own is a transaction of its own, committed to the log: measured
    with 40 staff saving captures, it cost a save as much as all of its reads. A block
    costs one such commit per ``block`` saves. Ids still in hand when the process stops
    leave a gap, which builds do not mind (:func:`next_batch_id`); they never repeat, since
    anything else that lands draws from the same sequence, past the block."""

    def __init__(self, block: int = 64) -> None:
        self.block = block
        self._ids: list[int] = []  # the block's ids not yet handed out, largest first
        self._lock = threading.Lock()

    def take(self, con: duckdb.DuckDBPyConnection) -> int:
        with self._lock:
            if not self._ids:
                drawn = con.execute(
                    "SELECT nextval('meta.batch_seq') FROM range(?)", [self.block]
                ).fetchall()
                self._ids = sorted((int(r[0]) for r in drawn), reverse=True)
            return self._ids.pop()


# Up to this many rows, a batch is written as the values of one INSERT: registering its
# frame with DuckDB, scanning it and letting it go cost a one-row capture twice as much
# (1.2 against 2.5 ms, measured), and a capture writes under the lock every save waits for.
SMALL_BATCH = 16


def _insert_frame(con: duckdb.DuckDBPyConnection, batch: PreparedBatch, batch_id: int) -> None:
    stored = ", ".join(batch.entity.stored_columns)
    con.register("landing_records", batch.frame)
    try:
        con.execute(
            f"""INSERT INTO {batch.entity.raw_table} ({_insert_columns(batch.entity)})
                SELECT ?, _source_row, _source_item, ?, ?, {stored}, _extra
                FROM landing_records""",
            [batch_id, batch.file_name, batch.file_hash],
        ).fetchall()  # DuckDB 2.0: finish the result before unregistering the frame
    finally:
        con.unregister("landing_records")


def _insert_values(con: duckdb.DuckDBPyConnection, batch: PreparedBatch, batch_id: int) -> None:
    # The same columns in the same order as ``_insert_columns``; the values are parameters.
    columns = ["_source_row", "_source_item", *batch.entity.stored_columns, "_extra"]
    values = [batch.frame[c].tolist() for c in columns]
    row = "(" + ", ".join(["?"] * (3 + len(columns))) + ")"
    params: list[object] = []
    for i in range(batch.rows):
        params += [batch_id, values[0][i], values[1][i], batch.file_name, batch.file_hash]
        params += [v[i] for v in values[2:]]
    con.execute(
        f"INSERT INTO {batch.entity.raw_table} ({_insert_columns(batch.entity)}) "
        f"VALUES {', '.join([row] * batch.rows)}",
        params,
    )


def record_batch_once(con: duckdb.DuckDBPyConnection, batch: PreparedBatch, batch_id: int) -> bool:
    """Write the batch's ``meta.batches`` row unless one of the same source and file hash
    is there already (written earlier in the caller's transaction included): the check and
    the write are one statement. Whether it was written; then ``write_batch(...,
    recorded=True)`` writes the rest."""
    written = con.execute(
        "INSERT INTO meta.batches SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM meta.batches WHERE source = ? AND file_hash = ?) RETURNING batch_id",
        [
            batch_id,
            batch.source,
            batch.entity.name,
            batch.file_name,
            batch.file_hash,
            batch.rows,
            ",".join(batch.extras) or None,
            datetime.now(),
            batch.source,
            batch.file_hash,
        ],
    ).fetchall()
    return bool(written)


def write_batch(
    con: duckdb.DuckDBPyConnection,
    batch: PreparedBatch,
    batch_id: int | None = None,
    *,
    recorded: bool = False,
) -> LandedBatch:
    """Write a prepared batch (its rows, its ``meta.batches`` row unless ``recorded``
    already by :func:`record_batch_once`, the UPNs it first brings) inside the caller's
    transaction; with ``batch_id`` drawn beforehand, or a new one. The caller has checked
    the file was not landed before."""
    if batch_id is None:
        batch_id = _next_batch_id(con)
    entity = batch.entity
    if 0 < batch.rows <= SMALL_BATCH:
        _insert_values(con, batch, batch_id)
    else:
        _insert_frame(con, batch, batch_id)
    if not recorded:
        _record_batch(
            con,
            batch_id,
            batch.source,
            entity,
            batch.file_name,
            batch.file_hash,
            batch.rows,
            batch.extras,
        )
    new_pupils = _register_pupils(con, batch.protection, batch_id, batch.upns)
    return LandedBatch(entity.name, batch.file_name, batch_id, batch.rows, batch.extras, new_pupils)


def land_app_record(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    values: dict[str, Any],
    *,
    source: str,
    file_name: str,
    seed: str,
    keys: Keys | Protection,
) -> int:
    """Land one record entered in the app (a school set up, a pupil chosen) as a batch of
    its own, in its own transaction, and return the batch id. ``seed`` must differ for each
    call (the time is part of it): the latest batch is the current record, so entering A,
    then B, then A again must land the third, which hashing the values alone would take for
    a repeat."""
    (batch_id,) = land_app_records(
        con, [(entity, [values])], source=source, file_name=file_name, seed=seed, keys=keys
    )
    return batch_id


def land_app_records(
    con: duckdb.DuckDBPyConnection,
    records: Sequence[tuple[Entity, Sequence[dict[str, Any]]]],
    *,
    source: str,
    file_name: str,
    seed: str,
    keys: Keys | Protection,
) -> list[int]:
    """Land what one form saves (a plan and its outcomes, a review and its progress on
    each outcome, a group's session register) in ONE transaction: a batch per entity, all
    or nothing, so a plan is never current without its outcomes. The batch ids, in the
    order of ``records``; ``seed`` as for :func:`land_app_record`."""
    ensure_raw_tables(con)
    prepared = [
        prepare_records(
            file_name,
            hashlib.sha256(f"{seed}|{entity.name}".encode()).hexdigest(),
            source,
            entity,
            [SourceRecord(entity.name, v, row) for row, v in enumerate(rows, start=1)],
            keys=keys,
        )
        for entity, rows in records
        if rows
    ]
    con.execute("BEGIN TRANSACTION")
    try:
        landed = [write_batch(con, batch) for batch in prepared]
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return [b.batch_id for b in landed if b.batch_id is not None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalise_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _identifier(name: str) -> str:
    # Header names come from the school's file: always quoted and escaped, never pasted.
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _string(value: str) -> str:
    return exp.Literal.string(value).sql("duckdb")


def land_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: Entity,
    *,
    source: str,
    keys: Keys | Protection,
) -> LandedBatch:
    """Land one CSV file of a known entity. The caller owns the transaction.

    DuckDB reads the file; its distinct identity values go through Python to be protected,
    and the raw rows are written once, with ciphertext in place of identity."""
    file_hash = file_sha256(path)
    seen = con.execute(
        "SELECT 1 FROM meta.batches WHERE file_hash = ? AND entity = ?", [file_hash, entity.name]
    ).fetchone()
    if seen:
        return LandedBatch(entity.name, path.name, None, 0)

    reader = "read_csv(?, all_varchar = true, header = true, delim = ',', quote = '\"')"
    try:
        described = con.execute(f"SELECT * FROM {reader} LIMIT 0", [str(path)]).description
    except duckdb.Error as err:
        # DuckDB's message names the file by its full path: show its name only.
        message = str(err).replace(str(path), path.name)
        raise SourceError(path.name, f"could not be read as CSV: {message}") from err
    actual = {_normalise_header(d[0]): d[0] for d in described or []}
    missing = [c for c in entity.required if c not in actual]
    if missing:
        raise SourceError(
            path.name, f"required column missing: {', '.join(missing)}", column=missing[0]
        )
    extras = tuple(sorted(set(actual) - set(entity.raw_columns)))

    batch_id = _next_batch_id(con)
    selected = [
        f"{_identifier(actual[c])} AS {c}" if c in actual else f"CAST(NULL AS VARCHAR) AS {c}"
        for c in entity.raw_columns
    ]
    extra_json = (
        "json_object(" + ", ".join(f"{_string(e)}, {_identifier(actual[e])}" for e in extras) + ")"
        if extras
        else "CAST(NULL AS VARCHAR)"
    )
    protection = _protection(keys)
    # Only the identity columns the file has: an absent one is NULL in every row, and NULL
    # is protected as NULL.
    identity = tuple(c for c in entity.identity_columns if c in actual)
    # The file is read twice: once for its distinct identity values (to protect them in
    # Python), once to write the rows. Both reads stream; no clear value is ever stored.
    rows_of_file = (
        f"(SELECT ordinality + 1 AS _source_row, {', '.join(selected)}, {extra_json} AS _extra"
        f" FROM {reader} WITH ORDINALITY)"
    )
    # Only the identity columns are read for this (no row numbers, no extras).
    distinct = (
        con.execute(
            "SELECT DISTINCT "
            + ", ".join(f"{_identifier(actual[c])} AS {c}" for c in identity)
            + f" FROM {reader}",
            [str(path)],
        ).fetchall()
        if identity
        else []
    )
    position = [identity.index(c) if c in identity else None for c in entity.identity_columns]
    protected = protect_rows(
        protection,
        entity,
        ([None if i is None else row[i] for i in position] for row in distinct),
    )
    # Without any identity column in the file, what would be protected is all NULL.
    stored = ", ".join(
        (f"p.{c}" if identity else "CAST(NULL AS VARCHAR)") if c in protected.columns else f"t.{c}"
        for c in entity.stored_columns
    )
    source_rows = f"FROM {rows_of_file} AS t"
    if identity:
        # One row per distinct identity tuple: the clear values (held in memory only, to
        # join on) and what is stored instead.
        frame: dict[str, npt.NDArray[Any]] = {
            f"_clear_{c}": np.array([row[i] for row in distinct], dtype=object)
            for i, c in enumerate(identity)
        }
        frame.update(protected.columns)
        con.register("landing_protected", frame)
        # One column (a UPN): plain equality, as NULL protects to NULL; several: NULLs
        # must match too, or a pupil without an MIS id would lose their name.
        on = (
            f"p._clear_{identity[0]} = t.{identity[0]}"
            if len(identity) == 1
            else " AND ".join(f"p._clear_{c} IS NOT DISTINCT FROM t.{c}" for c in identity)
        )
        source_rows += f" LEFT JOIN landing_protected AS p ON {on}"
    try:
        con.execute(
            f"""INSERT INTO {entity.raw_table} ({_insert_columns(entity)})
                SELECT ?, t._source_row, 1, ?, ?, {stored}, t._extra {source_rows}""",
            [batch_id, path.name, file_hash, str(path)],
        ).fetchall()
    finally:
        if identity:
            con.unregister("landing_protected")
    counted = con.execute(
        f"SELECT count(*) FROM {entity.raw_table} WHERE _batch_id = ?", [batch_id]
    ).fetchone()
    rows = int(counted[0]) if counted else 0
    _record_batch(con, batch_id, source, entity, path.name, file_hash, rows, extras)
    new_pupils = _register_pupils(con, protection, batch_id, protected.upns)
    return LandedBatch(entity.name, path.name, batch_id, rows, extras, new_pupils)
