"""Provision management: the intervention catalogue, groups, enrolments and session registers.

Everything saved here is a source of its own, landed in raw like an imported file and
taken through staging, core and the marts by the build that follows (the app never writes
core or marts):

- a catalogue entry (``interventions``, source ``app-provision-catalogue``): a school's own
  entry or, for the trust's administrator, a trust-wide one (school left blank), with its
  cost model: who delivers it (staff role), for how long (minutes a session, sessions a
  week, weeks), at what hourly rate, plus resources;
- a group (``provision_groups``, ``app-provision-group``): one intervention at one school
  in a weekly slot, delivered by named staff accounts;
- enrolments (``provision_enrolments``, ``app-provision-enrolment``): a pupil joins a group
  with a start date and a reason; an enrolment ends with a date and a reason; moving a
  pupil to another group ends one and starts another in ONE transaction, both kept; entry
  and exit measures are the enrolment's pre and post scores;
- a session register (``provision_sessions``, ``app-provision-register``): one row per
  member's enrolment for the day (delivered or missed with its reason, attended or not),
  all landed in one transaction.

Each form is checked here by the rules staging applies (their rule numbers are in the
comments), so "Saved" means the rows will be accepted. Checking and landing are separate
from building (:func:`build`): the form does both, the demo's writer only lands.

Staff are named by :func:`~empowered.sources.capture.staff_ref` (an account number), never
by name; pupils by UPN, as an MIS export names them, so staging's pupil matching applies.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES, ENTITIES, Entity
from empowered.sources.landing import land_app_records
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

CATALOGUE_SOURCE = "app-provision-catalogue"
GROUP_SOURCE = "app-provision-group"
ENROLMENT_SOURCE = "app-provision-enrolment"
REGISTER_SOURCE = "app-provision-register"
SOURCES = (CATALOGUE_SOURCE, GROUP_SOURCE, ENROLMENT_SOURCE, REGISTER_SOURCE)

INTERVENTIONS = ENTITIES["interventions"]
ENROLMENTS = ENTITIES["provision_enrolments"]
SESSIONS = ENTITIES["provision_sessions"]
GROUPS = APP_ENTITIES["provision_groups"]

Choices = tuple[tuple[str, str], ...]  # (value stored, words shown)

# The four broad areas of need of the SEND Code of Practice (6.28-6.35), as the canonical
# format spells them (the provision marts match them against a pupil's need by name).
AREAS_OF_NEED: Choices = tuple(
    (a, a)
    for a in (
        "Communication and interaction",
        "Cognition and learning",
        "Social, emotional and mental health",
        "Sensory and/or physical",
    )
)
MEASURES: Choices = (
    ("standardised_score", "Standardised score"),
    ("reading_age_months", "Reading age (months)"),
    ("spelling_age_months", "Spelling age (months)"),
    ("rating", "Rating"),
)
STAFF_ROLES: Choices = (
    ("teaching_assistant", "Teaching assistant"),
    ("higher_level_teaching_assistant", "Higher level teaching assistant"),
    ("teacher", "Teacher"),
    ("senco", "SENCo"),
    ("specialist", "Visiting specialist"),
)
DAYS: Choices = (
    ("monday", "Monday"),
    ("tuesday", "Tuesday"),
    ("wednesday", "Wednesday"),
    ("thursday", "Thursday"),
    ("friday", "Friday"),
)
MISSED_REASONS: Choices = (
    ("staff_absent", "Staff member absent"),
    ("staff_covering", "Staff member covering elsewhere"),
    ("school_event", "School event or trip"),
    ("room_unavailable", "Room not available"),
    ("assessment", "Assessments or exams"),
    ("other", "Other reason"),
)
END_REASONS: Choices = (
    ("completed", "Completed the programme"),
    ("moved", "Moved to another intervention"),
    ("targets_met", "Targets met early"),
    ("not_progressing", "Not making progress: trying something else"),
    ("left_school", "Left the school"),
    ("other", "Other reason"),
)
NAME_MAX = 80
REASON_MAX = 200


def words(choices: Choices, value: object) -> str:
    """The words shown for a stored value (the value itself if it is not one of them)."""
    return dict(choices).get(str(value), str(value)) if value not in (None, "") else ""


@dataclass
class Checked:
    """A form after checking: the values to land, and a message per field in error."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Landed:
    """What one save landed: its batches and the raw tables a build must read again.
    ``batch_ids`` empty: a retried form, landed the first time."""

    batch_ids: tuple[int, ...]
    touched: frozenset[str]
    record_id: str

    @property
    def repeated(self) -> bool:
        return not self.batch_ids


def build(con: duckdb.DuckDBPyConnection, landed: Landed) -> BuildResult | None:
    """The incremental build of what a save touched (None when it landed nothing)."""
    if landed.repeated:
        return None
    return build_duckdb(con, touched=set(landed.touched))


# -- Checking pieces -----------------------------------------------------------------------


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _choice(
    form: Mapping[str, str],
    name: str,
    choices: Choices,
    checked: Checked,
    *,
    column: str,
    what: str,
    required: bool,
) -> None:
    value = _text(form, name)
    if not value:
        if required:
            checked.errors[name] = f"Choose {what}."
        checked.values[column] = None
    elif value not in dict(choices):
        checked.errors[name] = f"Choose {what} from the list."
    else:
        checked.values[column] = value


def _number(
    form: Mapping[str, str],
    name: str,
    checked: Checked,
    *,
    column: str,
    what: str,
    low: float,
    high: float,
    whole: bool,
    required: bool,
) -> float | None:
    value = _text(form, name).replace("£", "").replace(",", "")
    if not value:
        if required:
            checked.errors[name] = f"Enter {what}."
        checked.values[column] = None
        return None
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        kind = "a whole number" if whole else "a number"
        checked.errors[name] = f"Enter {what} as {kind} from {low:g} to {high:g}."
        return None
    checked.values[column] = str(number) if whole else f"{number:.2f}"
    return float(number)


def _date(
    form: Mapping[str, str],
    name: str,
    checked: Checked,
    *,
    column: str,
    what: str,
    default: date | None = None,
) -> date | None:
    value = _text(form, name)
    if not value:
        if default is None:
            checked.values[column] = None
            return None
        checked.values[column] = default.isoformat()
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        checked.errors[name] = f"Enter {what} as a date, for example 2026-11-23."
        return None
    checked.values[column] = day.isoformat()
    return day


def _time(form: Mapping[str, str], name: str, checked: Checked, *, column: str) -> time | None:
    value = _text(form, name)
    if not value:
        checked.values[column] = None
        return None
    try:
        at = time.fromisoformat(value)
    except ValueError:
        checked.errors[name] = "Enter the time as hours and minutes, for example 10:15."
        return None
    checked.values[column] = at.strftime("%H:%M")
    return at


def _reason(form: Mapping[str, str], name: str, checked: Checked, *, column: str) -> None:
    value = " ".join(_text(form, name).split())
    if len(value) > REASON_MAX:
        checked.errors[name] = f"The reason is {len(value)} characters: keep it to {REASON_MAX}."
    checked.values[column] = value or None


def _new_id(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def _land(
    con: duckdb.DuckDBPyConnection,
    records: Sequence[tuple[Entity, Sequence[dict[str, Any]]]],
    *,
    source: str,
    file_name: str,
    seed: str,
    keys: Keys,
    record_id: str,
) -> Landed:
    """Land one form's records in ONE transaction, unless a form with the same seed (a
    retried post carries its form's key) landed already."""
    first = records[0][0]
    digest = hashlib.sha256(f"{seed}|{first.name}".encode()).hexdigest()
    seen = con.execute(
        "SELECT 1 FROM meta.batches WHERE source = ? AND file_hash = ?", [source, digest]
    ).fetchall()
    if seen:
        return Landed((), frozenset(), record_id)
    ids = land_app_records(con, records, source=source, file_name=file_name, seed=seed, keys=keys)
    touched = {entity.raw_table for entity, rows in records if rows}
    if any(entity.pupil_linked for entity, rows in records if rows):
        touched.add("raw.pupil_pseudonym")
    return Landed(tuple(ids), frozenset(touched), record_id)


# -- The intervention catalogue --------------------------------------------------------------


def intervention_code(name: str, school_urn: str | None, taken: Collection[str]) -> str:
    """A new entry's code: words of its name, after its school's URN for a school's own
    entry (so a school's codes never take a trust-wide one's place), made unique."""
    slug = "-".join(re.findall(r"[a-z0-9]+", name.lower()))[:40].strip("-") or "intervention"
    base = f"{school_urn}-{slug}" if school_urn else slug
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def check_intervention(
    form: Mapping[str, str],
    *,
    school_urn: str | None,
    code: str | None,
    taken: Collection[str],
) -> Checked:
    """A catalogue entry, new (``code`` None) or a new version of ``code``. Staging rules
    of ``stg_canonical_interventions`` in brackets."""
    checked = Checked()
    name = " ".join(_text(form, "name").split())
    if not name:  # rule 2
        checked.errors["name"] = "Enter the intervention's name."
    elif len(name) > NAME_MAX:
        checked.errors["name"] = f"The name is {len(name)} characters: keep it to {NAME_MAX}."
    checked.values["intervention_name"] = name
    _choice(
        form,
        "area_of_need",
        AREAS_OF_NEED,
        checked,
        column="area_of_need",
        what="the area of need",
        required=True,
    )
    _choice(  # rule 3
        form,
        "measure",
        MEASURES,
        checked,
        column="measure",
        what="how progress is measured",
        required=False,
    )
    _choice(
        form,
        "staff_role",
        STAFF_ROLES,
        checked,
        column="staff_role",
        what="who delivers it",
        required=True,
    )
    number: dict[str, Any] = {"whole": True, "required": True}
    _number(  # rule 5
        form,
        "minutes_per_session",
        checked,
        column="minutes_per_session",
        what="the minutes a session",
        low=5,
        high=240,
        **number,
    )
    _number(  # rule 9
        form,
        "sessions_per_week",
        checked,
        column="sessions_per_week",
        what="the sessions a week",
        low=1,
        high=10,
        **number,
    )
    _number(  # rule 10
        form,
        "weeks",
        checked,
        column="weeks",
        what="the number of weeks",
        low=1,
        high=52,
        **number,
    )
    _number(  # rule 4
        form,
        "group_size",
        checked,
        column="group_size",
        what="the group size",
        low=1,
        high=30,
        **number,
    )
    money: dict[str, Any] = {"whole": False, "low": 0, "high": 10_000}
    _number(  # rules 6-8
        form,
        "hourly_rate",
        checked,
        column="hourly_staff_cost",
        what="the hourly rate of the staff role",
        required=True,
        **money,
    )
    _number(
        form,
        "materials_cost",
        checked,
        column="materials_cost",
        what="the cost of resources",
        required=False,
        **money,
    )
    _number(
        form,
        "training_cost",
        checked,
        column="training_cost",
        what="the cost of training",
        required=False,
        **money,
    )
    checked.values["target_need"] = None
    checked.values["school_urn"] = school_urn
    if code is None:
        code = intervention_code(name, school_urn, taken) if name else ""
    checked.values["intervention_code"] = code
    return checked


def land_intervention(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> Landed:
    """Land a checked catalogue entry as a batch of its own (a new version of its code)."""
    if not checked.ok:
        raise ValueError("a form with errors is never landed")
    values = {c: checked.values.get(c) for c in INTERVENTIONS.columns}
    code = str(values["intervention_code"])
    return _land(
        con,
        [(INTERVENTIONS, [values])],
        source=CATALOGUE_SOURCE,
        file_name="intervention saved on the provision pages",
        seed=f"{CATALOGUE_SOURCE}|{staff}|{key or now.isoformat()}|{code}",
        keys=keys,
        record_id=code,
    )


# -- Groups ---------------------------------------------------------------------------------


def check_group(
    form: Mapping[str, str],
    staff_chosen: Sequence[str],
    *,
    interventions: Collection[str],
    staff: Collection[str],
    today: date,
) -> Checked:
    """A group, new or edited. ``interventions``: the codes the school may run;
    ``staff``: the staff references (``capture.staff_ref``) that may be chosen. Staging
    rules of ``stg_canonical_provision_groups`` in brackets."""
    checked = Checked()
    name = " ".join(_text(form, "group_name").split())
    if not name:  # rule 2
        checked.errors["group_name"] = "Enter a name for the group, for example Year 3 reading."
    elif len(name) > NAME_MAX:
        checked.errors["group_name"] = f"Keep the name to {NAME_MAX} characters."
    checked.values["group_name"] = name
    code = _text(form, "intervention")
    if code not in interventions:  # rule 8
        checked.errors["intervention"] = "Choose the intervention the group runs."
    checked.values["intervention_code"] = code
    chosen = [s for s in dict.fromkeys(staff_chosen) if s]
    if not chosen:
        checked.errors["staff"] = "Choose who runs the group."
    elif any(s not in staff for s in chosen):
        checked.errors["staff"] = "Choose staff from the list."
    checked.values["staff_ids"] = " ".join(chosen)
    _choice(  # rule 10
        form, "day", DAYS, checked, column="day_of_week", what="the day", required=True
    )
    start = _time(form, "start_time", checked, column="start_time")  # rule 11
    end = _time(form, "end_time", checked, column="end_time")  # rule 12
    if start is None and "start_time" not in checked.errors:
        checked.errors["start_time"] = "Enter the time the group starts."
    if start and end and end <= start:  # rule 13
        checked.errors["end_time"] = "The end time must be after the start time."
    first = _date(  # rule 14
        form, "start_date", checked, column="start_date", what="the first day", default=today
    )
    last = _date(form, "end_date", checked, column="end_date", what="the last day")  # rule 15
    if first and last and last < first:  # rule 16
        checked.errors["end_date"] = "The last day must not be before the first day."
    return checked


def land_group(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    school_urn: str,
    group_id: str | None,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> Landed:
    """Land a checked group (``group_id`` None: a new group) as a batch of its own."""
    if not checked.ok:
        raise ValueError("a form with errors is never landed")
    group_id = group_id or _new_id("PG", now)
    values = {c: checked.values.get(c) for c in GROUPS.columns}
    values.update({"group_id": group_id, "school_urn": school_urn})
    return _land(
        con,
        [(GROUPS, [values])],
        source=GROUP_SOURCE,
        file_name="intervention group saved on the provision pages",
        seed=f"{GROUP_SOURCE}|{staff}|{key or now.isoformat()}|{group_id}",
        keys=keys,
        record_id=group_id,
    )


# -- Enrolments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """One version of a pupil's enrolment, as landed. ``upn`` goes only into the raw row."""

    enrolment_id: str
    school_urn: str
    upn: str
    intervention_code: str
    staff_id: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    sessions_planned: str | None = None
    pre_date: str | None = None
    pre_score: str | None = None
    post_date: str | None = None
    post_score: str | None = None
    group_id: str | None = None
    reason: str | None = None
    end_reason: str | None = None

    def values(self) -> dict[str, Any]:
        return asdict(self)


def check_start(
    form: Mapping[str, str],
    *,
    today: date,
    entry_date: date | None = None,
    leaving_date: date | None = None,
) -> Checked:
    """A pupil joining a group: the first day and the reason (rules 10 of the enrolment)."""
    checked = Checked()
    start = _date(
        form, "start_date", checked, column="start_date", what="the start date", default=today
    )
    if start and leaving_date and start > leaving_date:
        checked.errors["start_date"] = "The pupil has left the school by then."
    elif start and entry_date and start < entry_date:
        checked.errors["start_date"] = "The pupil had not joined the school by then."
    _reason(form, "reason", checked, column="reason")
    if not checked.values["reason"] and "reason" not in checked.errors:
        checked.errors["reason"] = "Say why the pupil is starting, in a sentence."
    return checked


def check_end(form: Mapping[str, str], *, start_date: date, today: date) -> Checked:
    """Ending an enrolment: its last day and why (rule 12: not before its start)."""
    checked = Checked()
    end = _date(form, "end_date", checked, column="end_date", what="the last day", default=today)
    if end and end < start_date:
        checked.errors["end_date"] = "The last day must not be before the enrolment started."
    _choice(
        form,
        "end_reason",
        END_REASONS,
        checked,
        column="end_reason",
        what="why it ended",
        required=True,
    )
    return checked


def check_measures(form: Mapping[str, str]) -> Checked:
    """Entry and exit measures: the pre and post scores and their dates (rules 14-18)."""
    checked = Checked()
    for which, what in (("pre", "entry"), ("post", "exit")):
        _date(form, f"{which}_date", checked, column=f"{which}_date", what=f"the {what} date")
        _number(
            form,
            f"{which}_score",
            checked,
            column=f"{which}_score",
            what=f"the {what} score",
            low=-1000,
            high=1000,
            whole=False,
            required=False,
        )
        if checked.values.get(f"{which}_score") and not checked.values.get(f"{which}_date"):
            checked.errors.setdefault(f"{which}_date", f"Enter the date of the {what} measure.")
    pre, post = checked.values.get("pre_date"), checked.values.get("post_date")
    if pre and post and post < pre:  # rule 18
        checked.errors["post_date"] = "The exit measure must not be before the entry measure."
    return checked


def started(
    checked: Checked,
    *,
    school_urn: str,
    upn: str,
    intervention_code: str,
    group_id: str,
    staff_id: str | None,
    sessions_planned: int | None,
    now: datetime,
) -> Enrolment:
    """A new enrolment from a checked :func:`check_start` form."""
    if not checked.ok:
        raise ValueError("a form with errors is never landed")
    return Enrolment(
        enrolment_id=_new_id("PE", now),
        school_urn=school_urn,
        upn=upn,
        intervention_code=intervention_code,
        staff_id=staff_id,
        start_date=checked.values["start_date"],
        sessions_planned=None if sessions_planned is None else str(sessions_planned),
        group_id=group_id,
        reason=checked.values["reason"],
    )


def ended(enrolment: Enrolment, checked: Checked) -> Enrolment:
    """The enrolment's new version, ended by a checked :func:`check_end` form."""
    if not checked.ok:
        raise ValueError("a form with errors is never landed")
    return replace(
        enrolment, end_date=checked.values["end_date"], end_reason=checked.values["end_reason"]
    )


def measured(enrolment: Enrolment, checked: Checked) -> Enrolment:
    """The enrolment's new version with its entry and exit measures."""
    if not checked.ok:
        raise ValueError("a form with errors is never landed")
    v = checked.values
    return replace(
        enrolment,
        pre_date=v.get("pre_date"),
        pre_score=v.get("pre_score"),
        post_date=v.get("post_date"),
        post_score=v.get("post_score"),
    )


def land_enrolments(
    con: duckdb.DuckDBPyConnection,
    enrolments: Sequence[Enrolment],
    *,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> Landed:
    """Land enrolment versions saved by one form (a move: the old one ended and the new
    one started) in ONE transaction: never one without the other."""
    if not enrolments:
        raise ValueError("nothing to land")
    first = enrolments[-1].enrolment_id
    return _land(
        con,
        [(ENROLMENTS, [e.values() for e in enrolments])],
        source=ENROLMENT_SOURCE,
        file_name="enrolment saved on the provision pages",
        seed=f"{ENROLMENT_SOURCE}|{staff}|{key or now.isoformat()}|{first}",
        keys=keys,
        record_id=first,
    )


# -- The session register -------------------------------------------------------------------


@dataclass(frozen=True)
class Register:
    """A checked session register: the day, whether it was delivered (else why not), its
    minutes and who attended (enrolment ids)."""

    day: date
    delivered: bool
    missed_reason: str | None
    minutes: int
    attended: frozenset[str]


def check_register(
    form: Mapping[str, str],
    attended: Collection[str],
    *,
    members: Collection[str],
    default_minutes: int | None,
    today: date,
    first_day: date | None = None,
) -> tuple[Register | None, dict[str, str]]:
    """Check a posted register. ``members``: the enrolment ids of the group on the day;
    ``attended``: those ticked. Staging rules of ``stg_canonical_provision_sessions`` in
    brackets."""
    errors: dict[str, str] = {}
    checked = Checked()
    day = _date(form, "day", checked, column="day", what="the day", default=today)  # rule 10
    if day and day > today:
        checked.errors["day"] = "The day is in the future: record a session once it is held."
    elif day and first_day and day < first_day:
        checked.errors["day"] = "The group had not started by then."
    errors.update(checked.errors)
    delivered_text = _text(form, "delivered")
    if delivered_text not in ("yes", "no"):  # rules 11, 12
        errors["delivered"] = "Say whether the session took place."
    delivered = delivered_text == "yes"
    missed = _text(form, "missed_reason") or None
    if delivered_text == "no":
        if missed not in dict(MISSED_REASONS):
            errors["missed_reason"] = "Choose why the session did not take place."
    else:
        missed = None
    minutes = default_minutes or 0
    text = _text(form, "minutes")
    if delivered and text:
        if not text.isdigit() or not 1 <= int(text) <= 240:  # rule 13
            errors["minutes"] = "Enter the minutes as a whole number from 1 to 240."
        else:
            minutes = int(text)
    elif delivered and not minutes:
        errors["minutes"] = "Enter how many minutes the session lasted."
    ticked = frozenset(a for a in attended if a)
    if ticked - set(members):
        errors["attended"] = "Tick pupils of this group only."
    if not members:
        errors["attended"] = "The group has no members on that day: add pupils first."
    if errors or day is None:
        return None, errors
    # Rule 15: a pupil never attends a session that was not delivered.
    return Register(day, delivered, missed, minutes, ticked if delivered else frozenset()), {}


def register_rows(
    register: Register, *, group_id: str, members: Sequence[str], recorded_by: str
) -> list[dict[str, Any]]:
    """One session row per member's enrolment (natural key: enrolment and day, so a
    register recorded again for the same day is its new version)."""
    return [
        {
            "enrolment_id": enrolment_id,
            "session_date": register.day.isoformat(),
            "delivered": "Y" if register.delivered else "N",
            "minutes": str(register.minutes) if register.delivered else "0",
            "group_id": group_id,
            "attended": "Y" if enrolment_id in register.attended else "N",
            "missed_reason": register.missed_reason,
            "recorded_by": recorded_by,
        }
        for enrolment_id in members
    ]


def land_register(
    con: duckdb.DuckDBPyConnection,
    register: Register,
    *,
    group_id: str,
    members: Sequence[str],
    recorded_by: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> Landed:
    """Land a group's register for the day: every member's row in ONE transaction."""
    rows = register_rows(register, group_id=group_id, members=members, recorded_by=recorded_by)
    return _land(
        con,
        [(SESSIONS, rows)],
        source=REGISTER_SOURCE,
        file_name=f"session register of {register.day.isoformat()}",
        seed=f"{REGISTER_SOURCE}|{recorded_by}|{key or now.isoformat()}|{group_id}",
        keys=keys,
        record_id=group_id,
    )
