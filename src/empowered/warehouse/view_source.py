"""What a view model passes on when its inputs change, read from its SQL.

A view (``materialized: view``) holds no rows, so an incremental build has nothing to
delete or insert for it; what it must still do is tell the models reading it which rows
changed. For a view that shows the rows of one table (its row source), filtered row by row
and with columns looked up in other tables, a change to the row source changes exactly the
view rows of the changed source rows: every column the view shows unchanged from the row
source, under its own name, changed in the same values. A change to any other input (a
lookup) is not followed by keys: it changes the view whole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp


@dataclass(frozen=True)
class ViewSource:
    table: str  # schema.table the view's rows come from
    columns: frozenset[str]  # shown unchanged from it, under their own names
    reads: frozenset[str]  # every table its SQL reads (its checks may read others)


@functools.lru_cache(maxsize=64)
def view_source(sql: str) -> ViewSource | None:
    """The view's row source and the columns it passes through, or None when the view is
    not a plain row-by-row selection of one table (grouped, distinct, windowed, a union, a
    subquery, the row source read twice): then its changes are followed only whole."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, exp.Select) or tree.args.get("distinct") or tree.args.get("group"):
        return None
    if any(tree.find_all(exp.Window, exp.AggFunc, exp.Subquery, exp.SetOperation, exp.CTE)):
        return None
    start = tree.args.get("from_")
    source = start.this if start is not None else None
    if not isinstance(source, exp.Table) or not source.db:
        return None
    name = f"{source.db}.{source.name}"
    tables = [f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)]
    if tables.count(name) != 1:
        return None
    alias = source.alias_or_name
    columns = set()
    for shown in tree.expressions:
        column = shown.this if isinstance(shown, exp.Alias) else shown
        if (
            isinstance(column, exp.Column)
            and column.table == alias
            and shown.alias_or_name == column.name
        ):
            columns.add(column.name)
    return ViewSource(name, frozenset(columns), frozenset(tables))
