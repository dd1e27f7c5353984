"""Quick capture: one check-in, strategy use or ABC incident typed on a phone, landed in raw.

A capture is a source like any other: it becomes ONE canonical record (``observations``,
``strategy_uses`` or ``incidents``) landed by :func:`~empowered.sources.landing.write_batch`
as a batch of its own with source ``capture``, so staging types, checks and quarantines it
exactly as it would a row of an imported file. The form applies the same rules as the
staging model of its entity first (their rule numbers are in the comments below), so that
staff see a mistake next to the field at once and "Saved" means the row will be accepted.

Every form carries an idempotency key (:func:`new_key`): a post retried with the same key
(a double tap, a phone resending after a lost answer) lands nothing the second time.

The codes and labels are the ones the warehouse already uses: the quick observation form's
(``sources.forms.DEFAULT_FORM``, whose labels cover every code of the canonical format)
and, for strategies, the trust's catalogue (passed in by the caller).

The member of staff is recorded by a pseudonymous reference to their account
(:func:`staff_ref`), never by name or username.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.sources.forms import DEFAULT_FORM
from empowered.sources.landing import (
    LandedBatch,
    PreparedBatch,
    prepare_records,
    record_batch_once,
    write_batch,
)
from empowered.sources.records import SourceRecord

SOURCE = "capture"
NOTE_MAX = 500

Choices = tuple[tuple[str, str], ...]  # (code, label), in the order staff see them


def _choices(question: str) -> Choices:
    return tuple((code, label) for label, code in DEFAULT_FORM.questions[question].choices)


MOODS: Choices = _choices("mood")
ENGAGEMENT: Choices = _choices("engagement")
ACTIVITIES: Choices = _choices("activity")
SETTINGS: Choices = _choices("setting")
OUTCOMES: Choices = _choices("outcome")
ANTECEDENTS: Choices = _choices("antecedent")
BEHAVIOURS: Choices = _choices("behaviour")
CONSEQUENCES: Choices = _choices("consequence")
INTENSITIES: Choices = (("1", "1 mild"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5 severe"))
# The catalogue the quick form knows, for a warehouse without one of its own yet.
DEFAULT_STRATEGIES: Choices = _choices("strategy_code")


@dataclass(frozen=True)
class Kind:
    name: str  # URL and form value
    label: str
    entity: str  # canonical entity the capture becomes
    id_prefix: str
    date_column: str
    time_column: str


KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        Kind("check_in", "Check-in", "observations", "CO", "observed_on", "observed_time"),
        Kind("strategy", "Strategy used", "strategy_uses", "CU", "used_on", "used_time"),
        Kind("incident", "ABC incident", "incidents", "CI", "occurred_on", "occurred_time"),
    )
}
ID_COLUMN = {
    "observations": "observation_id",
    "strategy_uses": "use_id",
    "incidents": "incident_id",
}


def staff_ref(user_id: int) -> str:
    """How a capture names who made it: the account number, which only the app's account
    table turns back into a person."""
    return f"app-user-{user_id}"


@dataclass
class Checked:
    """A capture form after checking: canonical values, and a message per bad field."""

    values: dict[str, str | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _pick(
    form: Mapping[str, str],
    name: str,
    choices: Choices,
    checked: Checked,
    *,
    column: str,
    what: str,
    required: bool,
) -> None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            checked.errors[name] = f"Choose {what}."
        checked.values[column] = None
        return
    if value not in {code for code, _ in choices}:
        checked.errors[name] = (
            f"Choose {what} from the choices shown (“{value[:40]}” is not one of them)."
        )
        return
    checked.values[column] = value


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def check_form(
    kind: Kind,
    form: Mapping[str, str],
    *,
    strategies: Choices,
    now: datetime,
    entry_date: date | None = None,
    leaving_date: date | None = None,
) -> Checked:
    """Check a posted capture form. ``form`` maps field names to the text posted;
    ``entry_date`` and ``leaving_date`` are the pupil's time on roll at the school (staging
    rule 19 quarantines a row outside it)."""
    checked = Checked()
    day_text = (form.get("day") or "").strip()
    time_text = (form.get("time") or "").strip()
    day = now.date()
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            checked.errors["day"] = "Enter the date as a date, for example 2026-11-23."
        else:
            if day > now.date():  # staging rule 11
                checked.errors["day"] = "The date is in the future: enter today or an earlier day."
    if "day" not in checked.errors:  # staging rule 19
        if leaving_date is not None and day > leaving_date:
            checked.errors["day"] = (
                f"This pupil left the school on {long_date(leaving_date)}: a capture can only "
                "be for a day they were on roll."
            )
        elif entry_date is not None and day < entry_date:
            checked.errors["day"] = (
                f"This pupil joined the school on {long_date(entry_date)}: choose that day "
                "or a later one."
            )
    at = now.time().replace(second=0, microsecond=0)
    if time_text:
        try:
            at = time.fromisoformat(time_text)
        except ValueError:
            checked.errors["time"] = "Enter the time as hours and minutes, for example 10:15."
    checked.values[kind.date_column] = day.isoformat()
    checked.values[kind.time_column] = at.strftime("%H:%M")
    _pick(
        form, "activity", ACTIVITIES, checked, column="activity", what="an activity", required=False
    )
    _pick(form, "setting", SETTINGS, checked, column="setting", what="a place", required=False)
    note = (form.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        checked.errors["note"] = f"The note is {len(note)} characters: keep it to {NOTE_MAX}."
    if kind.entity == "observations":
        _pick(form, "mood", MOODS, checked, column="mood", what="a mood", required=True)
        _pick(
            form,
            "engagement",
            ENGAGEMENT,
            checked,
            column="engagement",
            what="how engaged",
            required=True,
        )
        checked.values["note"] = note or None
    elif kind.entity == "strategy_uses":
        _pick(
            form,
            "strategy",
            strategies,
            checked,
            column="strategy_code",
            what="the strategy used",
            required=True,
        )
        _pick(
            form, "outcome", OUTCOMES, checked, column="outcome", what="how it went", required=True
        )
        checked.values["note"] = note or None
    else:
        _pick(
            form,
            "antecedent",
            ANTECEDENTS,
            checked,
            column="antecedent",
            what="what happened just before",
            required=False,
        )
        _pick(
            form,
            "behaviour",
            BEHAVIOURS,
            checked,
            column="behaviour",
            what="what the pupil did",
            required=True,
        )
        _pick(
            form,
            "consequence",
            CONSEQUENCES,
            checked,
            column="consequence",
            what="what happened next",
            required=False,
        )
        _pick(
            form,
            "intensity",
            INTENSITIES,
            checked,
            column="intensity",
            what="how intense it was",
            required=False,
        )
        minutes = (form.get("duration_minutes") or "").strip()
        if minutes and not (minutes.isdigit() and int(minutes) <= 24 * 60):
            checked.errors["duration_minutes"] = (
                "Enter how long it lasted as a whole number of minutes."
            )
        checked.values["duration_minutes"] = minutes or None
        if note:
            # The canonical incident has no note column: keep it beside the row, as an
            # import keeps a column the format does not know.
            checked.values["_note"] = note
    return checked


@dataclass(frozen=True)
class Saved:
    kind: Kind
    record_id: str
    batch: LandedBatch
    touched: frozenset[str]


# What a form's idempotency key may look like (``new_key`` makes 32 of these characters).
KEY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_key() -> str:
    """A fresh idempotency key for one capture form (a hidden field)."""
    return secrets.token_urlsafe(24)


def _batch_hash(staff: str, key: str | None, record_id: str) -> str:
    # The batch's "file hash" is unique to the capture: to its form's key when there is one
    # (the same key from the same person is the same capture), else to its id.
    seed = f"{SOURCE}:{staff}:key:{key}" if key else f"{SOURCE}:{record_id}"
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedCapture:
    """A checked capture made ready to land (:func:`prepare_capture`): its record, protected."""

    kind: Kind
    record_id: str
    batch: PreparedBatch


def prepare_capture(
    kind: Kind,
    checked: Checked,
    *,
    school_urn: str,
    upn: str,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> PreparedCapture:
    """Everything of landing a capture that runs no statement (the UPN encrypted, the row
    arranged): the web app does this before it takes the recording lock.

    ``upn`` names the pupil exactly as an MIS export would, so staging matches the row to
    the pupil the same way; it is never logged or shown."""
    if not checked.ok:
        raise ValueError("a capture with errors is never landed")
    if key is not None and not KEY_SHAPE.match(key):
        raise ValueError("not a capture form key")
    entity = ENTITIES[kind.entity]
    record_id = f"{kind.id_prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    values = {k: v for k, v in checked.values.items() if not k.startswith("_")}
    values.update(
        {ID_COLUMN[kind.entity]: record_id, "school_urn": school_urn, "upn": upn, "staff_id": staff}
    )
    extra = {"note": checked.values["_note"]} if checked.values.get("_note") else {}
    record = SourceRecord(kind.entity, dict(values), 1, {k: str(v) for k, v in extra.items()})
    batch = prepare_records(
        f"capture {record_id}",
        _batch_hash(staff, key, record_id),
        SOURCE,
        entity,
        [record],
        keys=keys,
    )
    return PreparedCapture(kind, record_id, batch)


def land_prepared(
    con: duckdb.DuckDBPyConnection, prepared: PreparedCapture, batch_id: int | None = None
) -> Saved:
    """Land a prepared capture (:func:`prepare_capture`) in raw as a batch of its own
    (``batch_id`` if drawn beforehand: :class:`~empowered.sources.landing.BatchIds`),
    inside the caller's transaction. Call ``ensure_raw_tables`` before the transaction."""
    batch = write_batch(con, prepared.batch, batch_id)
    entity = prepared.batch.entity
    touched = {entity.raw_table} | ({"raw.pupil_pseudonym"} if batch.new_pupils else set())
    return Saved(prepared.kind, prepared.record_id, batch, frozenset(touched))


def land_once(
    con: duckdb.DuckDBPyConnection, prepared: PreparedCapture, batch_id: int
) -> Saved | None:
    """:func:`land_prepared`, unless this person's capture with this form key has landed
    already (a retried post: None, nothing written). The check is the batch row's own
    insert (``landing.record_batch_once``), one statement where the check and the batch
    row took two, under the lock every save waits for."""
    if not record_batch_once(con, prepared.batch, batch_id):
        return None
    batch = write_batch(con, prepared.batch, batch_id, recorded=True)
    entity = prepared.batch.entity
    touched = {entity.raw_table} | ({"raw.pupil_pseudonym"} if batch.new_pupils else set())
    return Saved(prepared.kind, prepared.record_id, batch, frozenset(touched))


def labels(choices: Sequence[tuple[str, str]]) -> dict[str, str]:
    return dict(choices)
