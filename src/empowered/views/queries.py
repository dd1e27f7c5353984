"""The SQL the pages read, one ``.sql`` file per question (as ``analytics/queries``).

Each file states its grain in a header comment. Values are always bound as parameters;
scoped queries take ``$scope_schools`` and ``$scope_pupils`` (see
:func:`empowered.views.scope_params`) and filter by them in their WHERE clause.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import duckdb

from empowered.views import PupilScope, scope_params

Row = dict[str, Any]


@cache
def sql(name: str, package: str = "empowered.views") -> str:
    """A named query of ``package``'s ``queries`` folder (the views', or a document's)."""
    return resources.files(package).joinpath(f"queries/{name}.sql").read_text()


def rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    scope: PupilScope | None = None,
    package: str = "empowered.views",
    **params: Any,
) -> list[Row]:
    """Run a named query and return its rows as dicts (column name -> value).

    A query that mentions ``$scope_`` parameters refuses to run without a scope, so a
    scoped question cannot be asked unscoped by mistake.
    """
    text = sql(name, package)
    if "$scope_" in text:
        if scope is None:
            raise ValueError(f"query {name} is scoped: pass scope=")
        params = {**params, **scope_params(scope)}
    # DuckDB refuses parameters a statement does not use, so bind only those named.
    used = {k: v for k, v in params.items() if f"${k}" in text}
    cursor = con.execute(text, used)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
