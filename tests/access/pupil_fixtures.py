"""A pupil with something in every layer, for the retention purge and subject access tests.

On a copy of the built small trust, one pupil who has observations, assessments, a plan and
provision gets, besides what the trust already holds about them: a capture (a raw row of
source ``capture``), a quarantined row, a note, a trigger review, a visitor's assignment,
an audit entry and stored copies of an imported file. Everything is found through the
pupil key and the ids of landed rows, never by UPN or name (those may be ciphertext).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from empowered.access.audit import ViewedPupil, record
from empowered.access.store import ensure_access_tables
from empowered.warehouse.build import build_duckdb


@dataclass(frozen=True)
class Planted:
    pupil: str  # the pupil everything is planted for
    other: str  # a pupil on roll elsewhere in the school, with a note of their own
    school: str
    raw_rows: dict[str, set[tuple[int, int, int]]]  # entity -> landed row ids, before
    identifiers: tuple[str, ...]  # identity values (clear or ciphertext) only they have
    file_copies: tuple[Path, ...]  # stored copies of a file that held a row of theirs
    unrelated_file: Path
    folders: tuple[Path, ...]


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table in the warehouse, from the catalogue."""
    return [
        str(t)
        for (t,) in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_catalog = current_database() "
            "AND table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1"
        ).fetchall()
    ]


def mentions(con: duckdb.DuckDBPyConnection, values: tuple[str, ...]) -> dict[str, int]:
    """Rows per table in which any column's text holds any of ``values`` (every column of
    every table: a row cast whole to text)."""
    found: dict[str, int] = {}
    condition = " OR ".join("contains(s, ?)" for _ in values)
    for table in tables(con):
        [(n,)] = con.execute(
            f"SELECT count(*) FROM (SELECT CAST(t AS VARCHAR) AS s FROM {table} AS t) "
            f"WHERE {condition}",
            list(values),
        ).fetchall()
        if n:
            found[table] = int(n)
    return found


def landed_rows(con: duckdb.DuckDBPyConnection, pupil: str) -> dict[str, set[tuple[int, int, int]]]:
    """The pupil's landed rows per entity, read from staging (which carries the pupil key
    beside the raw row's ids), with plan outcomes, reviews and provision sessions through
    their plan or enrolment."""
    out: dict[str, set[tuple[int, int, int]]] = {}
    staged = [
        str(t)
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'staging' "
            "AND column_name = 'pupil_key' AND table_name IN (SELECT table_name FROM "
            "information_schema.columns WHERE table_schema = 'staging' AND column_name = "
            "'_source_item')"
        ).fetchall()
    ]
    for table in staged:
        rows = con.execute(
            f"SELECT _batch_id, _source_row, _source_item FROM staging.{table} WHERE pupil_key = ?",
            [pupil],
        ).fetchall()
        if rows:
            out[table.removeprefix("stg_canonical_")] = {tuple(r) for r in rows}  # type: ignore[misc]
    for child, key, parent in (
        ("plan_outcomes", "plan_id", "plans"),
        ("plan_reviews", "plan_id", "plans"),
        ("provision_sessions", "enrolment_id", "provision_enrolments"),
    ):
        rows = con.execute(
            f"SELECT _batch_id, _source_row, _source_item FROM staging.stg_canonical_{child} "
            f"WHERE {key} IN (SELECT {key} FROM staging.stg_canonical_{parent} "
            "WHERE pupil_key = ?)",
            [pupil],
        ).fetchall()
        if rows:
            out[child] = {tuple(r) for r in rows}  # type: ignore[misc]
    return out


def raw_left(con: duckdb.DuckDBPyConnection, rows: dict[str, set[tuple[int, int, int]]]) -> int:
    left = 0
    for entity, ids in rows.items():
        for batch, row, item in ids:
            [(n,)] = con.execute(
                f"SELECT count(*) FROM raw.canonical_{entity} WHERE _batch_id = ? "
                "AND _source_row = ? AND _source_item = ?",
                [batch, row, item],
            ).fetchall()
            left += int(n)
    return left


def _copy_observation(
    con: duckdb.DuckDBPyConnection, pupil: str, source: str, file_hash: str, **changes: str
) -> int:
    """Land a copy of one of the pupil's observations as a new batch (every column copied,
    whatever form its identity columns take), with ``changes``."""
    [(batch,)] = con.execute("SELECT nextval('meta.batch_seq')").fetchall()
    ids = con.execute(
        "SELECT _batch_id, _source_row, _source_item FROM staging.stg_canonical_observations "
        "WHERE pupil_key = ? AND _reject_reason IS NULL ORDER BY ALL LIMIT 1",
        [pupil],
    ).fetchall()[0]
    replaced = ", ".join(
        [f"{int(batch)} AS _batch_id", "? AS _file_hash"] + [f"? AS {c}" for c in changes]
    )
    con.execute(
        f"INSERT INTO raw.canonical_observations SELECT * REPLACE ({replaced}) "
        "FROM raw.canonical_observations WHERE _batch_id = ? AND _source_row = ? "
        "AND _source_item = ?",
        [file_hash, *changes.values(), *ids],
    )
    con.execute(
        "INSERT INTO meta.batches VALUES (?, ?, 'observations', ?, ?, 1, NULL, ?)",
        [batch, source, f"{source} {batch}", file_hash, datetime.now()],
    )
    return int(batch)


def plant(con: duckdb.DuckDBPyConnection, folder: Path, leaving: str) -> Planted:
    """Choose the pupil, plant their records in every layer, make them leave on ``leaving``
    and rebuild."""
    ensure_access_tables(con)
    pupil, school = con.execute(
        "SELECT e.pupil_key, e.school_urn FROM core.fct_enrolment AS e WHERE e.is_on_roll "
        "AND e.pupil_key IN (SELECT pupil_key FROM core.fct_observation) "
        "AND e.pupil_key IN (SELECT pupil_key FROM core.fct_plan_review) "
        "AND e.pupil_key IN (SELECT pupil_key FROM core.fct_provision_enrolment) "
        "AND e.pupil_key IN (SELECT pupil_key FROM core.bridge_group_member) "
        "ORDER BY e.pupil_key LIMIT 1"
    ).fetchall()[0]
    [(other,)] = con.execute(
        "SELECT pupil_key FROM core.fct_enrolment WHERE is_on_roll AND school_urn = ? "
        "AND pupil_key <> ? ORDER BY pupil_key LIMIT 1",
        [school, pupil],
    ).fetchall()
    # A stored import file whose rows included theirs: a copy in the upload folder and one
    # in the inbox's imported folder; and a file with nothing of theirs beside it.
    content = f"observations of several pupils, {pupil} among them\n".encode()
    uploads, inbox = folder / "uploads", folder / "inbox"
    copies = (uploads / "000001" / "observations.csv", inbox / "imported" / "x-obs.csv")
    for path in copies:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    unrelated = uploads / "000002" / "terms.csv"
    unrelated.parent.mkdir(parents=True, exist_ok=True)
    unrelated.write_text("school_urn,term\n")
    _copy_observation(con, pupil, "upload", hashlib.sha256(content).hexdigest())
    _copy_observation(
        con, pupil, "capture", hashlib.sha256(b"capture:x").hexdigest(), observation_id="CO-1"
    )
    _copy_observation(
        con, pupil, "capture", hashlib.sha256(b"capture:y").hexdigest(), observation_id="CO-2",
        mood="99",
    )  # fmt: skip
    # Their pupils.csv row says they left (found by its ids, not by UPN).
    [ids] = con.execute(
        "SELECT _batch_id, _source_row, _source_item FROM staging.stg_canonical_pupils "
        "WHERE pupil_key = ? AND _is_current",
        [pupil],
    ).fetchall()
    con.execute(
        "UPDATE raw.canonical_pupils SET leaving_date = ? WHERE _batch_id = ? "
        "AND _source_row = ? AND _source_item = ?",
        [leaving, *ids],
    )
    result = build_duckdb(con, touched={"raw.canonical_observations", "raw.canonical_pupils"})
    assert result.ok, [f.message for f in result.failures()]
    [(quarantined,)] = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_observations WHERE pupil_key = ? "
        "AND _reject_reason IS NOT NULL",
        [pupil],
    ).fetchall()
    assert quarantined >= 1, "the bad capture should be quarantined"
    now = datetime.now()
    for key in (pupil, other):
        con.execute(
            "INSERT INTO app.pupil_notes (pupil_key, note, written_by, written_at) "
            "VALUES (?, 'Likes the quiet corner.', 1, ?)",
            [key, now],
        )
    con.execute(
        "INSERT INTO app.trigger_reviews (trigger_id, school_urn, pupil_key, rule_id, fired_on, "
        "kind, note, user_id, username, \"at\") VALUES ('t1', ?, ?, 'r1', current_date, "
        "'acknowledged', 'Spoke to family.', 1, 'dsl', ?)",
        [school, pupil, now],
    )
    con.execute("INSERT INTO app.user_pupils VALUES (99, ?)", [pupil])
    record(con, ViewedPupil(pupil_key=pupil, page=f"/pupils/{pupil}"), user=None)
    identity = con.execute(
        "SELECT * FROM core.pupil_identity WHERE pupil_key = ?", [pupil]
    ).fetchall()[0]
    columns = [d[0] for d in con.execute("SELECT * FROM core.pupil_identity LIMIT 0").description]
    unique: list[str] = []
    for column, value in zip(columns, identity, strict=True):
        text = None if value is None else str(value)
        if column in ("pupil_key", "school_urn") or text is None or len(text) < 6:
            continue
        [(shared,)] = con.execute(
            f"SELECT count(*) FROM core.pupil_identity WHERE CAST({column} AS VARCHAR) = ? "
            "AND pupil_key <> ?",
            [text, pupil],
        ).fetchall()
        if not shared:
            unique.append(text)
    return Planted(
        pupil=str(pupil),
        other=str(other),
        school=str(school),
        raw_rows=landed_rows(con, pupil),
        identifiers=tuple(unique),
        file_copies=copies,
        unrelated_file=unrelated,
        folders=(uploads, inbox),
    )


def last_record_day(con: duckdb.DuckDBPyConnection) -> str:
    [(last,)] = con.execute(
        "SELECT max(try_cast(trim(date) AS DATE)) FROM raw.canonical_attendance"
    ).fetchall()
    return str(last)
