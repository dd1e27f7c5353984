"""What a warehouse file holds, table by table, to compare before and after a fault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Digest:
    columns: list[str]
    rows: int
    digest: int


def contents(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, Digest]:
    """Every table's columns, row count and an order-free digest of its rows (over
    ``columns``, the columns another file had, when given)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        held = {
            f"{schema}.{table}": list(cols)
            for schema, table, cols in con.execute(
                "SELECT schema_name, table_name, list(column_name ORDER BY column_index) "
                "FROM duckdb_columns() WHERE database_name = current_database() GROUP BY ALL"
            ).fetchall()
        }
        found = {}
        for name, cols in (columns or held).items():
            listed = ", ".join(f'"{c}"' for c in cols)
            [(rows, digest)] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({listed})::HUGEINT), 0) FROM {name}"
            ).fetchall()
            found[name] = Digest(cols, int(rows), int(digest))
        return found
    finally:
        con.close()


def changed(before: dict[str, Digest], after: dict[str, Digest]) -> list[str]:
    """The tables whose rows differ, or that appeared or went."""
    return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
