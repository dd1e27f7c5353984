"""Identity-key rotation: a new key, every ciphertext re-encrypted, the old key gone.

``empowered keys rotate`` runs it. The steps are ordered so that a crash at any point
leaves every value readable:

1. a new identity key is written to the key file as the current key, the old one kept as
   retired (both are in force: values under either decrypt);
2. every ciphertext in the warehouse (any text column of any table whose values carry
   the ``enc1:`` prefix: raw, staging, core, and secrets the app keeps) is decrypted and
   encrypted again under the new key, in one transaction;
3. once no value under an old key remains, the retired keys are dropped from the file.

Blind indexes are keyed by the pseudonym key, not the identity key, so they do not change.
The server must be stopped while it runs (it holds the warehouse file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from empowered.crypto import PREFIX, IdentityCipher, key_id
from empowered.keys import (
    KeyProblem,
    decode_identity_key,
    encode_identity_key,
    new_identity_key,
    read_key_file,
    write_key_file,
)

_MARK = PREFIX + ":"


@dataclass(frozen=True)
class Rotated:
    new_key_id: str
    values: int  # distinct ciphertexts re-encrypted
    columns: tuple[str, ...]  # "schema.table.column" of each column that held ciphertext


def ciphertext_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Every text column of every table that holds at least one ciphertext."""
    candidates = con.execute(
        """SELECT c.table_schema, c.table_name, c.column_name
           FROM information_schema.columns AS c
           JOIN information_schema.tables AS t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE t.table_type = 'BASE TABLE' AND c.data_type = 'VARCHAR'
             AND t.table_catalog = current_database()
           ORDER BY 1, 2, 3"""
    ).fetchall()
    found = []
    for schema, table, column in candidates:
        target = f"{_quoted(schema)}.{_quoted(table)}"
        hit = con.execute(
            f"SELECT 1 FROM {target} WHERE starts_with({_quoted(column)}, ?) LIMIT 1", [_MARK]
        ).fetchall()
        if hit:
            found.append((str(schema), str(table), str(column)))
    return found


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reencrypt(con: duckdb.DuckDBPyConnection, cipher: IdentityCipher) -> Rotated:
    """Re-encrypt, under the cipher's current key, every ciphertext written with another
    key still in force. One transaction: all of it, or none."""
    current = f"{_MARK}{cipher.current_key_id}:"
    columns = ciphertext_columns(con)
    total = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for schema, table, column in columns:
            target, col = f"{_quoted(schema)}.{_quoted(table)}", _quoted(column)
            old = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {col} FROM {target} "
                    f"WHERE starts_with({col}, ?) AND NOT starts_with({col}, ?)",
                    [_MARK, current],
                ).fetchall()
            ]
            if not old:
                continue
            new = [cipher.encrypt(cipher.decrypt(v)) for v in old]
            con.register(
                "rotation_map",
                {"old": np.array(old, dtype=object), "new": np.array(new, dtype=object)},
            )
            try:
                con.execute(
                    f"UPDATE {target} SET {col} = m.new FROM rotation_map AS m "
                    f"WHERE {target}.{col} = m.old"
                ).fetchall()
            finally:
                con.unregister("rotation_map")
            total += len(old)
        total += _reseal_reports(con, cipher)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return Rotated(cipher.current_key_id, total, tuple(f"{s}.{t}.{c}" for s, t, c in columns))


_REPORTS = "app.contribution_files"


def _has_reports(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'app' AND table_name = 'contribution_files'"
        ).fetchall()
    )


def _reseal_reports(con: duckdb.DuckDBPyConnection, cipher: IdentityCipher) -> int:
    """Visiting professionals' reports (``contributions``) are sealed whole, as bytes that
    start with the key id: seal again those under another key."""
    if not _has_reports(con):
        return 0
    current = cipher.current_key_id.encode("ascii")
    old = [
        (str(digest), bytes(sealed))
        for digest, sealed in con.execute(f"SELECT file_sha256, sealed FROM {_REPORTS}").fetchall()
        if not bytes(sealed).startswith(current)
    ]
    for digest, sealed in old:
        con.execute(
            f"UPDATE {_REPORTS} SET sealed = ? WHERE file_sha256 = ?",
            [cipher.seal_file(cipher.open_file(sealed)), digest],
        )
    return len(old)


def remaining_under_old_keys(con: duckdb.DuckDBPyConnection, current_key_id: str) -> int:
    current = f"{_MARK}{current_key_id}:"
    left = 0
    for schema, table, column in ciphertext_columns(con):
        target, col = f"{_quoted(schema)}.{_quoted(table)}", _quoted(column)
        row = con.execute(
            f"SELECT count(*) FROM {target} "
            f"WHERE starts_with({col}, ?) AND NOT starts_with({col}, ?)",
            [_MARK, current],
        ).fetchone()
        left += int(row[0]) if row else 0
    if _has_reports(con):
        sealed_under = current_key_id.encode("ascii")
        left += sum(
            not bytes(sealed).startswith(sealed_under)
            for (sealed,) in con.execute(f"SELECT sealed FROM {_REPORTS}").fetchall()
        )
    return left


def rotate_identity_key(con: duckdb.DuckDBPyConnection, key_file: Path) -> Rotated:
    """Rotate the identity key kept in ``key_file`` and re-encrypt the warehouse."""
    contents = read_key_file(key_file)
    old = decode_identity_key(str(contents["identity_key"]))
    retired_field = contents.get("retired_identity_keys") or []
    if not isinstance(retired_field, list):
        raise KeyProblem(f"the key file {key_file.name}: retired_identity_keys is not a list")
    retired = [decode_identity_key(str(k)) for k in retired_field]
    fresh = new_identity_key()
    # 1. Both keys in force before any value changes.
    contents["identity_key"] = encode_identity_key(fresh)
    contents["retired_identity_keys"] = [encode_identity_key(k) for k in (old, *retired)]
    write_key_file(key_file, contents)
    # 2. Every value under the new key.
    rotated = reencrypt(con, IdentityCipher((fresh, old, *retired)))
    left = remaining_under_old_keys(con, key_id(fresh))
    if left:
        raise KeyProblem(
            f"{left} values are still under a retired key; the retired keys were kept in"
            f" {key_file.name}: run the rotation again"
        )
    con.execute("CHECKPOINT")
    # 3. The old keys are no longer needed: drop them.
    contents["retired_identity_keys"] = []
    write_key_file(key_file, contents)
    return rotated
