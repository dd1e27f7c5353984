"""What a school entered in EmpowerED+, kind by kind, as people read it.

Each :class:`Kind` is one CSV of the leaving export: the app's forms that write it (their
``meta.batches`` sources), the ``.sql`` file beside this module that reads it (staging's
current row of each record, every accepted version of a plan, every version of a pupil's
note), and the words the app shows for its codes. :func:`read` runs one kind for one
school and makes each row readable: a staff reference (``app-user-N``) becomes the
account's username, encrypted words are decrypted (``identity.reveal``), a code becomes
its words and the pupil is named (name, UPN, date of birth, through
``identity.IdentityReader``) beside their key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

import duckdb

from empowered import action_words, concerns, plans, provision, reviews
from empowered.access import retention
from empowered.access.roles import Role
from empowered.contributions import SOURCE as CONTRIBUTION_SOURCE
from empowered.crypto import IdentityCipher
from empowered.identity import IdentityReader, reveal
from empowered.keys import Keys
from empowered.pupil_matches import SOURCE as MATCH_SOURCE
from empowered.sources import capture
from empowered.views import triggers
from empowered.warehouse.connection import table_exists

Row = dict[str, Any]
Words = Mapping[str, str]

# The folder a kind's files go in: a child protection file travels separately and securely
# (Keeping children safe in education), so safeguarding records never sit beside the rest.
GENERAL = ""
SAFEGUARDING = "safeguarding"
SETTINGS = "settings"


@dataclass(frozen=True)
class Kind:
    name: str  # the CSV's name and the query's
    title: str  # what it is, in words
    sources: tuple[str, ...]  # the app's forms that write it (empty: an app.* table)
    read_from: str  # the table its rows are read from, for the README
    folder: str = GENERAL
    words: Mapping[str, Words] = field(default_factory=dict)  # column -> code -> words
    every_version: bool = False  # every accepted version, not only the current row

    @property
    def file(self) -> str:
        return f"{self.folder}/{self.name}.csv" if self.folder else f"{self.name}.csv"

    @property
    def origin(self) -> str:
        """Where its rows are read from, for the README."""
        which = "every version kept" if self.every_version else "each record as it stands"
        if self.sources:
            forms = ", ".join(self.sources)
            return f"{self.read_from}, rows entered in the app (source {forms}), {which}"
        return f"{self.read_from}, kept by the app itself, {which}"


def _codes(choices: tuple[tuple[Any, str], ...]) -> Words:
    return {str(code): label for code, label in choices}


_TRIGGER_KINDS: Words = {
    triggers.ACKNOWLEDGED: "Acknowledged",
    triggers.ACTION_ADDED: "Action added",
    triggers.DECISION_RECORDED: "Decision recorded",
}
_CAPTURE_WORDS: dict[str, Words] = {
    "activity": _codes(capture.ACTIVITIES),
    "setting": _codes(capture.SETTINGS),
}
KINDS: tuple[Kind, ...] = (
    Kind(
        "check_ins",
        "Quick check-ins",
        (capture.SOURCE,),
        "staging.stg_canonical_observations",
        words={
            **_CAPTURE_WORDS,
            "mood": _codes(capture.MOODS),
            "engagement": _codes(capture.ENGAGEMENT),
        },
    ),
    Kind(
        "strategy_uses",
        "Strategies used",
        (capture.SOURCE,),
        "staging.stg_canonical_strategy_uses",
        words={**_CAPTURE_WORDS, "outcome": _codes(capture.OUTCOMES)},
    ),
    Kind(
        "incidents",
        "Incidents",
        (capture.SOURCE,),
        "staging.stg_canonical_incidents",
        words={
            **_CAPTURE_WORDS,
            "antecedent": _codes(capture.ANTECEDENTS),
            "behaviour": _codes(capture.BEHAVIOURS),
            "consequence": _codes(capture.CONSEQUENCES),
            "intensity": _codes(capture.INTENSITIES),
        },
    ),
    Kind(
        "plans",
        "Plans (every version)",
        (plans.SOURCE,),
        "staging.stg_canonical_plans",
        words={
            "plan_type": _codes(plans.PLAN_TYPES),
            "agreed_with": _codes(plans.AGREED_WITH),
            "status": {"draft": "draft (not yet agreed)", "agreed": "agreed"},
            "current_version": {"True": "yes", "False": "no: an earlier version"},
        },
        every_version=True,
    ),
    Kind(
        "plan_outcomes",
        "Plan outcomes (every version)",
        (plans.SOURCE,),
        "staging.stg_canonical_plan_outcomes",
        every_version=True,
    ),
    Kind(
        "review_meetings",
        "Reviews held",
        (reviews.SOURCE,),
        "staging.stg_canonical_review_meetings",
        words={"plan_type": _codes(plans.PLAN_TYPES)},
    ),
    Kind(
        "review_ratings",
        "Progress on each outcome at a review",
        (reviews.SOURCE,),
        "staging.stg_canonical_plan_reviews",
        words={"rating": _codes(reviews.RATINGS), "progress": reviews.PROGRESS_WORDS},
    ),
    Kind(
        "ehc_review_steps",
        "EHC annual review steps",
        (reviews.STEP_SOURCE,),
        "staging.stg_canonical_ehc_review_steps",
        words={"step": reviews.STEPS},
    ),
    Kind(
        "actions",
        "Actions",
        ("app-action",),
        "staging.stg_canonical_actions",
        words={
            "kind": action_words.KIND_LABELS,
            "agreed_at": action_words.SOURCE_LABELS,
            "status": action_words.STATUS_LABELS,
            "owner_role": action_words.OWNER_ROLE_WORDS,
        },
    ),
    Kind(
        "interventions",
        "Interventions in the school's catalogue",
        (provision.CATALOGUE_SOURCE,),
        "staging.stg_canonical_interventions",
        words={"measure": _codes(provision.MEASURES), "staff_role": _codes(provision.STAFF_ROLES)},
    ),
    Kind(
        "provision_groups",
        "Intervention groups",
        (provision.GROUP_SOURCE,),
        "staging.stg_canonical_provision_groups",
        words={"day_of_week": _codes(provision.DAYS)},
    ),
    Kind(
        "provision_enrolments",
        "Pupils placed in interventions",
        (provision.ENROLMENT_SOURCE,),
        "staging.stg_canonical_provision_enrolments",
        words={"end_reason": _codes(provision.END_REASONS)},
    ),
    Kind(
        "provision_sessions",
        "Session registers (a row per pupil per session)",
        (provision.REGISTER_SOURCE,),
        "staging.stg_canonical_provision_sessions",
        words={"missed_reason": _codes(provision.MISSED_REASONS)},
    ),
    Kind(
        "contributions",
        "Notes and reports from visiting professionals",
        (CONTRIBUTION_SOURCE,),
        "staging.stg_canonical_contributions",
        words={"author_role": {r.value: r.label for r in Role}},
    ),
    Kind(
        "pupil_notes",
        "Notes on pupils' pages (every version)",
        (),
        "app.pupil_notes",
        every_version=True,
    ),
    Kind(
        "pupil_match_choices",
        "Which pupil an imported row meant",
        (MATCH_SOURCE,),
        "staging.stg_canonical_pupil_match_choices",
    ),
    Kind(
        "concerns",
        "Safeguarding concerns",
        (concerns.SOURCE,),
        "staging.stg_canonical_concerns",
        SAFEGUARDING,
        {"category": concerns.CATEGORY_WORDS},
    ),
    Kind(
        "concern_events",
        "Concerns acknowledged or shared",
        (concerns.EVENT_SOURCE,),
        "staging.stg_canonical_concern_events",
        SAFEGUARDING,
    ),
    Kind(
        "cp_file_transfers",
        "Child protection files sent with leavers",
        (concerns.CP_FILE_SOURCE,),
        "staging.stg_canonical_cp_file_transfers",
        SAFEGUARDING,
    ),
    Kind(
        "trigger_reviews",
        "Decisions on safeguarding triggers",
        (),
        "app.trigger_reviews",
        SAFEGUARDING,
        {"decision": triggers.DECISIONS, "kind": _TRIGGER_KINDS},
    ),
    Kind(
        "trigger_rules",
        "Trigger rules the trust changed",
        (),
        "app.trigger_rule_overrides",
        SETTINGS,
    ),
    Kind(
        "retention_settings",
        "How long records are kept",
        (),
        "app.retention_settings",
        SETTINGS,
        {"category": {c.key: c.label for c in retention.CATEGORIES}},
    ),
)
BY_NAME = {k.name: k for k in KINDS}
_STAFF_REF = re.compile(r"app-user-(\d+)")
# A time stamp as raw keeps it (text, from the app's forms): shown to the minute.
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?")
_ACRONYMS = {
    "id": "ID",
    "upn": "UPN",
    "urn": "URN",
    "ehc": "EHC",
    "semh": "social, emotional and mental health",
    "sha256": "SHA-256",
}


@cache
def _sql(name: str) -> str:
    return resources.files("empowered.leaving").joinpath(f"queries/{name}.sql").read_text()


def heading(column: str) -> str:
    """A column's plain heading: ``next_review_due`` -> ``Next review due``."""
    words = [_ACRONYMS.get(w, w) for w in column.split("_")]
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


class Readable:
    """Turns stored values into what a person reads: staff named, words decrypted, pupils
    identified. One per export (it remembers each pupil and account it has looked up)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, keys: Keys) -> None:
        self._cipher = IdentityCipher(keys.identity_keys)
        self.reader = IdentityReader(keys)
        self._users = dict(con.execute("SELECT user_id, username FROM app.users").fetchall())
        # The warehouse's own words for codes the app shows by name.
        strategies = self._names(con, "dim_strategy", "strategy_code", "strategy_name")
        self.words: dict[str, Words] = {
            "strategy": strategies,
            "strategies": strategies,
            "intervention": self._names(
                con, "dim_intervention", "intervention_code", "intervention_name"
            ),
        }
        self._con = con
        self.pupils: dict[str, Row] = {}

    @staticmethod
    def _names(con: duckdb.DuckDBPyConnection, table: str, code: str, name: str) -> Words:
        if not table_exists(con, "core", table):
            return {}
        found = con.execute(f"SELECT {code}, {name} FROM core.{table}").fetchall()
        return {str(c): str(n) for c, n in found if n}

    def staff(self, text: str) -> str:
        """Each ``app-user-N`` in a value as the account's username."""

        def name(match: re.Match[str]) -> str:
            return str(self._users.get(int(match.group(1)), "a former account"))

        return _STAFF_REF.sub(name, text)

    def value(self, value: object, words: Words | None) -> object:
        value = reveal(self._cipher, value)
        if isinstance(value, datetime):  # to the minute, as a person writes it down
            return value.isoformat(sep=" ", timespec="minutes")
        if isinstance(value, date):
            return value.isoformat()
        if value is None:
            return ""
        if words is not None and str(value) in words:
            return words[str(value)]
        if words is not None and isinstance(value, str) and ";" in value:  # a list of codes
            return "; ".join(words.get(v, v) for v in value.split(";"))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str) and _STAMP.fullmatch(value):
            return _STAMP.sub(r"\1 \2", value)
        return self.staff(value) if isinstance(value, str) else value

    def pupil(self, pupil_key: str) -> Row:
        """The pupil's name, UPN and date of birth (empty where unknown)."""
        if pupil_key not in self.pupils:
            found = self._con.execute(
                "SELECT forename, surname, upn, date_of_birth FROM core.pupil_identity "
                "WHERE pupil_key = ? LIMIT 1",
                [pupil_key],
            ).fetchone()
            row = dict(
                zip(("forename", "surname", "upn", "date_of_birth"), found or (), strict=False)
            )
            born = self.reader.date_of_birth(row["date_of_birth"]) if found else None
            self.pupils[pupil_key] = {
                "pupil_key": pupil_key,
                "pupil_name": self.reader.name(row) if found else "",
                "upn": (self.reader.upn(row["upn"]) if found else None) or "",
                "date_of_birth": born.isoformat() if born else "",
            }
        return self.pupils[pupil_key]


@dataclass(frozen=True)
class Table:
    kind: Kind
    columns: list[str]  # stored names (``heading`` gives the words)
    rows: list[Row]  # readable values, by column


def read(con: duckdb.DuckDBPyConnection, kind: Kind, school_urn: str, readable: Readable) -> Table:
    """One kind's rows for one school, readable, the pupil named after their key."""
    schema, name = kind.read_from.split(".")
    if not table_exists(con, schema, name):  # an app table made on first use; none yet
        return Table(kind, [], [])
    text = _sql(kind.name)
    params = {"school": school_urn, "sources": list(kind.sources)}
    cursor = con.execute(text, {k: v for k, v in params.items() if f"${k}" in text})
    stored = [str(d[0]) for d in cursor.description]
    columns: list[str] = []
    for c in stored:
        columns += ["pupil_key", "pupil_name", "upn", "date_of_birth"] if c == "pupil_key" else [c]
    rows = []
    for values in cursor.fetchall():
        row = {
            c: readable.value(v, kind.words.get(c) or readable.words.get(c))
            for c, v in zip(stored, values, strict=True)
        }
        if row.get("pupil_key"):
            row.update(readable.pupil(str(row["pupil_key"])))
        rows.append(row)
    return Table(kind, columns, rows)


__all__ = ["BY_NAME", "KINDS", "SAFEGUARDING", "Kind", "Readable", "Table", "heading", "read"]
