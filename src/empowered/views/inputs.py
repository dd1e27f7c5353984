"""What a school's cached analytics were computed from: fingerprints of their inputs.

The whole-school analytics (:mod:`empowered.views.cache`) read only the tables named in
``analytics/queries/*.sql``. A school's result depends on that school's rows of those
tables, the tables without a school (the trigger rules, the national and EEF reference
figures) and the analytics code itself; nothing else. So a fingerprint of those per school
tells, after any build, whether a school's results can be kept or must be computed again:

- :func:`fingerprints` hashes every input table per school (a fifth of a second on the
  trust-sized benchmark: a count and a sum of row hashes per table and school);
- :func:`schools_to_rewarm` compares two of them: the schools whose inputs changed, plus
  the whole trust (``None``) when any did;
- :func:`rebuilt_inputs` narrows a rebuild to the input tables its
  :class:`~empowered.warehouse.runner.BuildResult` says it rebuilt, so the others keep their
  fingerprints without being read again.

This works whatever the build did (full, incremental by pupil or school day, a retention
purge): it looks at the rebuilt tables, not at how they were rebuilt. Only digests leave
the database, never a row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import duckdb
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from empowered.warehouse.runner import BuildResult

SCHOOL = "school_urn"
# The digest of rows that belong to no school (reference tables, trust-level rows).
_GLOBAL = ""


@cache
def analytics_inputs() -> tuple[str, ...]:
    """Every table the analytics queries read (``schema.table``), from their SQL."""
    folder = resources.files("empowered.analytics").joinpath("queries")
    tables: set[str] = set()
    for item in folder.iterdir():
        if not item.name.endswith(".sql"):
            continue
        for statement in sqlglot.parse(item.read_text(), read="duckdb"):
            for table in statement.find_all(exp.Table) if statement else ():
                if table.db:
                    tables.add(f"{table.db}.{table.name}")
    return tuple(sorted(tables))


@cache
def code_stamp() -> str:
    """A digest of the analytics code and SQL: results computed by other code are stale."""
    digest = hashlib.sha256()
    package = resources.files("empowered.analytics")
    for folder in (package, package.joinpath("queries")):
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.name.endswith((".py", ".sql")):
                digest.update(item.name.encode())
                digest.update(item.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Fingerprints:
    """Per input table, a digest per school (``""`` for rows of no school)."""

    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def of(self, school: str | None) -> str:
        """The digest of everything a school's results depend on; ``None``: the trust."""
        # Asked by every cached result a page reads (a dozen on a register page), and the
        # trust's digest sorts every school's fingerprints: worked out once per school.
        memo: dict[str | None, str] | None = self.__dict__.get("_of")
        if memo is None:
            memo = {}
            object.__setattr__(self, "_of", memo)
        found = memo.get(school)
        if found is None:
            found = memo[school] = self._digest_of(school)
        return found

    def __getstate__(self) -> dict[str, object]:
        # Stored without the digests worked out: they depend on the code that read them.
        return {"tables": self.tables}

    def _digest_of(self, school: str | None) -> str:
        digest = hashlib.sha256(code_stamp().encode())
        for table in sorted(self.tables):
            per_school = self.tables[table]
            if school is None:
                parts = sorted(per_school.items())
            else:
                parts = [
                    (_GLOBAL, per_school.get(_GLOBAL, "")),
                    (school, per_school.get(school, "")),
                ]
            digest.update(f"{table}:{parts!r};".encode())
        return digest.hexdigest()[:24]

    def schools(self) -> frozenset[str]:
        return frozenset(s for per in self.tables.values() for s in per if s != _GLOBAL)


def _has_school(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".", 1)
    found = con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = $schema and table_name = $name and column_name = $column",
        {"schema": schema, "name": name, "column": SCHOOL},
    ).fetchone()
    return bool(found and found[0])


def _digest_sql(table: str, by_school: bool) -> str:
    """count(*) and the sum of row hashes, per school when the table has one. The table
    name comes from the analytics' own SQL (never from a user) and goes in through sqlglot."""
    rows = exp.to_table(table).as_("x")
    row_hash = exp.Anonymous(this="hash", expressions=[exp.column("x")])
    columns = [
        exp.alias_(exp.Count(this=exp.Star()), "n"),
        exp.alias_(exp.Sum(this=row_hash), "h"),
    ]
    query = sqlglot.select(*columns).from_(rows)
    if by_school:
        key = exp.Coalesce(this=exp.column(SCHOOL, table="x"), expressions=[exp.Literal.string("")])
        query = sqlglot.select(exp.alias_(key, "school"), *columns).from_(rows).group_by(key)
    return query.sql(dialect="duckdb")


def fingerprints(
    con: duckdb.DuckDBPyConnection,
    *,
    tables: Iterable[str] | None = None,
    previous: Fingerprints | None = None,
) -> Fingerprints:
    """Fingerprint the analytics inputs. With ``tables``, only those are read again and
    the others are taken from ``previous`` (a table missing from both is read)."""
    wanted = set(analytics_inputs()) if tables is None else set(tables)
    out: dict[str, Mapping[str, str]] = {}
    for table in analytics_inputs():
        if table not in wanted and previous is not None and table in previous.tables:
            out[table] = previous.tables[table]
            continue
        try:
            by_school = _has_school(con, table)
            found = con.execute(_digest_sql(table, by_school)).fetchall()
        except duckdb.CatalogException:
            out[table] = {}  # not built (yet): no rows
            continue
        if by_school:
            out[table] = {str(s): f"{n}:{h}" for s, n, h in found}
        else:
            n, h = found[0]
            out[table] = {_GLOBAL: f"{n}:{h}"}
    return Fingerprints(out)


def schools_to_rewarm(
    previous: Fingerprints | None, current: Fingerprints
) -> frozenset[str | None]:
    """The schools whose results must be computed again after a build: those whose inputs
    changed (or that are new), and the whole trust (``None``) if any did. Without a
    previous fingerprint, every school. A school that has gone is not listed."""
    schools: set[str | None] = set(current.schools())
    if previous is not None:
        schools = {s for s in schools if previous.of(s) != current.of(s)}
        if previous.of(None) != current.of(None):
            schools.add(None)
    else:
        schools.add(None)
    return frozenset(schools)


@cache
def unbuilt_inputs() -> frozenset[str]:
    """The analytics inputs no model builds (the trigger rules an admin edits, the
    reference figures): small, and they may change between builds. Worked out once: the
    models are the package's own files, and reading them all took a tenth of a second
    of every restart's first read-back."""
    from empowered.warehouse.models import discover_models

    return frozenset(analytics_inputs()) - frozenset(discover_models())


def rebuilt_inputs(result: BuildResult) -> frozenset[str]:
    """The analytics input tables to fingerprint again after ``result``'s build: those its
    models rebuilt (the runner names a model after its table, and a failed model left its
    table as it was), and every input no model builds (the trigger rules an admin edits,
    the reference figures), which are small and may change between builds."""
    ran = {r.model.name for r in result.results if r.status == "ok"}
    return frozenset((ran & set(analytics_inputs())) | unbuilt_inputs())
