"""What the import page shows to settle a pupil match: the ways one batch's quarantined rows
name a pupil that matched no pupil or several, and the pupils a member of staff may choose.

Nothing here decides access: the page asks the policy (``policy.may_choose_pupil``) before
calling, and the candidates' names and dates of birth are decrypted only through
:func:`empowered.identity.identity_reader`, which refuses a scope that may not see them.
A way of naming a pupil is shown and posted by a short digest of its ``ref_key``, so the
blind indexes never appear in a page or an address.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb
import sqlglot
from sqlglot import exp

from empowered.identity import identity_reader
from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.views import PupilScope, queries
from empowered.warehouse.staging_spec import PUPIL_REF_KEY, expand

# A search lists at most this many pupils: enough to find one, not the whole roll.
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class Candidate:
    pupil_key: str
    name: str
    reg_group: str | None
    year_group: str | None
    date_of_birth: date | None


@dataclass(frozen=True)
class MatchProblem:
    ref_id: str  # what the page shows and posts for the ref_key
    ref_key: str
    school_urn: str
    reason: str
    method: str  # how the rows name the pupil (stg_canonical_pupil_refs.method)
    matches: int  # pupils on roll the rows' identifiers matched: 0, or 2 or more
    rows: int
    source_rows: tuple[int, ...]
    name_bidx: str | None
    decision: str | None  # the current choice: "pupil", "not_ours" or None
    chosen_key: str | None
    candidates: tuple[Candidate, ...] = ()

    @property
    def why(self) -> str:
        """Why the rows wait for a choice, in words for the page (the quarantine table
        beside it gives staging's reason as it stands)."""
        if self.decision == "not_ours":
            return "someone has said they are not about one of your pupils"
        if self.matches > 1:
            return f"the pupil they name matches {self.matches} pupils on your roll"
        if self.method == "name_only":
            return "they give only the pupil's name, with no class or date of birth"
        return "no pupil on your roll matches the pupil they name"


def ref_id(ref_key: str) -> str:
    return hashlib.sha256(ref_key.encode("utf-8")).hexdigest()[:16]


def _ready(con: duckdb.DuckDBPyConnection) -> bool:
    for name in (
        "staging.stg_canonical_pupil_refs",
        "staging.stg_canonical_pupil_match_choices",
        "quarantine.rejected_rows",
        "core.pupil_identity",
    ):
        try:
            con.table(name)
        except duckdb.CatalogException:
            return False
    return True


@functools.cache
def _batch_sql(raw_table: str) -> str:
    """batch_pupil_refs.sql reading ``raw_table``, with the row's ref_key computed exactly
    as staging computes it (staging_spec.PUPIL_REF_KEY, expanded to plain SQL)."""
    tree = sqlglot.parse_one(queries.sql("batch_pupil_refs"), read="duckdb")
    key = expand(PUPIL_REF_KEY)
    for table in list(tree.find_all(exp.Table)):
        if f"{table.db}.{table.name}" == "raw.batch_rows":
            table.replace(exp.to_table(raw_table).as_(table.alias or "r"))
    for column in list(tree.find_all(exp.Column)):
        if column.name == "_row_ref_key" and not column.table:
            column.replace(key.copy())
    return tree.sql("duckdb")


def batch_problems(
    con: duckdb.DuckDBPyConnection, batch_id: int, entity: str
) -> list[MatchProblem]:
    """The ways this batch's quarantined rows name a pupil that a person may settle (the
    caller has checked the batch is in the user's scope)."""
    found = ENTITIES.get(entity)
    if found is None or not found.pupil_linked or not _ready(con):
        return []
    cursor = con.execute(_batch_sql(found.raw_table), {"batch_id": batch_id})
    names = [d[0] for d in cursor.description or ()]
    return [
        MatchProblem(
            ref_id=ref_id(str(r["ref_key"])),
            ref_key=str(r["ref_key"]),
            school_urn=str(r["school_urn"]),
            reason=str(r["problem_reason"]),
            method=str(r["method"]),
            matches=int(r["matches"]),
            rows=int(r["rows"]),
            source_rows=tuple(int(x) for x in r["source_rows"]),
            name_bidx=r["name_bidx"],
            decision=r["decision"],
            chosen_key=r["chosen_key"],
        )
        for r in (dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    ]


def candidates(
    con: duckdb.DuckDBPyConnection,
    problem: MatchProblem,
    *,
    scope: PupilScope,
    keys: Keys | None = None,
    search: str | None = None,
) -> tuple[Candidate, ...]:
    """The pupils on roll at the problem's school that a person may choose from: those of
    the name the rows give or, with ``search``, those whose name holds the words searched
    for. Names and dates of birth are decrypted for an identified scope only."""
    reader = identity_reader(scope, keys)
    words = [w.casefold() for w in (search or "").split()]
    found = queries.rows(
        con,
        "pupil_match_candidates",
        scope=scope,
        school_urn=problem.school_urn,
        name_bidxs=[problem.name_bidx] if problem.name_bidx else [],
        all_pupils=bool(words),
    )
    listed: list[Candidate] = []
    for row in found:
        name = reader.name(row)
        if words and not all(w in name.casefold() for w in words):
            continue
        listed.append(
            Candidate(
                pupil_key=str(row["pupil_key"]),
                name=name,
                reg_group=row["reg_group"],
                year_group=None if row["year_group"] is None else str(row["year_group"]),
                date_of_birth=reader.date_of_birth(row["date_of_birth"]),
            )
        )
    listed.sort(key=lambda c: (c.name.casefold(), c.reg_group or "", c.pupil_key))
    return tuple(listed[:SEARCH_LIMIT] if words else listed)


def on_roll(con: duckdb.DuckDBPyConnection, school_urn: str, pupil_key: str) -> bool:
    """Whether the pupil is on the school's roll (a choice may name no one else)."""
    if not _ready(con):
        return False
    return bool(queries.rows(con, "pupil_on_roll", school_urn=school_urn, pupil_key=pupil_key))
