"""Pseudonymous pupil keys.

A pupil key is a keyed hash (HMAC-SHA256) of the normalised UPN. Without the school's
secret nobody can get from a key back to a UPN by hashing candidate UPNs, and the same
pupil gets the same key in every batch and every school of the trust. The UPN-to-key
map lives only in ``raw.pupil_pseudonym``, which only staging reads, and holds the
UPN's blind index, never the UPN.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

PSEUDONYM_TABLE = "raw.pupil_pseudonym"


def normalise_upn(upn: str) -> str:
    return upn.strip().upper()


def pupil_key(upn: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), normalise_upn(upn).encode(), hashlib.sha256).hexdigest()
    # 64 bits is ample for a trust's pupils; the unique check on dim_pupil would catch a clash.
    return "P" + digest[:16]


class UnencryptedWarehouse(RuntimeError):
    """A warehouse made before identity was encrypted: it cannot take new imports."""


def ensure_pseudonym_table(con: duckdb.DuckDBPyConnection) -> None:
    # The UPN itself is not kept: only its blind index (empowered.sources.protect), which
    # staging compares with the blind index landed beside each encrypted UPN.
    old = con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'raw' "
        "AND table_name = 'pupil_pseudonym' AND column_name = 'upn'"
    ).fetchall()
    if old:
        # Encrypting it in place would leave the clear values in the file's free blocks.
        raise UnencryptedWarehouse(
            "this warehouse was made before pupil identity was encrypted: start a new"
            " warehouse and import the school's files again (docs/security.md)"
        )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {PSEUDONYM_TABLE} (
            upn_bidx VARCHAR PRIMARY KEY,
            pupil_key VARCHAR NOT NULL UNIQUE,
            upn_is_valid BOOLEAN NOT NULL,
            first_batch_id BIGINT NOT NULL
        )"""
    )


def register_upns(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    digests: list[str],
    keys: list[str],
    valid: list[bool],
) -> int:
    """Give every UPN first seen in this batch its key and check-letter verdict.

    The caller computed both from the clear UPN before encrypting it (landing); the
    check-letter test lives in Python (empowered.upn) so there is one implementation, and
    staging reads the verdict from here. Returns how many UPNs were new.
    """
    if not digests:
        return 0
    known = {
        r[0]
        for r in con.execute(
            # A semi-join on the list, not list_contains per row (5 times slower).
            f"SELECT upn_bidx FROM {PSEUDONYM_TABLE} "
            "WHERE upn_bidx IN (SELECT unnest(?::VARCHAR[]))",
            [digests],
        ).fetchall()
    }
    new = [i for i, d in enumerate(digests) if d not in known]
    if new:
        con.execute(
            f"""INSERT INTO {PSEUDONYM_TABLE}
                SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BOOLEAN[]), ?""",
            [
                [digests[i] for i in new],
                [keys[i] for i in new],
                [valid[i] for i in new],
                batch_id,
            ],
        )
    return len(new)
