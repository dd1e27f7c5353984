"""Data-quality checks: each is SQL that returns the offending rows; none means it passes.

Generic checks (unique, not null, relationships, accepted values) are generated from a
model's header with sqlglot, so identifiers are quoted properly and nothing is pasted into
SQL by string formatting; custom checks are written by hand in the header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlglot
from sqlglot import exp

Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class Check:
    name: str
    kind: str
    sql: str  # DuckDB dialect; the Spark engine transpiles it like a model
    severity: Severity = "error"
    references: frozenset[str] = frozenset()


def _table(qualified: str) -> exp.Table:
    schema, name = qualified.split(".", 1)
    return exp.table_(name, db=schema, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def unique_check(model: str, columns: tuple[str, ...]) -> Check:
    query = (
        exp.select(*[_col(c) for c in columns], exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(_table(model))
        .group_by(*[_col(c) for c in columns])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    return Check(f"unique({', '.join(columns)})", "unique", query.sql("duckdb"))


def current_row_check(model: str, natural_key: tuple[str, ...]) -> Check:
    """At most one current (accepted, latest) row per natural key: what core relies on."""
    query = (
        exp.select(*[_col(c) for c in natural_key], exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(_table(model))
        .where(_col("_is_current"))
        .group_by(*[_col(c) for c in natural_key])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    return Check(f"one_current_row({', '.join(natural_key)})", "current_row", query.sql("duckdb"))


def not_null_check(model: str, column: str) -> Check:
    query = (
        exp.select(exp.Star())
        .from_(_table(model))
        .where(exp.Is(this=_col(column), expression=exp.Null()))
    )
    return Check(f"not_null({column})", "not_null", query.sql("duckdb"))


def relationship_check(model: str, column: str, target: str) -> Check:
    parts = target.split(".")
    if len(parts) != 3:
        raise ValueError(f"relationship target {target!r} must be schema.table.column")
    target_table = f"{parts[0]}.{parts[1]}"
    query = (
        exp.select(_col(column, "child"))
        .from_(exp.alias_(_table(model), "child", table=True))
        .join(
            exp.alias_(_table(target_table), "parent", table=True),
            on=exp.EQ(this=_col(column, "child"), expression=_col(parts[2], "parent")),
            join_type="left",
        )
        .where(
            exp.and_(
                exp.not_(exp.Is(this=_col(column, "child"), expression=exp.Null())),
                exp.Is(this=_col(parts[2], "parent"), expression=exp.Null()),
            )
        )
    )
    return Check(
        f"relationship({column} -> {target})",
        "relationship",
        query.sql("duckdb"),
        references=frozenset({target_table}),
    )


def accepted_values_check(model: str, column: str, values: list[Any]) -> Check:
    literals = [exp.Literal.string(str(v)) for v in values]
    query = (
        exp.select(_col(column), exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(_table(model))
        .where(
            exp.and_(
                exp.not_(exp.Is(this=_col(column), expression=exp.Null())),
                exp.not_(exp.In(this=exp.cast(_col(column), "VARCHAR"), expressions=literals)),
            )
        )
        .group_by(_col(column))
    )
    return Check(f"accepted_values({column})", "accepted_values", query.sql("duckdb"))


def custom_check(name: str, sql: str, severity: Severity) -> Check:
    tree = sqlglot.parse_one(sql, read="duckdb")
    refs = frozenset(f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db)
    return Check(name, "custom", sql.strip().rstrip(";"), severity, refs)


def checks_from_header(model: str, header: Mapping[str, Any]) -> tuple[Check, ...]:
    checks: list[Check] = []
    unique_key = header.get("unique_key") or []
    if unique_key:
        checks.append(unique_check(model, tuple(unique_key)))
    natural_key = header.get("natural_key") or []
    if natural_key:
        checks.append(current_row_check(model, tuple(natural_key)))
    for column in header.get("not_null") or []:
        checks.append(not_null_check(model, column))
    for column, target in (header.get("relationships") or {}).items():
        checks.append(relationship_check(model, column, target))
    for column, values in (header.get("accepted_values") or {}).items():
        checks.append(accepted_values_check(model, column, list(values)))
    for item in header.get("checks") or []:
        if not isinstance(item, dict) or "name" not in item or "sql" not in item:
            raise ValueError("each custom check needs a name and sql")
        severity = item.get("severity", "error")
        if severity not in ("error", "warn"):
            raise ValueError(f"check {item['name']}: severity must be error or warn")
        checks.append(custom_check(str(item["name"]), str(item["sql"]), severity))
    return tuple(checks)
