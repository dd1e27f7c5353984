"""The audit log is a hash chain: tampering with a copy (update, delete, insert, a cut-off
end) is named by ``verify`` and ``empowered audit verify``; concurrent writers and the
retention policy's removals keep it verifiable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.access.audit import (
    GENESIS,
    Captured,
    ViewedPage,
    ViewedPupil,
    delete_entries_before,
    entry_hash,
    record,
    transaction,
    verify,
)
from empowered.access.store import ensure_access_tables
from empowered.cli import app

NOW = datetime.now(UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "w.duckdb"


@pytest.fixture
def con(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    for i in range(1, 7):
        record(con, ViewedPupil(pupil_key=f"pk{i}", page="home"), user=None, at=NOW)
    yield con
    con.close()


def _ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        int(r[0]) for r in con.execute("SELECT event_id FROM app.audit_log ORDER BY 1").fetchall()
    ]


def _cli(path: Path, *extra: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["audit", "verify", "--warehouse", str(path), *extra])
    return done.exit_code, done.output


def test_a_fresh_log_verifies(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    result = verify(con)
    assert result.ok and result.entries == 6 and result.head_id == _ids(con)[-1]
    # Each entry carries the previous one's hash; the first the genesis hash.
    rows = con.execute(
        "SELECT prev_hash, entry_hash FROM app.audit_log ORDER BY event_id"
    ).fetchall()
    assert rows[0][0] == GENESIS
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))
    con.close()
    code, out = _cli(path)
    assert code == 0, out
    assert "intact" in out and "6 entries checked" in out


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "e.duckdb"))
    ensure_access_tables(con)
    assert verify(con).ok and verify(con).entries == 0


def test_an_updated_entry_is_named(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    third = _ids(con)[2]
    con.execute("UPDATE app.audit_log SET pupil_key = 'someone-else' WHERE event_id = ?", [third])
    result = verify(con)
    assert result.broken is not None and result.broken.event_id == third
    assert "changed" in result.broken.problem
    con.close()
    code, out = _cli(path)
    assert code == 1 and f"entry {third} (" in out and "changed" in out


def test_an_updated_time_is_named(con: duckdb.DuckDBPyConnection) -> None:
    second = _ids(con)[1]
    con.execute(
        'UPDATE app.audit_log SET "at" = "at" - INTERVAL 3 DAY WHERE event_id = ?', [second]
    )
    broken = verify(con).broken
    assert broken is not None and broken.event_id == second


def test_a_rehashed_update_is_named_at_the_next_entry(con: duckdb.DuckDBPyConnection) -> None:
    """An editor who recomputes the changed entry's hash breaks the link to the next one."""
    ids = _ids(con)
    cur = con.execute("SELECT * FROM app.audit_log WHERE event_id = ?", [ids[2]])
    entry = dict(zip([d[0] for d in cur.description], cur.fetchone() or (), strict=True))
    entry["pupil_key"] = "someone-else"
    con.execute(
        "UPDATE app.audit_log SET pupil_key = ?, entry_hash = ? WHERE event_id = ?",
        ["someone-else", entry_hash(entry, entry["prev_hash"]), ids[2]],
    )
    broken = verify(con).broken
    assert broken is not None and broken.event_id == ids[3]
    assert "does not follow" in broken.problem


def test_a_deleted_entry_is_named_by_the_one_after(
    con: duckdb.DuckDBPyConnection, path: Path
) -> None:
    ids = _ids(con)
    con.execute("DELETE FROM app.audit_log WHERE event_id = ?", [ids[2]])
    broken = verify(con).broken
    assert broken is not None and broken.event_id == ids[3]
    con.close()
    code, out = _cli(path)
    assert code == 1 and f"entry {ids[3]} (" in out and "deleted" in out


def test_the_first_entry_deleted_is_named(con: duckdb.DuckDBPyConnection) -> None:
    ids = _ids(con)
    con.execute("DELETE FROM app.audit_log WHERE event_id = ?", [ids[0]])
    broken = verify(con).broken
    assert broken is not None and broken.event_id == ids[1]


def test_an_entry_inserted_in_the_middle_with_good_hashes_is_named(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """An entry forged to fit after entry 2 (right prev-hash, right own hash) leaves entry 3
    pointing at entry 2, so entry 3 is named; a plain insert is named itself."""
    ids = _ids(con)
    # Make room between the second and third entries.
    con.execute("UPDATE app.audit_log SET event_id = event_id * 10")
    ids = [i * 10 for i in ids]
    [(prev,)] = con.execute(
        "SELECT entry_hash FROM app.audit_log WHERE event_id = ?", [ids[1]]
    ).fetchall()
    # The ids changed, so every hash from the first on no longer matches: re-hash them
    # all as a careful forger would, then insert.
    chain_prev = GENESIS
    cur = con.execute("SELECT * FROM app.audit_log ORDER BY event_id")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for row in rows:
        h = entry_hash(row, chain_prev)
        con.execute(
            "UPDATE app.audit_log SET prev_hash = ?, entry_hash = ? WHERE event_id = ?",
            [chain_prev, h, row["event_id"]],
        )
        row["entry_hash"] = h
        chain_prev = h
    con.execute("UPDATE app.audit_head SET event_id = ?, entry_hash = ?", [ids[-1], chain_prev])
    assert verify(con).ok  # a log renumbered and re-hashed whole: see the --expect test
    prev = rows[1]["entry_hash"]
    forged = {
        "event_id": ids[1] + 5,
        "at": NOW.replace(tzinfo=None),
        "user_id": None,
        "username": None,
        "role": None,
        "event": "viewed_page",
        "pupil_key": None,
        "page": "/forged",
        "detail": None,
        "ip": None,
    }
    con.execute(
        'INSERT INTO app.audit_log (event_id, "at", event, page, prev_hash, entry_hash) '
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            forged["event_id"],
            forged["at"],
            "viewed_page",
            "/forged",
            prev,
            entry_hash(forged, prev),
        ],
    )
    broken = verify(con).broken
    assert broken is not None and broken.event_id == ids[2]
    # Inserted with no hash at all: named itself.
    con.execute("DELETE FROM app.audit_log WHERE event_id = ?", [forged["event_id"]])
    con.execute(
        'INSERT INTO app.audit_log (event_id, "at", event, page) VALUES (?, ?, ?, ?)',
        [ids[3] + 5, NOW.replace(tzinfo=None), "viewed_page", "/plain"],
    )
    broken = verify(con).broken
    assert broken is not None and broken.event_id == ids[3] + 5
    assert "no hash" in broken.problem


def test_a_cut_off_end_is_detected(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    ids = _ids(con)
    con.execute("DELETE FROM app.audit_log WHERE event_id >= ?", [ids[-2]])
    result = verify(con)
    assert result.broken is not None and result.broken.event_id is None
    assert f"number {ids[-1]}" in result.broken.problem
    con.close()
    code, out = _cli(path)
    assert code == 1 and "end of the log" in out


def test_a_log_rewritten_whole_is_caught_by_a_noted_head(
    con: duckdb.DuckDBPyConnection, path: Path
) -> None:
    """Without a key, someone who can write the file can rebuild the whole chain and the
    head; a head hash noted outside the warehouse still catches it."""
    noted = verify(con).head_hash
    assert noted
    cur = con.execute("SELECT * FROM app.audit_log ORDER BY event_id")
    names = [d[0] for d in cur.description]
    prev = GENESIS
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        if row["pupil_key"] == "pk3":
            row["pupil_key"] = "someone-else"
        h = entry_hash(row, prev)
        con.execute(
            "UPDATE app.audit_log SET pupil_key = ?, prev_hash = ?, entry_hash = ? "
            "WHERE event_id = ?",
            [row["pupil_key"], prev, h, row["event_id"]],
        )
        prev = h
    con.execute("UPDATE app.audit_head SET entry_hash = ?", [prev])
    assert verify(con).ok
    assert not verify(con, expect_hash=noted).ok
    con.close()
    code, out = _cli(path, "--expect", noted)
    assert code == 1 and "--expect" in out


def test_a_noted_head_stays_in_a_growing_chain(con: duckdb.DuckDBPyConnection) -> None:
    noted = verify(con).head_hash
    record(con, ViewedPage(page="/later"), user=None)
    assert verify(con, expect_hash=noted).ok


def test_concurrent_writers_keep_one_line(path: Path) -> None:
    """Writers on their own cursors (as the server's requests are), under different
    warehouse locks, never fork the chain."""
    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        cursor = con.cursor()
        try:
            for i in range(25):
                record(cursor, ViewedPage(page=f"/t{n}/{i}"), user=None)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            cursor.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify(con)
    assert result.ok and result.entries == 100
    con.close()


def test_an_entry_in_a_transaction_goes_with_it(con: duckdb.DuckDBPyConnection) -> None:
    before = verify(con).entries
    with pytest.raises(RuntimeError), transaction(con):
        record(con, Captured(pupil_key="pk1", entity="observation"), user=None)
        raise RuntimeError("the capture failed")
    assert verify(con).entries == before
    with transaction(con):
        record(con, Captured(pupil_key="pk1", entity="observation"), user=None)
    result = verify(con)
    assert result.ok and result.entries == before + 1


def test_several_entries_in_one_transaction_chain_and_move_the_head_once(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Captures saved together share a transaction: their entries chain one after another
    and the head is written once, at the end (rolled back with them when they fail)."""
    head = con.execute("SELECT event_id, entry_hash FROM app.audit_head").fetchall()
    with pytest.raises(RuntimeError), transaction(con):
        for i in range(3):
            record(con, Captured(pupil_key=f"pk{i}", entity="observations"), user=None)
        raise RuntimeError("one of the captures failed")
    assert con.execute("SELECT event_id, entry_hash FROM app.audit_head").fetchall() == head
    before = verify(con).entries
    with transaction(con):
        for i in range(3):
            record(con, Captured(pupil_key=f"pk{i}", entity="observations"), user=None)
    result = verify(con)
    assert result.ok and result.entries == before + 3
    assert result.head_id == max(_ids(con))
    record(con, ViewedPage(page="/after"), user=None)  # and the chain goes on from there
    assert verify(con).ok


def test_an_entry_inside_another_transaction_commits_on_its_own(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """An import's transaction records a refusal, then rolls back: the entry stays. An entry
    committed by another request after that transaction began is not forked from."""
    before = verify(con).entries
    other = con.cursor()
    con.execute("BEGIN TRANSACTION")
    record(other, ViewedPage(page="/meanwhile"), user=None)  # after BEGIN, before the record
    record(con, ViewedPage(page="/refused"), user=None)
    con.execute("ROLLBACK")
    other.close()
    result = verify(con)
    assert result.ok and result.entries == before + 2
    pages = [
        r[0] for r in con.execute("SELECT page FROM app.audit_log ORDER BY event_id").fetchall()
    ]
    assert pages[-2:] == ["/meanwhile", "/refused"]


def test_retention_removals_keep_the_chain_verifiable(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    ensure_access_tables(con)
    # Out of order on purpose: old entries between young ones leave holes, not a prefix.
    for days in (3000, 2000, 10, 2500, 5, 1):
        record(con, ViewedPage(page=f"/aged-{days}"), user=None, at=NOW - timedelta(days=days))
    assert delete_entries_before(con, NOW - timedelta(days=400)) == 3
    result = verify(con)
    assert result.ok, result.broken
    assert result.entries == 3 and result.gaps == 2
    # Entries added after the removal still chain on.
    record(con, ViewedPage(page="/new"), user=None)
    assert verify(con).ok
    # A removal not made by the retention policy is still caught.
    [(young,)] = con.execute("SELECT event_id FROM app.audit_log WHERE page = '/aged-5'").fetchall()
    con.execute("DELETE FROM app.audit_log WHERE event_id = ?", [young])
    assert not verify(con).ok
    con.close()


def test_retention_removing_the_newest_entries_still_verifies(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    ensure_access_tables(con)
    for days in (10, 3000):
        record(con, ViewedPage(page=f"/aged-{days}"), user=None, at=NOW - timedelta(days=days))
    assert delete_entries_before(con, NOW - timedelta(days=400)) == 1
    assert verify(con).ok
    con.close()


def test_entries_from_before_the_chain_are_counted_not_checked(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    ensure_access_tables(con)
    # As a warehouse made before the chain had them: no hashes, no head.
    for _ in range(3):
        con.execute(
            'INSERT INTO app.audit_log ("at", event, page) VALUES (?, ?, ?)',
            [NOW.replace(tzinfo=None), "viewed_page", "/old"],
        )
    result = verify(con)
    assert result.ok and result.unchained == 3 and result.entries == 0
    record(con, ViewedPage(page="/new"), user=None)
    result = verify(con)
    assert result.ok and result.unchained == 3 and result.entries == 1
    # Stripping the hashes off chained entries does not pass them off as old ones.
    record(con, ViewedPage(page="/newer"), user=None)
    con.execute("UPDATE app.audit_log SET entry_hash = NULL, prev_hash = NULL WHERE page = '/new'")
    broken = verify(con).broken
    assert broken is not None and "does not follow" in broken.problem
    con.close()


def test_verify_passes_on_a_freshly_built_warehouse_and_names_an_edit(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    [(path,)] = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()
    for i in range(3):
        record(con, ViewedPupil(pupil_key=f"pk{i}", page="home"), user=None)
    con.close()
    code, out = _cli(Path(path))
    assert code == 0, out
    edit = duckdb.connect(path)
    [(second,)] = edit.execute(
        "SELECT event_id FROM app.audit_log ORDER BY event_id LIMIT 1 OFFSET 1"
    ).fetchall()
    edit.execute("UPDATE app.audit_log SET username = 'someone else' WHERE event_id = ?", [second])
    edit.close()
    code, out = _cli(Path(path))
    assert code == 1 and f"entry {second} (" in out
