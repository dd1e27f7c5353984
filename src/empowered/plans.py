"""A pupil's SEN support plan (or an EHC plan's outcomes), written and agreed in the app.

A plan is a source like any import: ONE ``plans`` row and one ``plan_outcomes`` row per
outcome land in raw together (:func:`~empowered.sources.landing.land_app_records`, one
transaction) as batches of their own with source ``app-plan``, and staging types, checks
and quarantines them as it would an imported file's. Every save (an edit, an agreement)
lands a NEW version of the same ``plan_id``: staging keeps the latest as current and the
earlier accepted rows are the plan's history. Each row carries ``plan_version``; the
plan's current outcomes are those saved with its latest version (``core.fct_plan_outcome``),
so an outcome left out of an edit stops being current while its earlier rows stay in
the history.

:func:`check_plan` applies the rules of ``stg_canonical_plans`` and
``stg_canonical_plan_outcomes`` (their rule numbers are in the comments) before anything
is landed, so a member of staff sees a mistake beside the field and "Saved" means the rows
will be accepted. :func:`land_plan` only lands (the demo's writer calls it for many plans
and builds once); :func:`build_plan` runs the incremental build a save touches.

Staff are named by :func:`~empowered.sources.capture.staff_ref`, never by name; the pupil
by UPN, as an MIS export would, so staging's pupil matching applies.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.sources.capture import KEY_SHAPE, Choices
from empowered.sources.landing import land_app_records
from empowered.views import queries
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "app-plan"
PLANS = ENTITIES["plans"]
OUTCOMES = ENTITIES["plan_outcomes"]
TOUCHED = frozenset({PLANS.raw_table, OUTCOMES.raw_table})
TEXT_MAX = 2000  # a box of the plan: a few paragraphs at most
SHORT_MAX = 200  # who, how often

PLAN_TYPES: Choices = (
    ("sen_support_plan", "SEN support plan"),
    ("ehc_plan", "EHC plan outcomes"),
)
# The four broad areas of need (SEND Code of Practice 6.28-6.35), written as imported
# outcomes already name them.
AREAS: tuple[str, ...] = (
    "Communication and interaction",
    "Cognition and learning",
    "Social, emotional and mental health",
    "Sensory and/or physical",
)
# The plan's needs, one box per broad area: (form field and column, area).
NEEDS: tuple[tuple[str, str], ...] = (
    ("needs_communication", AREAS[0]),
    ("needs_cognition", AREAS[1]),
    ("needs_semh", AREAS[2]),
    ("needs_sensory", AREAS[3]),
)
TEXTS: tuple[tuple[str, str], ...] = (
    ("strengths", "The child's strengths"),
    *NEEDS,
    ("important_to_me", "What is important to them"),
    ("how_to_support", "How best to support them"),
)
AGREED_WITH: Choices = (
    ("parents_and_pupil", "the parents or carers and the pupil"),
    ("parents", "the parents or carers"),
    ("pupil", "the pupil"),
)
OUTCOME_FIELDS = ("id", "text", "area", "target", "provision", "who", "how_often")
# A new plan offers this many outcome rows; an edit offers its outcomes and two more.
NEW_PLAN_OUTCOMES = 3
SPARE_OUTCOMES = 2
MAX_OUTCOMES = 20

Form = Mapping[str, Sequence[str]]  # field name -> every value posted (strategies: several)


def one(form: Form, name: str) -> str:
    values = form.get(name) or ()
    return (values[0] if values else "").strip()


@dataclass
class CheckedOutcome:
    outcome_id: str | None  # None: new, given an id when landed
    values: dict[str, str | None]


@dataclass
class CheckedPlan:
    """A plan form after checking: canonical values, its outcomes, a message per bad field
    (outcome fields are named ``o<n>_<field>``, as on the form)."""

    plan_id: str | None  # None: a new plan
    base_version: int | None  # the version the form was opened on
    values: dict[str, str | None] = field(default_factory=dict)
    outcomes: list[CheckedOutcome] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class PlanChanged(Exception):
    """Someone saved the plan after this form was opened: nothing was landed."""


def _date(text: str, checked: CheckedPlan, name: str, *, required: bool, what: str) -> date | None:
    if not text:
        if required:  # plans rule 10
            checked.errors[name] = f"Enter {what}, for example 2026-11-23."
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # plans rules 10, 13, 16; outcomes rule 10
        checked.errors[name] = f"Enter {what} as a date, for example 2026-11-23."
        return None


def _text(form: Form, name: str, checked: CheckedPlan, limit: int = TEXT_MAX) -> str | None:
    value = one(form, name)
    if len(value) > limit:
        checked.errors[name] = f"This is {len(value)} characters: keep it to {limit}."
    return value or None


def outcome_count(form: Form) -> int:
    text = one(form, "outcome_count")
    return min(int(text), MAX_OUTCOMES) if text.isdigit() else NEW_PLAN_OUTCOMES


def check_plan(
    form: Form,
    *,
    strategies: Choices,
    today: date,
    agree: bool = False,
) -> CheckedPlan:
    """Check a posted plan form (``agree``: the agreement form, whose plan fields are the
    current version's). The same rules as staging, plus what makes a plan reviewable."""
    plan_id = one(form, "plan_id") or None
    base = one(form, "base_version")
    checked = CheckedPlan(plan_id, int(base) if base.isdigit() else None)
    v = checked.values
    plan_type = one(form, "plan_type")
    if plan_type not in {code for code, _ in PLAN_TYPES}:  # plans rule 8
        checked.errors["plan_type"] = "Choose whether this is a SEN support plan or an EHC plan."
    v["plan_type"] = plan_type
    start = _date(
        one(form, "start_date"), checked, "start_date", required=True, what="the date it starts"
    )
    v["start_date"] = start.isoformat() if start else None
    due = _date(
        one(form, "next_review_due"),
        checked,
        "next_review_due",
        required=False,
        what="the next review date",
    )
    if due and start and due < start:
        checked.errors["next_review_due"] = "The next review comes after the plan starts."
    v["next_review_due"] = due.isoformat() if due else None
    for name, _ in TEXTS:
        v[name] = _text(form, name, checked)
    v["status"] = "draft"
    v["agreed_on"] = v["agreed_by"] = v["agreed_with"] = None
    if agree:
        with_whom = one(form, "agreed_with")
        if with_whom not in {code for code, _ in AGREED_WITH}:  # plans rule 17
            checked.errors["agreed_with"] = "Say who the plan was agreed with."
        agreed = _date(
            one(form, "agreed_on"),
            checked,
            "agreed_on",
            required=True,
            what="the day it was agreed",
        )  # plans rules 16 and 18
        if agreed and agreed > today:
            checked.errors["agreed_on"] = "The day it was agreed is in the future."
        v.update(
            status="agreed",
            agreed_on=agreed.isoformat() if agreed else None,
            agreed_with=with_whom or None,
        )
    known = {code for code, _ in strategies}
    written = 0
    for n in range(outcome_count(form)):
        got = {f: one(form, f"o{n}_{f}") for f in OUTCOME_FIELDS}
        codes = [c.strip() for c in form.get(f"o{n}_strategy") or () if c.strip()]
        removed = one(form, f"o{n}_remove") == "yes"
        if removed or not any(got[f] for f in OUTCOME_FIELDS if f != "id") and not codes:
            continue  # an empty spare row, or an outcome taken out of the plan
        written += 1
        if not got["text"]:
            checked.errors[f"o{n}_text"] = (
                "Write the outcome, or tick “Take out of the plan” to remove it."
            )
        elif len(got["text"]) > TEXT_MAX:
            checked.errors[f"o{n}_text"] = f"Keep the outcome to {TEXT_MAX} characters."
        if got["area"] not in AREAS:
            checked.errors[f"o{n}_area"] = "Choose the area of need this outcome is about."
        target = _date(
            got["target"], checked, f"o{n}_target", required=True, what="the date to achieve it by"
        )
        if target and start and target < start:
            checked.errors[f"o{n}_target"] = "The target date comes after the plan starts."
        unknown = [c for c in codes if c not in known]  # outcomes rule 12, and the catalogue
        if unknown:
            checked.errors[f"o{n}_strategy"] = "Choose strategies from the list shown."
        values: dict[str, str | None] = {
            "area_of_need": got["area"] or None,
            "outcome_text": got["text"] or None,
            "target_date": target.isoformat() if target else None,
            "provision": _text(form, f"o{n}_provision", checked),
            "strategy_codes": ";".join(dict.fromkeys(codes)) or None,
            "who": _text(form, f"o{n}_who", checked, SHORT_MAX),
            "how_often": _text(form, f"o{n}_how_often", checked, SHORT_MAX),
        }
        checked.outcomes.append(CheckedOutcome(got["id"] or None, values))
    if not written:
        checked.errors["o0_text"] = "Write at least one outcome the plan works towards."
    return checked


@dataclass(frozen=True)
class SavedPlan:
    plan_id: str
    version: int
    outcome_ids: tuple[str, ...]
    batch_ids: tuple[int, ...]
    touched: frozenset[str] = TOUCHED


def new_key() -> str:
    """A fresh idempotency key for one plan form (a hidden field)."""
    return secrets.token_urlsafe(24)


def _seed(staff: str, key: str | None, plan_id: str, now: datetime) -> str:
    # The same key from the same person is the same save (a double click, a resent post).
    return f"{SOURCE}|{staff}|key:{key}" if key else f"{SOURCE}|{plan_id}|{now.isoformat()}"


def _already_landed(con: duckdb.DuckDBPyConnection, seed: str) -> bool:
    digest = hashlib.sha256(f"{seed}|{PLANS.name}".encode()).hexdigest()
    try:
        return bool(queries.rows(con, "plan_save_landed", source=SOURCE, file_hash=digest))
    except duckdb.CatalogException:  # nothing landed yet at all
        return False


def latest_version(con: duckdb.DuckDBPyConnection, plan_id: str) -> int | None:
    """The plan's latest version landed (from raw: a save not yet built counts too)."""
    try:
        rows = queries.rows(con, "plan_latest_version", plan_id=plan_id)
    except duckdb.CatalogException:
        return None
    found = rows[0]["version"] if rows else None
    return int(found) if found is not None else None


def land_plan(
    con: duckdb.DuckDBPyConnection,
    checked: CheckedPlan,
    *,
    school_urn: str,
    upn: str,
    staff: str,
    keys: Keys,
    now: datetime,
    key: str | None = None,
) -> SavedPlan | None:
    """Land the checked plan as a new version of its plan (a new plan as version 1): the
    plan row and its outcomes in one transaction. None when this person's form with this
    key has landed already (a retried post: nothing written). Raises
    :class:`PlanChanged` when the plan has a version newer than the one the form was
    opened on. ``upn`` goes only into the raw row; it is never logged or shown."""
    if not checked.ok:
        raise ValueError("a plan with errors is never landed")
    if key is not None and not KEY_SHAPE.match(key):
        raise ValueError("not a plan form key")
    stamp = f"{now:%Y%m%d%H%M%S}"
    plan_id = checked.plan_id or f"AP-{stamp}-{secrets.token_hex(4)}"
    seed = _seed(staff, key, plan_id, now)
    if _already_landed(con, seed):
        return None
    latest = latest_version(con, plan_id) if checked.plan_id else None
    if checked.plan_id and (latest or 0) != (checked.base_version or 0):
        raise PlanChanged(plan_id)
    version = (latest or 0) + 1
    plan: dict[str, Any] = {
        **checked.values,
        "plan_id": plan_id,
        "school_urn": school_urn,
        "upn": upn,
        "end_date": None,
        "plan_version": str(version),
        "saved_by": staff,
        "saved_at": now.isoformat(timespec="seconds"),
    }
    if plan.get("status") == "agreed":
        plan["agreed_by"] = staff
    outcomes = []
    for o in checked.outcomes:
        outcome_id = o.outcome_id or f"PO-{stamp}-{secrets.token_hex(4)}"
        outcomes.append(
            {**o.values, "outcome_id": outcome_id, "plan_id": plan_id, "plan_version": str(version)}
        )
    what = "agreed" if plan.get("status") == "agreed" else "saved"
    batch_ids = land_app_records(
        con,
        [(PLANS, [plan]), (OUTCOMES, outcomes)],
        source=SOURCE,
        file_name=f"plan {plan_id} version {version} {what} in the app",
        seed=seed,
        keys=keys,
    )
    return SavedPlan(
        plan_id, version, tuple(str(o["outcome_id"]) for o in outcomes), tuple(batch_ids)
    )


def build_plan(con: duckdb.DuckDBPyConnection, saved: SavedPlan) -> BuildResult:
    """The incremental build of what a saved plan touched (the form calls it after
    :func:`land_plan`; the demo builds once for every writer instead)."""
    return build_duckdb(con, touched=set(saved.touched))
