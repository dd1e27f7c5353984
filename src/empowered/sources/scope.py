"""Whose rows an import may write: checked on the landed (canonical) rows, before commit.

A file's header can be spelled many ways (``School URN``, ``school-urn``) and many formats
carry no school at all, so the school is checked where every format has become the same
thing: the raw rows just landed, in canonical columns, inside the import's transaction.
The first row outside the importer's reach refuses the whole import (the caller rolls
back), naming its file, row, column and value.

Every canonical entity falls into one of three kinds:
- rows that name their school (``school_urn``): the school must be one of the importer's;
- rows that belong to a parent record by id (a plan's outcomes and reviews, an
  enrolment's sessions): the parent, looked up in everything landed so far and in this
  import, must be at one of the importer's schools; an unknown parent is refused;
- trust-wide catalogues (strategies, interventions): only for importers allowed to change
  them.
Ids the whole trust shares (plans, enrolments, outcomes, reviews) must also not already be
held by another school, or the row would move that school's record to this one; and a
pupil still on roll at another school cannot be enrolled here by a school's own import
(the UPN is compared by its blind index): the trust administrator imports a move between
schools, or it lands once the first school has recorded the leaving date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import duckdb
from sqlglot import exp

from empowered.sources.canonical import ENTITIES, Entity
from empowered.sources.errors import SourceError
from empowered.sources.landing import LandedBatch


@dataclass(frozen=True)
class ImportLimits:
    """What one import may write. ``schools`` None: every school (and the catalogues)."""

    schools: frozenset[str] | None
    catalogues: bool

    @property
    def unrestricted(self) -> bool:
        return self.schools is None and self.catalogues


UNRESTRICTED = ImportLimits(schools=None, catalogues=True)


class ImportRefused(SourceError):
    """The import would write rows outside the importer's reach; nothing is landed."""


@dataclass(frozen=True)
class Parent:
    ref: str  # the column of the row naming its parent
    entity: str  # the parent entity
    key: str  # the parent's id column


# Rows without a school of their own take their parent's.
PARENTS: dict[str, Parent] = {
    "provision_sessions": Parent("enrolment_id", "provision_enrolments", "enrolment_id"),
    "plan_outcomes": Parent("plan_id", "plans", "plan_id"),
    "plan_reviews": Parent("plan_id", "plans", "plan_id"),
}

# Ids that are unique across the trust (staging's natural key holds no school).
SHARED_IDS: dict[str, str] = {
    "plans": "plan_id",
    "provision_enrolments": "enrolment_id",
    "plan_outcomes": "outcome_id",
    "plan_reviews": "review_id",
}


# Catalogues whose rows may name a school (a school's own intervention, kept in the app's
# provision management): a FILE of them is still the trust's list, imported by whoever may
# change the catalogues, never by a school's own import.
SCHOOL_NAMING_CATALOGUES = frozenset({"interventions"})


def is_catalogue(entity: Entity) -> bool:
    """A trust-wide list: its rows name no school and belong to no school's record."""
    if entity.name in SCHOOL_NAMING_CATALOGUES:
        return True
    return "school_urn" not in entity.columns and entity.name not in PARENTS


@cache
def _sql(name: str) -> str:
    return resources.files("empowered.sources").joinpath(f"queries/{name}.sql").read_text()


def _name(identifier: str) -> str:
    # Table and column names come from the canonical registry (code), quoted all the same.
    return ".".join(
        exp.to_identifier(part, quoted=True).sql("duckdb") for part in identifier.split(".")
    )


def _query(name: str, **names: str) -> str:
    return _sql(name).format(**{k: _name(v) for k, v in names.items()})


def _first(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object]
) -> tuple[int, str | None] | None:
    rows = con.execute(sql, params).fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else None


def _owned_sql(entity: Entity) -> str:
    key = SHARED_IDS[entity.name]
    parent = PARENTS.get(entity.name)
    if parent is None:
        return _query("scope_owned_direct", table=entity.raw_table, key=key)
    return _query(
        "scope_owned_via_parent",
        table=entity.raw_table,
        key=key,
        ref=parent.ref,
        parent_table=ENTITIES[parent.entity].raw_table,
        parent_key=parent.key,
    )


def _check_batch(con: duckdb.DuckDBPyConnection, batch: LandedBatch, limits: ImportLimits) -> None:
    entity = ENTITIES[batch.entity]
    if is_catalogue(entity):
        if limits.catalogues:
            return
        key = entity.required[0]
        found = _first(
            con, _query("scope_first_row", table=entity.raw_table, key=key), [batch.batch_id]
        )
        if found:
            raise ImportRefused(
                batch.file_name,
                f"the {entity.name} list is shared by the whole trust; only a trust "
                "administrator can change it, so nothing was imported",
                row=found[0],
                column=key,
                value=found[1],
                batch_id=batch.batch_id,
            )
        return
    if limits.schools is None:
        return
    schools = sorted(limits.schools)
    if "school_urn" in entity.columns:
        found = _first(
            con,
            _query("scope_school_rows", table=entity.raw_table),
            [batch.batch_id, schools],
        )
        if found:
            raise ImportRefused(
                batch.file_name,
                f"this row is for school {found[1]}, which is not one of yours; "
                "nothing was imported",
                row=found[0],
                column="school_urn",
                value=found[1],
                batch_id=batch.batch_id,
            )
    if entity.name == "pupils":
        found = _first(
            con,
            _query("scope_pupils_elsewhere", table=entity.raw_table),
            [batch.batch_id, schools, batch.batch_id],
        )
        if found:
            raise ImportRefused(
                batch.file_name,
                "this pupil is on roll at another school of the trust; a pupil joining "
                "from another school is imported by the trust administrator, or once that "
                "school has recorded their leaving date; nothing was imported",
                row=found[0],
                column="upn",
                value="(withheld)",
                batch_id=batch.batch_id,
            )
    parent = PARENTS.get(entity.name)
    if parent is not None:
        found = _first(
            con,
            _query(
                "scope_references",
                table=entity.raw_table,
                ref=parent.ref,
                parent_table=ENTITIES[parent.entity].raw_table,
                parent_key=parent.key,
            ),
            [schools, schools, batch.batch_id],
        )
        if found:
            raise ImportRefused(
                batch.file_name,
                f"this row belongs to a record ({parent.ref}) that is not one of your "
                "schools' pupils' records; nothing was imported",
                row=found[0],
                column=parent.ref,
                value=found[1],
                batch_id=batch.batch_id,
            )
    if entity.name in SHARED_IDS:
        key = SHARED_IDS[entity.name]
        found = _first(
            con,
            _sql("scope_shared_ids").replace("{owned}", _owned_sql(entity)),
            [batch.batch_id, schools],
        )
        if found:
            raise ImportRefused(
                batch.file_name,
                f"this {key} is already used by another school's record; nothing was imported",
                row=found[0],
                column=key,
                value=found[1],
                batch_id=batch.batch_id,
            )


def check_landed(
    con: duckdb.DuckDBPyConnection, batches: Iterable[LandedBatch], limits: ImportLimits
) -> None:
    """Raise ImportRefused at the first landed row outside ``limits``. Call inside the
    import's transaction, after every file has landed (a plan and its reviews may arrive
    in one import) and before it commits."""
    if limits.unrestricted:
        return
    for batch in batches:
        if batch.batch_id is not None:
            _check_batch(con, batch, limits)
