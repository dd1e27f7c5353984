"""A capture form posted twice lands once: the retried-form check is the batch row's own
insert (``capture.land_once``), so it must see a batch written earlier in the same
transaction (the web app writes saves arriving together in one) as well as a committed one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from empowered.sources import capture as cap
from empowered.sources.landing import ensure_raw_tables
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS

UPN = "A123456789012"
NOW = datetime(2026, 3, 4, 10, 30)


def _prepared(key: str | None) -> cap.PreparedCapture:
    checked = cap.check_form(
        cap.KINDS["check_in"], {"mood": "3", "engagement": "3"}, strategies=(), now=NOW
    )
    assert checked.ok, checked.errors
    return cap.prepare_capture(
        cap.KINDS["check_in"],
        checked,
        school_urn="100001",
        upn=UPN,
        staff="app-user-7",
        keys=TEST_KEYS,
        now=NOW,
        key=key,
    )


def test_the_same_form_lands_once_in_one_transaction_and_after_it(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    ensure_raw_tables(con)
    key, other = cap.new_key(), cap.new_key()
    con.execute("BEGIN TRANSACTION")
    first = cap.land_once(con, _prepared(key), 1)
    again = cap.land_once(con, _prepared(key), 2)  # a double tap, queued with the first
    con.execute("COMMIT")
    later = cap.land_once(con, _prepared(key), 3)  # a phone resending after a lost answer
    fresh = cap.land_once(con, _prepared(other), 4)
    unkeyed = [cap.land_once(con, _prepared(None), n) for n in (5, 6)]
    assert first is not None and again is None and later is None and fresh is not None
    assert all(saved is not None for saved in unkeyed), "without a key, every post is new"
    batches = con.execute(
        "SELECT batch_id FROM meta.batches WHERE source = 'capture' ORDER BY 1"
    ).fetchall()
    rows = con.execute("SELECT _batch_id FROM raw.canonical_observations ORDER BY 1").fetchall()
    assert batches == rows == [(1,), (4,), (5,), (6,)]
