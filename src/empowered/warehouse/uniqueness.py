"""Unique keys a model's SQL guarantees, given the checks its inputs passed.

A uniqueness check groups every row of the model: over the 4.6 million attendance
sessions that is half a second, spent proving what the SQL already makes true. A model's
unique key holds by construction when its rows come one for one from a row source that
is unique on the key's columns, and every other table it joins is matched on that table's
whole unique key (so each row finds at most one match). A row source is unique on:

- its own unique key, for a model read whole;
- its natural key, for a staging model read only where ``_is_current`` (its
  ``one_current_row`` check);
- the columns it groups by, for a grouped CTE.

The proof leans on the inputs' own checks, so it stands only when those passed in the
same build (runner): a row written into an input behind the build's back (which no
build makes) is still caught by the model's own check.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping

import sqlglot
from sqlglot import exp

from empowered.warehouse import sql_cache
from empowered.warehouse.models import Model


@functools.lru_cache(maxsize=256)
def unique_by_construction(model: Model, models: tuple[Model, ...]) -> frozenset[str] | None:
    """The models whose checks the model's unique key rests on, or None when its SQL does
    not guarantee the key (then its own check must run)."""
    if not model.unique_key:
        return None
    # The proof reads the SQL and the keys of the tables it reads, nothing else: kept on
    # disk under those (sql_cache), as a one-shot import's process would otherwise parse
    # every model it rebuilds again (a tenth of a day's build).
    keys = {
        m.name: [list(m.unique_key or ()), list(m.natural_key or ())]
        for m in models
        if m.name in model.sources or m.name in model.depends_on
    }
    parts = (model.sql, json.dumps([list(model.unique_key), keys], sort_keys=True))
    found = sql_cache.kept("unique", parts, lambda: _rests_on(model, models))
    return None if found is None else frozenset(found)


def _rests_on(model: Model, models: tuple[Model, ...]) -> list[str] | None:
    """:func:`unique_by_construction` worked out from the SQL, as a JSON value."""
    by_name = {m.name: m for m in models}
    tree = sqlglot.parse_one(model.sql, read="duckdb")
    if not isinstance(tree, exp.Select) or tree.args.get("distinct"):
        return None
    if any(tree.find_all(exp.Lateral, exp.Unnest, exp.Explode)):
        return None
    if tree.args.get("group"):
        # One row per group, whatever was joined below it.
        grouped = _grouped_columns(tree)
        return [] if grouped is not None and grouped <= set(model.unique_key) else None
    start = tree.args.get("from_")
    source = start.this if start is not None else None
    if not isinstance(source, exp.Table):
        return None
    alias = source.alias_or_name
    shown = _shown_columns(tree, alias, bare=not tree.args.get("joins"))
    if any(k not in shown for k in model.unique_key):
        return None
    key_columns = {shown[k] for k in model.unique_key}

    ctes = {cte.alias_or_name: cte.this for cte in tree.ctes}
    rests_on: set[str] = set()
    if source.db:
        read = by_name.get(f"{source.db}.{source.name}")
        if read is None or not _unique_on(read, key_columns, tree.args.get("where"), alias):
            return None
        rests_on.add(read.name)
    elif source.name in ctes:
        grouped = _grouped_columns(ctes[source.name])
        if grouped is None or not grouped <= key_columns:
            return None
    else:
        return None

    for join in tree.args.get("joins") or []:
        looked_up = _lookup(join, by_name)
        if looked_up is None:
            return None
        rests_on.add(looked_up)
    return sorted(rests_on)


def proven_unique(model: Model, models: Mapping[str, Model], passed: set[str]) -> bool:
    """Whether the model's unique key holds by construction from checks that passed in
    this build (``passed``: the models built and checked without failure so far)."""
    rests_on = unique_by_construction(model, tuple(sorted(models.values(), key=_name)))
    return rests_on is not None and rests_on <= passed


def _name(model: Model) -> str:
    return model.name


def _shown_columns(select: exp.Select, alias: str, bare: bool) -> dict[str, str]:
    """Output name -> the row source's column, for columns shown unchanged from it
    (``bare``: unqualified columns are the row source's too, as it is read alone)."""
    shown: dict[str, str] = {}
    for projection in select.expressions:
        column = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(column, exp.Column) and (column.table == alias or bare and not column.table):
            shown[projection.alias_or_name] = column.name
    return shown


def _unique_on(read: Model, columns: set[str], where: exp.Expr | None, alias: str) -> bool:
    if read.unique_key and set(read.unique_key) <= columns:
        return True
    if not read.natural_key or not set(read.natural_key) <= columns or where is None:
        return False
    # The current-row filter must hold for every row shown: a top-level conjunct.
    return any(
        isinstance(c, exp.Column) and c.name == "_is_current" and c.table in (alias, "")
        for c in _conjuncts(where.this)
    )


def _conjuncts(condition: exp.Expr) -> list[exp.Expr]:
    return list(condition.flatten()) if isinstance(condition, exp.And) else [condition]


def _grouped_columns(query: exp.Expr) -> set[str] | None:
    """The output names of a grouped select's group-by columns (None if not grouped by
    plain columns, each of them shown)."""
    if not isinstance(query, exp.Select) or query.args.get("distinct"):
        return None
    group = query.args.get("group")
    if group is None or not group.expressions:
        return None
    if any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup", "totals")):
        return None  # several groupings: a row per group of each
    grouped: set[str] = set()
    for by in group.expressions:
        if not isinstance(by, exp.Column):
            return None
        names = [
            p.alias_or_name
            for p in query.expressions
            if (p.this if isinstance(p, exp.Alias) else p) == by
        ]
        if not names:
            return None
        grouped.add(names[0])
    return grouped


def _lookup(join: exp.Join, by_name: Mapping[str, Model]) -> str | None:
    """The model a join looks up, when it is a left or inner join matching that model's
    whole unique key by equality (at most one row per row joined); else None."""
    if join.args.get("kind") or join.side not in ("LEFT", ""):
        return None  # cross, semi, anti, right or full
    table = join.this
    condition = join.args.get("on")
    if not isinstance(table, exp.Table) or not table.db or condition is None:
        return None
    looked_up = by_name.get(f"{table.db}.{table.name}")
    if looked_up is None or not looked_up.unique_key:
        return None
    alias = table.alias_or_name
    matched: set[str] = set()
    for part in _conjuncts(condition):
        if not isinstance(part, exp.EQ):
            continue
        for mine, other in ((part.this, part.expression), (part.expression, part.this)):
            if (
                isinstance(mine, exp.Column)
                and mine.table == alias
                and not any(c.table == alias for c in other.find_all(exp.Column))
            ):
                matched.add(mine.name)
    return looked_up.name if set(looked_up.unique_key) <= matched else None
