"""Settling a pupil match by hand: a member of staff says which pupil a row meant.

A row that names a pupil without a UPN (a name with a class or a date of birth, an MIS
id) and matches no pupil on roll, or several, is quarantined by staging; a pupil is never
guessed. On the import page a member of staff who may import for the school chooses the
pupil, or says the rows are not about one of the school's pupils. The choice is a source
row like any other: ONE ``pupil_match_choices`` record lands in raw as a batch of its own
(source ``pupil-match``), and staging (``stg_canonical_pupil_match_choices``, then
``stg_canonical_pupil_refs``) takes it from there, so every pupil-linked row naming the
pupil that way, in this batch and any other, is read again by the build that follows.

The choice is kept by ``ref_key``, the way the rows named the pupil as blind indexes
(never the name, UPN or date of birth), so nothing identifying is stored in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES
from empowered.sources.landing import land_app_record
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "pupil-match"
ENTITY = APP_ENTITIES["pupil_match_choices"]
NOT_OURS = "not_ours"


@dataclass(frozen=True)
class Choice:
    """``pupil_key`` None: the rows are not about one of the school's pupils."""

    school_urn: str
    ref_key: str
    pupil_key: str | None
    chosen_by: str  # the account that chose (``capture.staff_ref``), never a name


@dataclass(frozen=True)
class SavedChoice:
    choice: Choice
    batch_id: int
    build: BuildResult


def choose(
    con: duckdb.DuckDBPyConnection, choice: Choice, *, keys: Keys, now: datetime | None = None
) -> SavedChoice:
    """Land the choice as a batch of its own and build what it touches.

    The caller has checked that the person may import for the school and that the pupil
    is on its roll; staging checks the pupil again (a choice of a pupil not on roll at the
    school is quarantined, never used)."""
    now = now or datetime.now(UTC)
    values: dict[str, str | None] = {
        "school_urn": choice.school_urn,
        "ref_key": choice.ref_key,
        "decision": "pupil" if choice.pupil_key else NOT_OURS,
        "pupil_key": choice.pupil_key,
        "chosen_by": choice.chosen_by,
        "chosen_at": now.isoformat(timespec="seconds"),
    }
    # Each choice is a batch of its own even when it repeats an earlier one: the latest
    # batch is the current choice.
    batch_id = land_app_record(
        con,
        ENTITY,
        values,
        source=SOURCE,
        file_name="pupil chosen on the import page",
        seed=f"{SOURCE}|{choice.ref_key}|{choice.chosen_by}|{now.isoformat()}",
        keys=keys,
    )
    build = build_duckdb(con, touched={ENTITY.raw_table})
    return SavedChoice(choice, batch_id, build)
