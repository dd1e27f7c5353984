"""The SQL the analytics read from the marts, one ``.sql`` file per question.

Each file states its grain. Values are always bound as parameters (``$school_urn``), never
formatted into the text. A ``NULL`` school means the whole trust.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import duckdb

Row = dict[str, Any]


@cache
def sql(name: str) -> str:
    return resources.files("empowered.analytics").joinpath(f"queries/{name}.sql").read_text()


def rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[Row]:
    """Run a named query and return its rows as dicts (column name -> value)."""
    text = sql(name)
    # DuckDB refuses parameters a statement does not use, so bind only those named.
    used = {k: v for k, v in params.items() if f"${k}" in text}
    cursor = con.execute(text, used)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def columns(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> dict[str, Any]:
    """Run a named query and return its columns as numpy arrays (for large answers)."""
    text = sql(name)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    return dict(con.execute(text, used).fetchnumpy())
