"""Actions agreed for a pupil (issue 13, item 3): a step, its owner, a due date, a status.

An action is a source row like any other: ONE ``actions`` record lands in raw as a batch
of its own (source ``app-action``) and staging (``stg_canonical_actions``) takes it from
there, so imported actions and actions agreed in the app are one table with their source.
A status change (done, cancelled, reopened) lands a NEW row for the same ``action_id``
carrying everything the action says plus the new status, who set it and when: the latest
accepted row is current, the earlier ones are its history (``core.fct_action_history``).

The form applies the rules staging applies (:func:`check_action`; their numbers are in
the comments) so that "Saved" means the row will be accepted. Landing and building are
separate (:func:`land_action`, :func:`land_status`, then :func:`build_actions`): the web
app does both, the demo (``synth.app_actions``) lands only and builds once at the end.

Staff are named by their account (``capture.staff_ref``: "app-user-N"), never by name;
the pupil by UPN, exactly as an import names them, so staging's pupil matching applies.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from empowered.action_words import KIND_LABELS, SOURCE_LABELS, STATUS_LABELS
from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.sources.landing import land_app_record
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "app-action"
ENTITY = ENTITIES["actions"]
DESCRIPTION_MAX = 500
# How far ahead a due date may be set: a year is the longest review cycle there is.
LONGEST_DAYS = 366
# Where the "Agree an action" links come from (``/actions/new?source=``).
FORM_SOURCES = ("review", "trigger", "register", "pupil", "meeting")
# A form's action id: made when the form is shown, so a post sent twice lands once.
ACTION_ID = re.compile(r"^AA-[0-9]{8}-[0-9a-f]{12}$")
REF_SHAPE = re.compile(r"^[A-Za-z0-9_:.-]{1,64}$")
STAFF_REF = re.compile(r"^app-user-[0-9]+$")  # staging rules 16, 17 and 20


def new_action_id(today: date) -> str:
    """A fresh action id, for a form (a hidden field): the same id posted twice is one
    action (:func:`already_landed`)."""
    return f"AA-{today:%Y%m%d}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Owner:
    """A staff account an action may be given to: the form lists them by username and role."""

    ref: str  # ``capture.staff_ref``
    username: str
    role: str  # the role's words


@dataclass
class Checked:
    """An action form after checking: canonical values, and a message per bad field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_action(form: Mapping[str, str], *, owners: Mapping[str, Owner], today: date) -> Checked:
    """Check a posted action form. ``owners`` are the accounts it may be given to (by
    staff reference); ``today`` is the day it is agreed."""
    checked = Checked()
    kind = (form.get("kind") or "").strip()
    if kind not in KIND_LABELS:  # staging rule 14
        checked.errors["kind"] = "Choose what kind of action this is."
    else:
        checked.values["kind"] = kind
    description = (form.get("description") or "").strip()
    if not description:
        checked.errors["description"] = "Say what is to be done."
    elif len(description) > DESCRIPTION_MAX:
        checked.errors["description"] = (
            f"The description is {len(description)} characters: keep it to {DESCRIPTION_MAX}."
        )
    checked.values["description"] = description
    owner = (form.get("owner") or "").strip()
    if owner not in owners or not STAFF_REF.match(owner):  # staging rule 16
        checked.errors["owner"] = "Choose who will do it from the list of staff."
    else:
        checked.values["owner"] = owner
    due_text = (form.get("due_date") or "").strip()
    try:
        due = date.fromisoformat(due_text)
    except ValueError:  # staging rule 11
        checked.errors["due_date"] = "Enter the date it is due, for example 2026-12-18."
    else:
        if due < today:
            checked.errors["due_date"] = "The due date has passed: choose today or a later day."
        elif (due - today).days > LONGEST_DAYS:
            checked.errors["due_date"] = "Choose a due date within the next year."
        else:
            checked.values["due_date"] = due.isoformat()
    source = (form.get("source") or "pupil").strip()
    # Staging rule 13; the source is the link the form was opened from, not typed.
    checked.values["source"] = source if source in SOURCE_LABELS else "pupil"
    ref = (form.get("ref") or "").strip()
    if ref and REF_SHAPE.match(ref):
        checked.values["ref"] = ref
    return checked


@dataclass(frozen=True)
class NewAction:
    """A checked action, ready to land. ``upn`` names the pupil exactly as an MIS export
    would (never shown or logged)."""

    action_id: str
    school_urn: str
    upn: str
    kind: str
    description: str
    owner: str
    due_date: date
    source: str
    raised_by: str
    ref: str | None = None


def from_checked(
    checked: Checked, *, action_id: str, school_urn: str, upn: str, raised_by: str
) -> NewAction:
    if not checked.ok:
        raise ValueError("an action with errors is never landed")
    v = checked.values
    return NewAction(
        action_id=action_id,
        school_urn=school_urn,
        upn=upn,
        kind=v["kind"],
        description=v["description"],
        owner=v["owner"],
        due_date=date.fromisoformat(v["due_date"]),
        source=v["source"],
        raised_by=raised_by,
        ref=v.get("ref"),
    )


def _land(
    con: duckdb.DuckDBPyConnection,
    values: dict[str, str | None],
    *,
    keys: Keys,
    now: datetime,
    what: str,
) -> int:
    # The seed holds the time and the status, so each change is a batch of its own even
    # when it repeats an earlier one (reopened, then done again): the latest is current.
    seed = f"{SOURCE}|{values['school_urn']}|{values['action_id']}|{values['status']}|{now}"
    return land_app_record(
        con,
        ENTITY,
        values,
        source=SOURCE,
        file_name=what,
        seed=hashlib.sha256(seed.encode()).hexdigest(),
        keys=keys,
    )


def already_landed(con: duckdb.DuckDBPyConnection, school_urn: str, action_id: str) -> bool:
    """Whether an action with this id has landed for the school (a form posted twice)."""
    try:
        found = con.execute(
            f"SELECT 1 FROM {ENTITY.raw_table} WHERE trim(school_urn) = ? AND trim(action_id) = ? "
            "LIMIT 1",
            [school_urn, action_id],
        ).fetchone()
    except duckdb.CatalogException:  # nothing ever landed
        return False
    return found is not None


def land_action(
    con: duckdb.DuckDBPyConnection, action: NewAction, *, keys: Keys, now: datetime
) -> int:
    """Land a new open action as a batch of its own (no build: :func:`build_actions`).
    Returns the batch id."""
    values: dict[str, str | None] = {
        "action_id": action.action_id,
        "school_urn": action.school_urn,
        "upn": action.upn,
        "raised_on": now.date().isoformat(),
        "source": action.source,
        "description": action.description,
        "owner_role": None,
        "due_date": action.due_date.isoformat(),
        "completed_on": None,
        "kind": action.kind,
        "owner": action.owner,
        "status": "open",
        "status_by": action.raised_by,
        "status_at": now.isoformat(timespec="seconds"),
        "raised_by": action.raised_by,
        "ref": action.ref,
    }
    return _land(con, values, keys=keys, now=now, what="action agreed in the app")


STATUS_CHANGES = ("done", "cancelled", "open")  # "open" reopens a done or cancelled action


def land_status(
    con: duckdb.DuckDBPyConnection,
    current: Mapping[str, object],
    *,
    upn: str,
    status: str,
    by: str,
    keys: Keys,
    now: datetime,
) -> int:
    """Land a status change of an action: a new row for the same action with everything
    ``current`` (its row in ``core.fct_action``) says, and the new status, who set it
    (``by``, a staff reference) and when. Returns the batch id."""
    if status not in STATUS_LABELS:
        raise ValueError(f"not a status: {status!r}")
    if not STAFF_REF.match(by):
        raise ValueError("a status is set by a staff account")

    def text(name: str) -> str | None:
        value = current.get(name)
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else str(value)

    values: dict[str, str | None] = {
        "action_id": text("action_id"),
        "school_urn": text("school_urn"),
        "upn": upn,
        "raised_on": text("raised_on"),
        "source": text("source"),
        "description": text("description"),
        "owner_role": text("owner_role"),
        "due_date": text("due_date"),
        "completed_on": now.date().isoformat() if status == "done" else None,
        "kind": text("kind"),
        "owner": text("owner"),
        "status": status,
        "status_by": by,
        "status_at": now.isoformat(timespec="seconds"),
        "raised_by": text("raised_by"),
        "ref": text("ref"),
    }
    return _land(con, values, keys=keys, now=now, what=f"action marked {status} in the app")


def build_actions(con: duckdb.DuckDBPyConnection) -> BuildResult:
    """Take landed actions through staging, core and the marts (only what they touch)."""
    return build_duckdb(con, touched={ENTITY.raw_table})
