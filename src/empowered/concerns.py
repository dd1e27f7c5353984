"""Safeguarding concerns, what the designated safeguarding lead (DSL) does with them, and
a leaver's child protection file: checked, then landed in raw as sources of their own.

Any member of staff at the school records a concern about a pupil (what was seen or said,
in their words; when and where; a category; who was there). It becomes ONE ``concerns``
record landed as a batch of its own (source ``app-concern``); the DSL's acknowledging or
sharing it is one ``concern_events`` record (``app-concern-event``); the new school's
receipt of a leaver's child protection file one ``cp_file_transfers`` record
(``app-cp-file``). Staging types, checks and quarantines them as it would an import, and
the form applies the same rules first (their numbers are in the comments), so "Passed to
the designated safeguarding lead" means the row will be accepted.

The concern's words, the people present and the new school are encrypted at landing as
identity is (``canonical.SENSITIVE_TEXT_COLUMNS``): no layer of the warehouse file holds
them in clear. Staff are named by ``capture.staff_ref`` (an account number), never by name.

Checking and landing (:func:`land_concern`, :func:`land_event`, :func:`land_cp_file`) are
separate from building (:func:`build`): the form calls both, the demo's writer only the
first (the demo builds once at the end).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES
from empowered.sources.capture import KEY_SHAPE, Checked, Choices, long_date
from empowered.sources.landing import already_landed, land_app_records
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "app-concern"
EVENT_SOURCE = "app-concern-event"
CP_FILE_SOURCE = "app-cp-file"
CONCERNS = APP_ENTITIES["concerns"]
EVENTS = APP_ENTITIES["concern_events"]
CP_FILES = APP_ENTITIES["cp_file_transfers"]

# The kinds of harm Keeping children safe in education (Part one and Annex B) asks staff to
# know, in plain words; the code is stored, the words are shown. Staging rule 13 allows
# exactly these codes.
CATEGORIES: Choices = (
    ("physical", "Physical abuse"),
    ("emotional", "Emotional abuse"),
    ("sexual", "Sexual abuse or sexual exploitation"),
    ("neglect", "Neglect"),
    ("online", "Online safety (including sharing images)"),
    ("self_harm", "Self-harm or suicidal thoughts"),
    ("child_on_child", "Child-on-child abuse (including bullying and harassment)"),
    ("domestic_abuse", "Domestic abuse at home"),
    ("exploitation", "Criminal exploitation or county lines"),
    ("radicalisation", "Radicalisation or extremism"),
    ("honour_based", "So-called honour-based abuse (including FGM and forced marriage)"),
    ("mental_health", "Mental health"),
    ("missing_education", "Attendance or missing education"),
    ("other", "Something else"),
)
CATEGORY_WORDS = dict(CATEGORIES)
TEXT_MAX = 4000
PEOPLE_MAX = 500
PLACE_MAX = 120
SCHOOL_MAX = 200
# Keeping children safe in education: the file reaches the new school within five school
# days of the pupil leaving (or within five days of the start of a new term).
CP_FILE_SCHOOL_DAYS = 5


@dataclass(frozen=True)
class Landed:
    """A record landed in raw: its id, its batch, and the raw table a build must read."""

    record_id: str
    batch_id: int | None  # None: the same form was posted before, nothing landed again
    touched: frozenset[str]


def _text(
    form: Mapping[str, str], name: str, checked: Checked, *, limit: int, required: str | None
) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            checked.errors[name] = required
        return None
    if len(value) > limit:
        checked.errors[name] = f"This is {len(value)} characters: keep it to {limit}."
    return value


def check_concern(form: Mapping[str, str], *, now: datetime) -> Checked:
    """Check a posted concern form: what staging checks (rule numbers in the comments)."""
    checked = Checked()
    day = now.date()
    day_text = (form.get("day") or "").strip()
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            checked.errors["day"] = "Enter the date as a date, for example 2026-11-23."
        else:
            if day > now.date():  # rule 11
                checked.errors["day"] = "The date is in the future: enter today or an earlier day."
    at = now.time().replace(second=0, microsecond=0)
    time_text = (form.get("time") or "").strip()
    if time_text:
        try:
            at = time.fromisoformat(time_text)  # rule 12
        except ValueError:
            checked.errors["time"] = "Enter the time as hours and minutes, for example 10:15."
    checked.values["concern_on"] = day.isoformat()
    checked.values["concern_time"] = at.strftime("%H:%M")
    category = (form.get("category") or "").strip()
    if category not in CATEGORY_WORDS:  # rule 13
        checked.errors["category"] = "Choose what kind of concern this is."
    checked.values["category"] = category or None
    checked.values["concern_text"] = _text(  # rule 14
        form,
        "concern_text",
        checked,
        limit=TEXT_MAX,
        required="Write what you saw or heard, in your own words.",
    )
    checked.values["place"] = _text(form, "place", checked, limit=PLACE_MAX, required=None)
    checked.values["people_present"] = _text(
        form, "people_present", checked, limit=PEOPLE_MAX, required=None
    )
    return checked


def _seed(source: str, staff: str, key: str | None, record_id: str) -> str:
    # A form's key makes the batch's hash: the same form posted twice (a double tap) by
    # the same person is the same record, and lands once.
    return f"{source}|{staff}|key:{key}" if key else f"{source}|{record_id}"


def _land(
    con: duckdb.DuckDBPyConnection,
    entity_values: dict[str, str | None],
    *,
    record_id: str,
    source: str,
    file_name: str,
    staff: str,
    key: str | None,
    keys: Keys,
    entity_name: str,
) -> Landed:
    if key is not None and not KEY_SHAPE.match(key):
        raise ValueError("not a form key")
    entity = APP_ENTITIES[entity_name]
    seed = _seed(source, staff, key, record_id)
    touched = frozenset({entity.raw_table})
    if key and already_landed(con, hashlib.sha256(f"{seed}|{entity.name}".encode()).hexdigest()):
        return Landed(record_id, None, touched)
    (batch_id,) = land_app_records(
        con, [(entity, [entity_values])], source=source, file_name=file_name, seed=seed, keys=keys
    )
    return Landed(record_id, batch_id, touched)


def new_id(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


def land_concern(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    school_urn: str,
    upn: str,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> Landed:
    """Land a checked concern (``upn`` names the pupil as capture does; never logged)."""
    if not checked.ok:
        raise ValueError("a concern with errors is never landed")
    concern_id = new_id("SC", now)
    values = {k: v for k, v in checked.values.items() if not k.startswith("_")}
    values |= {
        "concern_id": concern_id,
        "school_urn": school_urn,
        "upn": upn,
        "recorded_by": staff,
        "recorded_at": now.isoformat(timespec="seconds"),
    }
    return _land(
        con,
        values,
        record_id=concern_id,
        source=SOURCE,
        file_name="concern recorded in the app",
        staff=staff,
        key=key,
        keys=keys,
        entity_name="concerns",
    )


EVENT_KINDS = ("acknowledged", "shared")


def land_event(
    con: duckdb.DuckDBPyConnection,
    *,
    school_urn: str,
    concern_id: str,
    event: str,
    by: str,
    keys: Keys,
    now: datetime,
    staff: str | None = None,
) -> Landed:
    """Land the DSL's act on a concern: ``acknowledged``, or ``shared`` with ``staff``
    (an account reference). The caller has checked the concern is theirs to act on."""
    if event not in EVENT_KINDS:  # rule 11
        raise ValueError(f"not an act on a concern: {event}")
    if event == "shared" and not staff:  # rule 12
        raise ValueError("a share names who it is shared with")
    event_id = new_id("SE", now)
    values: dict[str, str | None] = {
        "event_id": event_id,
        "concern_id": concern_id,
        "school_urn": school_urn,
        "event": event,
        "staff": staff,
        "recorded_by": by,
        "recorded_at": now.isoformat(timespec="seconds"),
    }
    return _land(
        con,
        values,
        record_id=event_id,
        source=EVENT_SOURCE,
        file_name=f"concern {event} in the app",
        staff=by,
        key=None,
        keys=keys,
        entity_name="concern_events",
    )


def check_cp_file(form: Mapping[str, str], *, now: datetime, leaving_date: date | None) -> Checked:
    """Check the record that a leaver's new school received the child protection file."""
    checked = Checked()
    days: dict[str, date | None] = {}
    for name, what, required in (("sent_on", "sent", False), ("received_on", "received", True)):
        text = (form.get(name) or "").strip()
        days[name] = None
        if not text:
            if required:  # rule 10
                checked.errors[name] = f"Enter the date the file was {what}."
            checked.values[name] = None
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:  # rule 12
            checked.errors[name] = "Enter the date as a date, for example 2026-11-23."
            continue
        if day > now.date():  # rules 11 and 13
            checked.errors[name] = "The date is in the future: enter today or an earlier day."
            continue
        if leaving_date is not None and day < leaving_date and name == "received_on":
            checked.errors[name] = (
                f"The pupil left on {long_date(leaving_date)}: the file is received after that."
            )
            continue
        days[name] = day
        checked.values[name] = day.isoformat()
    sent, received = days.get("sent_on"), days.get("received_on")
    if sent and received and received < sent:  # rule 14
        checked.errors["received_on"] = "The file cannot be received before it was sent."
    checked.values["new_school"] = _text(  # rule 15
        form,
        "new_school",
        checked,
        limit=SCHOOL_MAX,
        required="Name the school that received the file.",
    )
    return checked


def land_cp_file(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    school_urn: str,
    upn: str,
    staff: str,
    keys: Keys,
    now: datetime,
) -> Landed:
    if not checked.ok:
        raise ValueError("a record with errors is never landed")
    transfer_id = new_id("CP", now)
    values = dict(checked.values) | {
        "transfer_id": transfer_id,
        "school_urn": school_urn,
        "upn": upn,
        "recorded_by": staff,
        "recorded_at": now.isoformat(timespec="seconds"),
    }
    return _land(
        con,
        values,
        record_id=transfer_id,
        source=CP_FILE_SOURCE,
        file_name="child protection file recorded in the app",
        staff=staff,
        key=None,
        keys=keys,
        entity_name="cp_file_transfers",
    )


def build(con: duckdb.DuckDBPyConnection, landed: Landed) -> BuildResult:
    """Build what a landed record touched (staging, core, the chronology's reads)."""
    return build_duckdb(con, touched=set(landed.touched))
