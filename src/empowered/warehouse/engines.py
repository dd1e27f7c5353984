"""Where models run. DuckDB is the default; Spark runs the same SQL after sqlglot transpiles it
(empowered.warehouse.spark).

An engine only knows how to materialise a model's SELECT as a table and how to run a
check query; the runner owns ordering, checks and bookkeeping, so both engines are driven
by exactly the same code path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import duckdb

from empowered.warehouse.incremental import IncrementalWriter, PartialWriter, tracked_columns
from empowered.warehouse.models import Model


class Engine(Protocol):
    name: str

    def materialise(self, model: Model) -> int:
        """Create or replace the model's table (or view) from its SQL; return its row count
        (-1 for a view: counting it would read every row it shows)."""
        ...

    def count_offending(self, sqls: Sequence[str]) -> list[int]:
        """Run several check queries at once; return how many rows each returned."""
        ...

    def sample_offending(self, sql: str, limit: int) -> list[dict[str, Any]]:
        """The first few rows a failing check returned, to show in the error."""
        ...

    def fingerprint(self, table: str) -> tuple[Any, ...] | None:
        """A summary of a table's contents that changes when they change (None: unknown,
        so always treat the table as changed)."""
        ...

    def row_count(self, table: str) -> int: ...

    def incremental(self, models: Mapping[str, Model]) -> PartialWriter | None:
        """What rebuilds part of a model here (None: this engine only builds in full)."""
        ...


def counting_query(sqls: Sequence[str]) -> str:
    """One query counting the rows of every check, so a model's checks cost one scan job."""
    return "\nUNION ALL\n".join(
        f"SELECT {i} AS check_index, count(*) AS offending FROM ({sql}) AS c{i}"
        for i, sql in enumerate(sqls)
    )


def check_counts(rows: Sequence[tuple[Any, ...]], n: int) -> list[int]:
    counts = [0] * n
    for index, offending in rows:
        counts[int(index)] = int(offending)
    return counts


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        # What each table or view is, read from the catalog once per build and kept as
        # the build replaces them: asking the catalog one object at a time cost 3-4 ms a
        # model, a twentieth of a day's rebuild.
        self._kinds: dict[str, str] | None = None

    def materialise(self, model: Model) -> int:
        kind = "VIEW" if model.view else "TABLE"
        # A view where a table was (or the other way round), built by an earlier version:
        # DuckDB replaces only an object of the same kind. Looked up, not tried: a failed
        # statement would abort a build running in one transaction.
        other = "TABLE" if model.view else "VIEW"
        if self._kind(model.name) == other:
            self.con.execute(f"DROP {other} {model.name}")
        self.con.execute(f"CREATE OR REPLACE {kind} {model.name} AS\n{model.sql}")
        if self._kinds is not None:
            self._kinds[model.name] = kind
        if model.view:
            return -1  # counting a view's rows would read them all: not known, not needed
        return self.row_count(model.name)

    def _kind(self, name: str) -> str | None:
        if self._kinds is None:
            rows = self.con.execute(
                "SELECT schema_name || '.' || table_name, 'TABLE' FROM duckdb_tables() "
                "WHERE database_name = current_database() UNION ALL "
                "SELECT schema_name || '.' || view_name, 'VIEW' FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal"
            ).fetchall()
            self._kinds = {str(n): str(k) for n, k in rows}
        return self._kinds.get(name)

    def row_count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def incremental(self, models: Mapping[str, Model]) -> PartialWriter | None:
        return IncrementalWriter(self.con, tracked_columns(models))

    def count_offending(self, sqls: Sequence[str]) -> list[int]:
        if not sqls:
            return []
        return check_counts(self.con.execute(counting_query(sqls)).fetchall(), len(sqls))

    def fingerprint(self, table: str) -> tuple[Any, ...] | None:
        if self._kind(table) != "TABLE":
            return None
        # Row count and an order-independent sum of row hashes: a scan, far cheaper than
        # rebuilding what depends on the table.
        [row] = self.con.execute(
            f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} AS t"
        ).fetchall()
        return tuple(row)

    def sample_offending(self, sql: str, limit: int) -> list[dict[str, Any]]:
        cursor = self.con.execute(f"SELECT * FROM ({sql}) AS offending LIMIT {int(limit)}")
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
