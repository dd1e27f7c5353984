"""Pseudonymous pupil keys.

A pupil key is a keyed hash (HMAC-SHA256) of the normalised UPN. Without the school's
secret nobody can get from a key back to a UPN by hashing candidate UPNs, and the same
pupil gets the same key in every batch and every school of the trust. The UPN-to-key
map lives only in ``raw.pupil_pseudonym``, which only staging reads.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

from empowered.upn import is_valid_upn

PSEUDONYM_TABLE = "raw.pupil_pseudonym"


def normalise_upn(upn: str) -> str:
    return upn.strip().upper()


def pupil_key(upn: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), normalise_upn(upn).encode(), hashlib.sha256).hexdigest()
    # 64 bits is ample for a trust's pupils; the unique check on dim_pupil would catch a clash.
    return "P" + digest[:16]


def ensure_pseudonym_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {PSEUDONYM_TABLE} (
            upn VARCHAR PRIMARY KEY,
            pupil_key VARCHAR NOT NULL UNIQUE,
            upn_is_valid BOOLEAN NOT NULL,
            first_batch_id BIGINT NOT NULL
        )"""
    )


def register_upns(
    con: duckdb.DuckDBPyConnection, raw_table: str, batch_id: int, secret: str
) -> int:
    """Give every UPN first seen in this batch its key and check letter verdict.

    The check-letter test lives in Python (empowered.upn) so there is one implementation;
    staging reads the verdict from here. Returns how many UPNs were new.
    """
    rows = con.execute(
        f"""SELECT DISTINCT upper(trim(upn)) FROM {raw_table}
            WHERE _batch_id = ? AND upn IS NOT NULL AND trim(upn) <> ''
              AND upper(trim(upn)) NOT IN (SELECT upn FROM {PSEUDONYM_TABLE})""",
        [batch_id],
    ).fetchall()
    upns = sorted(r[0] for r in rows)
    if upns:
        con.execute(
            f"""INSERT INTO {PSEUDONYM_TABLE}
                SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BOOLEAN[]), ?""",
            [upns, [pupil_key(u, secret) for u in upns], [is_valid_upn(u) for u in upns], batch_id],
        )
    return len(upns)
