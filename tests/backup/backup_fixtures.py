"""A copy of the built small trust with a few of the app's own rows, and its backup keys.

Synthetic pupils only; the keys are the fixed test keys (identity_keys.py) and a fixed
backup key that protects nothing real."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import duckdb

from empowered.access.audit import ViewedPupil, record
from empowered.access.roles import Role
from empowered.access.users import add_user
from empowered.views.pupil_note import save_note

BACKUP_KEY = bytes(range(32, 64))
PASSWORD = "correct horse battery staple"
# What a build of raw writes into meta: a restore's build adds its own runs and checks.
BUILD_BOOKKEEPING = {"meta.model_runs", "meta.check_results"}


def warehouse_with_app_rows(built_warehouse: Path, folder: Path) -> Path:
    """A copy of ``built_warehouse`` with a user, an audit entry and a note added."""
    path = folder / "school.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    try:
        user = add_user(con, "backup.senco", PASSWORD, Role.TRUST_ADMIN)
        [(pupil,)] = con.execute("SELECT min(pupil_key) FROM core.dim_pupil").fetchall()
        record(con, ViewedPupil(pupil_key=pupil, page="/pupils/x"), user=user)
        save_note(con, pupil, "Settles best with a quiet start.", user_id=user.user_id)
    finally:
        con.close()
    return path


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE list_contains(?, schema_name) ORDER BY 1",
        [list(schemas)],
    ).fetchall()
    return [name for (name,) in rows]


def fingerprint(
    con: duckdb.DuckDBPyConnection, table: str, *, rounded: bool = False
) -> tuple[int, int]:
    """``table``'s row count and an order-free digest of its rows (a sum of row hashes).
    ``rounded``: doubles to 9 decimal places, since sums of doubles differ in their last
    bits with the order DuckDB adds them in (and -0.0 becomes 0.0)."""
    schema, name = table.split(".")
    cols = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    parts = [
        f'round("{c}", 9) + 0.0' if rounded and kind in ("DOUBLE", "FLOAT") else f'"{c}"'
        for c, kind in cols
    ]
    row = f"hash({', '.join(parts)})::HUGEINT" if len(parts) > 1 else f"hash({parts[0]})::HUGEINT"
    [(count, digest)] = con.execute(
        f"SELECT count(*), coalesce(sum({row}), 0) FROM {table}"
    ).fetchall()
    return int(count), int(digest)


def contents(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
