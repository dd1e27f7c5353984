"""Retention: how long each kind of record is kept, and deleting what is past it.

UK GDPR (storage limitation) and the DPA 2018 ask that personal data be kept no longer
than needed. The default periods follow the IRMS Information Management Toolkit for
Schools as it is commonly applied; each school should check them against its own records
management policy and change them on the admin page (``/admin/retention``).

A period runs from when the pupil **left the school** (``core.fct_enrolment``'s leaving
date; a pupil still on roll is never affected) for pupil records, and from the **date of
the record** for quarantined import rows and audit entries. Applying the policy deletes
the raw rows of those pupils at that school in those categories and rebuilds what is built
from them, so no copy is left in staging, core or the marts. Only counts are shown and
audited, never which pupils.

A pupil who is on roll nowhere and left their last school longer ago than the longest
"after leaving" period is **purged whole**: every row ``access.pupil_data`` finds about them
in every layer (raw rows of every source and the captures, the pseudonym map, staging, core,
marts, quarantine, notes, trigger reviews, visitors' assignments, check samples) and the
stored import files that held one of their rows. The layers built from raw are emptied of
them directly *and* rebuilt: the direct delete makes sure nothing of theirs survives a
build that fails, the rebuild makes the figures that counted them (school summaries) right.
One pseudonymous ``pupil_purged`` audit entry per pupil stays: their key and row counts per
table. The audit log's own entries about them are kept until the audit period ends: they
are the record of who saw the child's file, hold no identity, and a hash-chained log cannot
lose entries from its middle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb

from empowered.access import pupil_data
from empowered.access.audit import AUDIT_FLOOR, PupilPurged, delete_entries_before, record
from empowered.access.store import ensure_access_tables
from empowered.access.users import User

SOURCE = (
    "IRMS Information Management Toolkit for Schools (retention guidelines), as commonly "
    "applied: SEN files to the pupil's 31st birthday, the pupil's educational record to "
    "their 25th, attendance register entries three years. Check your school's own records "
    "management policy: these are defaults, not advice."
)


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    default_years: int
    basis: Literal["left", "record"]
    # Canonical entities whose rows carry the pupil and school (read through staging).
    entities: tuple[str, ...] = ()
    # (child entity, key column, parent entity): rows that belong to a deleted parent row.
    children: tuple[tuple[str, str, str], ...] = ()
    why: str = ""


CATEGORIES: tuple[Category, ...] = (
    Category(
        "observations",
        "Observations, behaviour incidents, suspensions and strategies used",
        7,
        "left",
        ("observations", "incidents", "strategy_uses", "exclusions"),
        why="Part of the pupil's educational record: to about their 25th birthday (a pupil "
        "leaving at 18, plus 7 years).",
    ),
    Category(
        "attendance",
        "Attendance marks and summaries",
        3,
        "left",
        ("attendance", "attendance_summary"),
        why="Attendance register entries are kept 3 years (the pupil registration "
        "regulations); counted here from leaving, which keeps them at least that long.",
    ),
    Category(
        "assessments",
        "Assessments",
        7,
        "left",
        ("assessments",),
        why="Part of the pupil's educational record: to about their 25th birthday.",
    ),
    Category(
        "sen",
        "SEN records: register history, plans and reviews, actions, provision",
        13,
        "left",
        ("sen_status", "sen_needs", "plans", "actions", "provision_enrolments"),
        (
            ("plan_outcomes", "plan_id", "plans"),
            ("plan_reviews", "plan_id", "plans"),
            ("provision_sessions", "enrolment_id", "provision_enrolments"),
        ),
        why="SEN files, reviews and EHC plans: to the pupil's 31st birthday (a pupil "
        "leaving at 18, plus 13 years).",
    ),
    Category(
        "quarantine",
        "Import rows that were quarantined (rejected)",
        1,
        "record",
        why="Kept a year so a rejected row can be traced and corrected; a project default.",
    ),
    Category(
        "audit",
        "Audit log entries",
        6,
        "record",
        why="Who saw what, kept 6 years (the usual limitation period for a claim); never "
        "less than a year whatever is set.",
    ),
)
BY_KEY = {c.key: c for c in CATEGORIES}
MAX_YEARS = 100

_IDENT = re.compile(r"^[a-z_]+$")


class RetentionError(ValueError):
    """A retention setting that cannot be saved; the message is for people."""


@cache
def sql(name: str) -> str:
    return resources.files("empowered.access").joinpath(f"queries/{name}.sql").read_text()


def _exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    row_v = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema, table],
    ).fetchone()
    return bool((row and row[0]) or (row_v and row_v[0]))


def _staging(entity: str) -> str:
    # Entity names are this module's constants; checked anyway, they go into SQL text.
    if not _IDENT.match(entity):
        raise ValueError(f"not an entity name: {entity!r}")
    return f"staging.stg_canonical_{entity}"


def _raw(entity: str) -> str:
    if not _IDENT.match(entity):
        raise ValueError(f"not an entity name: {entity!r}")
    return f"raw.canonical_{entity}"


def load_settings(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Years per category: the saved ones, else the defaults."""
    ensure_access_tables(con)
    years = {c.key: c.default_years for c in CATEGORIES}
    for key, value in con.execute("SELECT category, years FROM app.retention_settings").fetchall():
        if key in years:
            years[str(key)] = int(value)
    return years


def check_years(values: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Whole years per category from a form; and a plain message per field that is wrong."""
    years: dict[str, int] = {}
    errors: dict[str, str] = {}
    for category in CATEGORIES:
        raw = str(values.get(category.key, "")).strip()
        if not raw.isdigit():
            errors[category.key] = "Enter a whole number of years, such as 7."
            continue
        value = int(raw)
        low = 1
        if not low <= value <= MAX_YEARS:
            errors[category.key] = f"Enter a number of years from {low} to {MAX_YEARS}."
            continue
        years[category.key] = value
    return years, errors


def save_settings(
    con: duckdb.DuckDBPyConnection,
    years: dict[str, int],
    *,
    user_id: int | None,
    now: datetime | None = None,
) -> None:
    ensure_access_tables(con)
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    for key, value in years.items():
        if key not in BY_KEY or not 1 <= value <= MAX_YEARS:
            raise RetentionError(f"{key}: not a retention setting or out of range")
    con.begin()
    try:
        for key, value in years.items():
            con.execute(
                "INSERT OR REPLACE INTO app.retention_settings VALUES (?, ?, ?, ?)",
                [key, value, at, user_id],
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _cutoff(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


@dataclass(frozen=True)
class Expired:
    """What is past retention in one category: rows per canonical entity (counts only)."""

    category: Category
    years: int
    cutoff: date
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _doomed_queries(
    con: duckdb.DuckDBPyConnection, category: Category, cutoff: date
) -> list[tuple[str, str, dict[str, Any]]]:
    """(entity, SELECT of _batch_id, _source_row, _source_item, params) per entity."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if category.basis == "left":
        if not _exists(con, "core.fct_enrolment"):
            return []
        left = sql("retention_left_before")
        for entity in category.entities:
            if not _exists(con, _staging(entity)):
                continue
            out.append(
                (
                    entity,
                    f"SELECT s._batch_id, s._source_row, s._source_item FROM "
                    f"{_staging(entity)} AS s JOIN ({left}) AS x "
                    "ON s.pupil_key = x.pupil_key AND s.school_urn = x.school_urn",
                    {"cutoff": cutoff},
                )
            )
        for child, key, parent in category.children:
            if not (_exists(con, _staging(child)) and _exists(con, _staging(parent))):
                continue
            out.append(
                (
                    child,
                    f"SELECT c._batch_id, c._source_row, c._source_item FROM {_staging(child)} "
                    f"AS c WHERE c.{key} IN (SELECT p.{key} FROM {_staging(parent)} AS p "
                    f"JOIN ({left}) AS x ON p.pupil_key = x.pupil_key "
                    "AND p.school_urn = x.school_urn)",
                    {"cutoff": cutoff},
                )
            )
    elif category.key == "quarantine" and _exists(con, "quarantine.rejected_rows"):
        quarantined = sql("retention_quarantined_before")
        entities = [
            str(e)
            for (e,) in con.execute(
                f"SELECT DISTINCT entity FROM ({quarantined}) ORDER BY 1",
                {"cutoff": datetime.combine(cutoff, datetime.min.time())},
            ).fetchall()
        ]
        for entity in entities:
            out.append(
                (
                    entity,
                    f"SELECT _batch_id, _source_row, _source_item FROM ({quarantined}) "
                    "WHERE entity = $entity",
                    {"cutoff": datetime.combine(cutoff, datetime.min.time()), "entity": entity},
                )
            )
    return out


def _audit_cutoff(today: date, years: int) -> datetime:
    cutoff = datetime.combine(_cutoff(today, years), datetime.min.time())
    # The floor runs from the real date, whatever ``today`` a caller passes.
    floor = datetime.now(UTC).replace(tzinfo=None) - AUDIT_FLOOR - timedelta(minutes=1)
    return min(cutoff, floor)


def preview(con: duckdb.DuckDBPyConnection, *, today: date | None = None) -> list[Expired]:
    """Per category, how many records are past their retention period today."""
    today = today or date.today()
    years = load_settings(con)
    out: list[Expired] = []
    for category in CATEGORIES:
        n = years[category.key]
        cutoff = _cutoff(today, n)
        rows: dict[str, int] = {}
        if category.key == "audit":
            [(count,)] = con.execute(
                sql("retention_audit_before"), {"cutoff": _audit_cutoff(today, n)}
            ).fetchall()
            rows["audit_log"] = int(count)
        else:
            for entity, select, params in _doomed_queries(con, category, cutoff):
                [(count,)] = con.execute(
                    f"SELECT count(*) FROM (SELECT DISTINCT * FROM ({select}))", params
                ).fetchall()
                rows[entity] = rows.get(entity, 0) + int(count)
        out.append(Expired(category, n, cutoff, rows))
    return out


WHOLE_RECORD = (
    "Everything else about a pupil who has left: identity, characteristics, groups, notes, "
    "safeguarding reviews, stored import files"
)
WHOLE_RECORD_WHY = (
    "Kept while any of the records above is kept (the longest period), then removed whole; "
    "a record of the removal with counts only stays in the audit log."
)

# Tables a purge leaves alone: the audit log keeps its entries about a purged pupil (their
# pseudonymous key only) until its own period ends; see the module's header.
PURGE_KEEPS = frozenset({"app.audit_log"})


def whole_record_years(years: dict[str, int]) -> int:
    """A pupil's whole record goes once every "after leaving" period has passed."""
    return max(years[c.key] for c in CATEGORIES if c.basis == "left")


@dataclass(frozen=True)
class PupilsPast:
    """Pupils whose whole record is past retention (a count only)."""

    years: int
    cutoff: date
    pupils: int


def pupils_past(con: duckdb.DuckDBPyConnection, *, today: date | None = None) -> PupilsPast:
    years = whole_record_years(load_settings(con))
    cutoff = _cutoff(today or date.today(), years)
    return PupilsPast(years, cutoff, len(_pupils_past(con, cutoff)))


def _pupils_past(con: duckdb.DuckDBPyConnection, cutoff: date) -> list[str]:
    if not _exists(con, "core.fct_enrolment"):
        return []
    return [
        str(k) for (k,) in con.execute(sql("retention_pupils_past"), {"cutoff": cutoff}).fetchall()
    ]


def delete_import_files(folders: Iterable[Path], file_hashes: set[str]) -> int:
    """Delete every stored file (uploads, the inbox's imported and failed folders) whose
    content is one of ``file_hashes``: a copy of rows that were purged. Matched by content,
    so a file is found however it was renamed on the way in."""
    from empowered.sources.landing import file_sha256

    gone = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            if file_sha256(path) in file_hashes:
                path.unlink()
                gone += 1
    return gone


@dataclass(frozen=True)
class Applied:
    deleted: dict[str, int]  # per category
    years: dict[str, int]
    rebuilt: bool
    build_ok: bool
    pupils_purged: int = 0
    files_deleted: int = 0


def _adjust_batches(
    con: duckdb.DuckDBPyConnection, at: datetime, category: str, entity: str, batch_ids: list[int]
) -> None:
    per_batch: dict[int, int] = {}
    for batch_id in batch_ids:
        per_batch[batch_id] = per_batch.get(batch_id, 0) + 1
    for batch_id, n in sorted(per_batch.items()):
        # The batch still balances; the log keeps what was removed, and why.
        con.execute(
            "UPDATE meta.batches SET rows_read = rows_read - ? WHERE batch_id = ?", [n, batch_id]
        )
        con.execute(
            "INSERT INTO app.retention_log VALUES (?, ?, ?, ?, ?)",
            [at, category, entity, batch_id, n],
        )


def _purge(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[pupil_data.PupilTable],
    counts: dict[str, dict[str, int]],
    *,
    at: datetime,
    user: User | None,
) -> set[str]:
    """Inside the caller's transaction: remove the prepared pupils from every table, write
    one purge record each. Returns the tables that lost rows (for the rebuild)."""
    changed: set[str] = set()
    for table in tables:
        if table.name in PURGE_KEEPS:
            continue
        if table.kind == "mention":
            column = pupil_data.MENTIONS[table.name]
            # A check's sample rows are bookkeeping: the sample goes, the result stays.
            con.execute(f"UPDATE {table.name} AS t SET {column} = NULL WHERE {table.where}")
            continue
        if table.kind == "landed" and table.schema == "raw":
            gone = con.execute(
                f"DELETE FROM {table.name} AS t WHERE {table.where} RETURNING t._batch_id"
            ).fetchall()
            entity = table.name.removeprefix("raw.canonical_")
            _adjust_batches(con, at, "pupils", entity, [int(b) for (b,) in gone])
            n = gone
        else:
            n = con.execute(
                f"DELETE FROM {table.name} AS t WHERE {table.where} RETURNING 1"
            ).fetchall()
        if n:
            changed.add(table.name)
    for pupil_key, rows in sorted(counts.items()):
        record(con, PupilPurged(pupil_key=pupil_key, rows=rows), user=user, at=at)
    return changed


def apply(
    con: duckdb.DuckDBPyConnection,
    *,
    today: date | None = None,
    rebuild: bool = True,
    user: User | None = None,
    files: Sequence[Path] = (),
) -> Applied:
    """Delete every record past its retention period and purge every pupil whose whole
    record is past it (one transaction), then rebuild the models built from what changed
    and delete the stored import files (in ``files``, the folders they are kept in) that
    held a purged pupil's rows. Writes each ``pupil_purged`` entry (as ``user``); the caller
    records ``RetentionApplied``."""
    today = today or date.today()
    years = load_settings(con)
    deleted = {c.key: 0 for c in CATEGORIES}
    touched: set[str] = set()
    # The pupils to purge and every row of theirs are found before anything is deleted:
    # their raw rows are found through staging, which a delete would empty.
    purge = _pupils_past(con, _cutoff(today, whole_record_years(years)))
    tables: list[pupil_data.PupilTable] = []
    counts: dict[str, dict[str, int]] = {}
    hashes: set[str] = set()
    if purge:
        pupil_data.prepare(con, purge)
        tables = pupil_data.pupil_tables(con)
        counts = pupil_data.count_rows(con, [t for t in tables if t.name not in PURGE_KEEPS])
        batch_ids = sorted({b for _, b in pupil_data.batches_of(con)})
        hashes = {
            str(h)
            for (h,) in con.execute(
                "SELECT DISTINCT file_hash FROM meta.batches WHERE list_contains(?, batch_id)",
                [batch_ids],
            ).fetchall()
        }
    # Work out every row first: deleting a parent (a plan) would hide its children. A row
    # in two categories (a rejected observation of a pupil who left) is counted once, under
    # the first category whose delete reaches it.
    doomed: list[tuple[str, str, str, dict[str, Any]]] = []
    for category in CATEGORIES:
        if category.key == "audit":
            continue
        for entity, select, params in _doomed_queries(
            con, category, _cutoff(today, years[category.key])
        ):
            doomed.append((category.key, entity, select, params))
    at = datetime.now(UTC).replace(tzinfo=None)
    con.begin()
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE retention_doomed (entity VARCHAR, category VARCHAR, "
            "_batch_id BIGINT, _source_row BIGINT, _source_item BIGINT)"
        )
        for key, entity, select, params in doomed:
            con.execute(
                f"INSERT INTO retention_doomed SELECT DISTINCT $e, $k, * FROM ({select})",
                {**params, "e": entity, "k": key},
            )
        for entity, category_key in con.execute(
            "SELECT DISTINCT entity, category FROM retention_doomed ORDER BY 1, 2"
        ).fetchall():
            gone = con.execute(
                f"DELETE FROM {_raw(str(entity))} AS r USING retention_doomed AS d "
                "WHERE d.entity = ? AND d.category = ? AND r._batch_id = d._batch_id "
                "AND r._source_row = d._source_row AND r._source_item = d._source_item "
                "RETURNING r._batch_id",
                [entity, category_key],
            ).fetchall()
            deleted[str(category_key)] += len(gone)
            if gone:
                touched.add(_raw(str(entity)))
            _adjust_batches(con, at, str(category_key), str(entity), [int(b) for (b,) in gone])
        deleted["audit"] = delete_entries_before(con, _audit_cutoff(today, years["audit"]))
        con.execute("DROP TABLE retention_doomed")
        if purge:
            touched |= _purge(con, tables, counts, at=at, user=user)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        if purge:
            pupil_data.drop(con)
    build_ok = True
    if rebuild and touched:
        from empowered.warehouse.build import build_duckdb

        # Built tables emptied directly count as changed too, so what reads them (school
        # summaries, say) is rebuilt even where the rebuilt table itself comes out the same.
        build_ok = build_duckdb(con, touched=touched).ok
    files_deleted = delete_import_files(files, hashes) if hashes else 0
    return Applied(deleted, years, bool(rebuild and touched), build_ok, len(purge), files_deleted)


__all__ = [
    "BY_KEY",
    "CATEGORIES",
    "SOURCE",
    "WHOLE_RECORD",
    "WHOLE_RECORD_WHY",
    "Applied",
    "Category",
    "Expired",
    "PupilsPast",
    "RetentionError",
    "apply",
    "check_years",
    "delete_import_files",
    "pupils_past",
    "whole_record_years",
    "load_settings",
    "preview",
    "save_settings",
    "sql",
]
