"""What the import pages show: recent batches, one batch's report and quarantined rows, and
the imports made through the server (uploads and the inbox).

Nothing here decides access: every function takes the user's :class:`PupilScope` and the
queries keep to it. A batch belongs to the schools its rows name (and the school chosen
when it was uploaded); it is shown only to a scope that covers all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from empowered.views import PupilScope, queries
from empowered.views.cache import Recent, build_id

ROWS_PER_PAGE = 100


@dataclass(frozen=True)
class Batch:
    batch_id: int
    file_name: str
    entity: str
    source: str
    loaded_at: datetime
    landed: int
    accepted: int | None  # None until a build has counted it
    quarantined: int | None
    import_id: int | None
    by: str  # who imported it: a username, "the inbox" or "command line"
    schools: tuple[str, ...]


@dataclass(frozen=True)
class Reason:
    outcome: str  # quarantined | warning
    column: str
    reason: str
    rows: int


@dataclass(frozen=True)
class QuarantinedRow:
    file: str
    row: int
    item: int
    column: str
    value: str | None
    reason: str


@dataclass(frozen=True)
class BatchReport:
    batch: Batch
    reasons: tuple[Reason, ...]
    rows: tuple[QuarantinedRow, ...]
    page: int
    pages: int


@dataclass(frozen=True)
class ImportRun:
    import_id: int
    via: str
    user_id: int | None
    username: str | None
    school_urn: str | None
    source: str
    files: int
    status: str  # running | done | failed
    message: str | None
    rows_accepted: int | None
    rows_quarantined: int | None
    started_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status != "running"


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # A catalog lookup: a fraction of a millisecond where scanning duckdb_tables() took
    # 5-10 ms, several times a page (as access.policy does). Names come from this module.
    try:
        con.table(f"{schema}.{table}")
    except duckdb.CatalogException:
        return False
    return True


# Which schools each batch belongs to reads every raw table (millions of attendance
# rows): a tenth of a second or more a page. Raw tables only gain rows, so the answer is
# kept until a new batch lands or a build (a retention purge rebuilds) changes the key.
_OWNED: Recent[tuple[list[int], list[list[str]]]] = Recent(4)


def _owned(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The batches' schools, as the parameters import_batches.sql takes."""
    latest = queries.rows(con, "batches_latest")[0]
    key = (latest["db"], latest["batches"], latest["last_batch"], build_id(con))
    found = _OWNED.get(key)
    if found is None:
        rows = queries.rows(con, "batch_schools")
        found = _OWNED.put(
            key,
            ([int(r["batch_id"]) for r in rows], [list(r["schools"]) for r in rows]),
        )
    return {"owned_batches": found[0], "owned_schools": found[1]}


def _ready(con: duckdb.DuckDBPyConnection) -> bool:
    """Raw tables (made by the first import) and the batch balance (the first build)."""
    return (
        _exists(con, "raw", "canonical_groups")
        and _exists(con, "quarantine", "batch_balance")
        and _exists(con, "app", "imports")
    )


def _by(row: dict[str, Any]) -> str:
    if row["via"] == "inbox":
        return "the inbox"
    return str(row["username"]) if row["username"] else "command line"


def _batch(row: dict[str, Any]) -> Batch:
    return Batch(
        batch_id=int(row["batch_id"]),
        file_name=str(row["file_name"]),
        entity=str(row["entity"]),
        source=str(row["source"]),
        loaded_at=row["loaded_at"],
        landed=int(row["landed"]),
        accepted=None if row["accepted"] is None else int(row["accepted"]),
        quarantined=None if row["quarantined"] is None else int(row["quarantined"]),
        import_id=None if row["import_id"] is None else int(row["import_id"]),
        by=_by(row),
        schools=tuple(row["schools"] or ()),
    )


def recent_batches(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    import_id: int | None = None,
    limit: int = 50,
) -> list[Batch]:
    """The newest batches the scope covers (of one import made through the server, if
    ``import_id`` is given)."""
    if not _ready(con):
        return []
    found = queries.rows(
        con,
        "import_batches",
        scope=scope,
        batch_id=None,
        import_id=import_id,
        limit=limit,
        **_owned(con),
    )
    return [_batch(r) for r in found]


def batch_report(
    con: duckdb.DuckDBPyConnection, batch_id: int, *, scope: PupilScope, page: int = 1
) -> BatchReport | None:
    """One batch's outcome by reason and a page of its quarantined rows; None when the
    batch does not exist or is not wholly in the scope (the two are not told apart)."""
    if not _ready(con):
        return None
    found = queries.rows(
        con,
        "import_batches",
        scope=scope,
        batch_id=batch_id,
        import_id=None,
        limit=1,
        **_owned(con),
    )
    if not found:
        return None
    batch = _batch(found[0])
    reasons = tuple(
        Reason(str(r["outcome"]), str(r["column_name"]), str(r["reason"]), int(r["rows"]))
        for r in queries.rows(con, "batch_reasons", batch_id=batch_id)
    )
    quarantined = sum(r.rows for r in reasons if r.outcome == "quarantined")
    pages = max(1, -(-quarantined // ROWS_PER_PAGE))
    page = min(max(1, page), pages)
    rows = tuple(
        QuarantinedRow(
            str(r["source_file"]),
            int(r["source_row"]),
            int(r["source_item"]),
            str(r["column_name"]),
            None if r["value"] is None else str(r["value"]),
            str(r["reason"]),
        )
        for r in queries.rows(
            con,
            "quarantined_rows",
            batch_id=batch_id,
            limit=ROWS_PER_PAGE,
            offset=(page - 1) * ROWS_PER_PAGE,
        )
    )
    return BatchReport(batch, reasons, rows, page, pages)


def import_runs(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    user_id: int,
    import_id: int | None = None,
    limit: int = 20,
) -> list[ImportRun]:
    """Imports made through the server that this user made or whose school they cover."""
    if not _exists(con, "app", "imports"):
        return []
    found = queries.rows(
        con, "import_runs", scope=scope, import_id=import_id, user_id=user_id, limit=limit
    )
    return [
        ImportRun(
            import_id=int(r["import_id"]),
            via=str(r["via"]),
            user_id=None if r["user_id"] is None else int(r["user_id"]),
            username=r["username"],
            school_urn=r["school_urn"],
            source=str(r["source"]),
            files=int(r["files"]),
            status=str(r["status"]),
            message=r["message"],
            rows_accepted=r["rows_accepted"],
            rows_quarantined=r["rows_quarantined"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
        )
        for r in found
    ]


def schools_to_choose(con: duckdb.DuckDBPyConnection, *, scope: PupilScope) -> list[str]:
    """The URNs an upload may be made for: the user's schools (every school for the trust)."""
    if scope.schools is not None:
        return sorted(scope.schools)
    if not _exists(con, "core", "dim_school"):
        return []
    return [str(r["school_urn"]) for r in queries.rows(con, "scope_schools", scope=scope)]


def school_names(con: duckdb.DuckDBPyConnection, *, scope: PupilScope) -> dict[str, str]:
    """Each in-scope school's name by URN, so a list of schools to choose from reads as
    schools, not numbers."""
    if not _exists(con, "core", "dim_school"):
        return {}
    return {
        str(r["school_urn"]): str(r["school_name"] or "")
        for r in queries.rows(con, "scope_schools", scope=scope)
    }
