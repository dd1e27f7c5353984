"""The one-sentence note on a pupil's page, for children whose picture is complex.

Figures cannot say everything about a child with an EHC plan, several needs or several
early signs at once; one sentence from the SENCo, who knows the child ("Settles with a
familiar adult; transitions after lunch are the hard part"), helps every other adult read
the page. Each version is kept (``app.pupil_notes``); the page shows the newest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from empowered.access.sections import Section
from empowered.views import PupilScope, queries
from empowered.views.pupil import PupilPicture

MAX_LENGTH = 280
SECOND_SENTENCE = re.compile(r"[.!?]\s+[A-Z]")


@dataclass(frozen=True)
class PupilNote:
    note: str
    written_at: datetime
    written_by: str | None
    written_by_role: str | None


class NoteRefused(ValueError):
    """A note that is empty, too long or more than one sentence; the message says which."""


def latest_note(
    con: duckdb.DuckDBPyConnection, pupil_key: str, *, scope: PupilScope | None = None
) -> PupilNote | None:
    """The newest note, or None (also when the policy does not show notes to ``scope``)."""
    if scope is not None and not scope.shows(Section.PUPIL_NOTE):
        return None
    found = queries.rows(con, "pupil_note", pupil_key=pupil_key)
    return PupilNote(**found[0]) if found else None


def clean_note(text: str) -> str:
    """The note as it will be kept, or :class:`NoteRefused` saying what to change."""
    note = " ".join(text.split())
    if not note:
        raise NoteRefused("Write one sentence, or leave the note as it is.")
    if len(note) > MAX_LENGTH:
        raise NoteRefused(
            f"Keep it to one sentence of at most {MAX_LENGTH} characters "
            f"(this one has {len(note)})."
        )
    # A sentence end followed by a capital starts a second sentence ("e.g. maths" does not).
    if SECOND_SENTENCE.search(note):
        raise NoteRefused("Keep it to one sentence: the detail belongs in the child's records.")
    return note


def save_note(con: duckdb.DuckDBPyConnection, pupil_key: str, text: str, *, user_id: int) -> str:
    note = clean_note(text)
    con.execute(
        "INSERT INTO app.pupil_notes (pupil_key, note, written_by, written_at) VALUES (?, ?, ?, ?)",
        [pupil_key, note, user_id, datetime.now(UTC).replace(tzinfo=None)],
    )
    return note


def complexity(picture: PupilPicture) -> list[str]:
    """Why this child's picture is complex enough to want a sentence from someone who knows
    them (empty when the figures can speak for themselves)."""
    status = picture.status
    reasons = []
    if status.sen_provision == "E":
        reasons.append("has an EHC plan")
    if status.primary_need and status.secondary_need:
        reasons.append("has more than one area of need")
    if status.looked_after:
        reasons.append("is looked after")
    fired = picture.early_signs.view.fired_count
    if fired >= 2:
        reasons.append(f"has {fired} early signs at once")
    return reasons
