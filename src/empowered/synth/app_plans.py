"""The demo's plans kept in the app: SEN support plans, and a few EHC plans' outcomes, for
pupils on the SEN register at the demo's school, written by its SENCo account through the
SAME service the plan page calls (:func:`empowered.plans.check_plan` then
:func:`~empowered.plans.land_plan`; no build: the hook builds once).

Some plans are drafts, some agreed with the family, some in a second version (changed at
a review, then agreed). A pupil whose imported plan is still running gets it carried into
the app as its next version; the others get a new plan. The wording is varied and
plausible and names no one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from empowered import plans
from empowered.access.roles import Role
from empowered.identity import IdentityReader
from empowered.sources.capture import staff_ref
from empowered.synth.rng import substream
from empowered.views import queries
from empowered.views.capture import strategy_choices

if TYPE_CHECKING:  # app_sources lists this module's writer
    from empowered.synth.app_sources import DemoContext

SUPPORT_PLANS = 14
EHC_PLANS = 4
# The broad area of a primary need (reference/seeds/sen_need.csv) -> plans.AREAS.
AREA_OF = {"CI": 0, "CL": 1, "SEMH": 2, "SP": 3}

STRENGTHS = (
    "Kind and thoughtful with younger children; loves building and making things.",
    "A keen reader of animal facts; remembers detail brilliantly.",
    "Enthusiastic in PE and drama; a loyal friend to a small group.",
    "Creative and artistic; takes great care over presentation.",
    "Persistent with puzzles and number problems when they are broken into steps.",
    "Good sense of humour; responds well to praise from familiar adults.",
    "Confident with computers and enjoys showing others how to do things.",
)
NEEDS = {
    "needs_communication": (
        "Finds long spoken instructions hard to hold on to; needs them in short steps.",
        "Takes words literally and can find group conversations hard to follow.",
        "Is working on using full sentences to explain what they need.",
    ),
    "needs_cognition": (
        "Reading age about two years below chronological age; decoding is slow.",
        "Needs concrete resources to understand place value.",
        "Working memory difficulties make copying from the board hard.",
    ),
    "needs_semh": (
        "Can become anxious at transitions and unstructured times.",
        "Finds it hard to name feelings; becomes upset quickly when plans change.",
        "Low self-esteem about learning; avoids tasks that look hard.",
    ),
    "needs_sensory": (
        "Sensitive to noise in the hall and the dining room.",
        "Fine motor difficulties affect handwriting stamina.",
        "Needs regular movement breaks to stay regulated.",
    ),
}
IMPORTANT = (
    "Having a quiet place to go when things feel too much; time with the class pet.",
    "Knowing what is happening next; sitting near a friend.",
    "Being trusted with jobs; football at lunchtime.",
    "Drawing and Lego; a calm start to the morning.",
    "Being listened to; not being singled out in front of the class.",
)
HOW_TO_SUPPORT = (
    "Give one instruction at a time and check understanding privately.",
    "Warn about changes in advance and use the visual timetable.",
    "Offer a choice of two; praise effort specifically and quietly.",
    "Pre-teach key vocabulary; allow extra processing time before expecting an answer.",
    "Keep a consistent adult at transitions; plan a movement break mid-lesson.",
)
OUTCOMES = (
    (
        "Will use a visual timetable to move between activities with one adult prompt.",
        "Will ask an adult for help using words, a sign or a help card.",
        "Will take turns in a small-group game for ten minutes.",
        "Will follow a two-part spoken instruction in class.",
    ),
    (
        "Will read and spell the next 20 common exception words.",
        "Will recall number bonds to 20 in under a minute.",
        "Will plan a short piece of writing using a writing frame.",
        "Will complete a 10-minute independent task using a checklist.",
    ),
    (
        "Will name their feelings using the class feelings chart.",
        "Will use a chosen calming strategy when becoming upset, with one prompt.",
        "Will return to learning within ten minutes after a difficult moment.",
        "Will join a structured lunchtime club twice a week.",
    ),
    (
        "Will use the sloped board and pencil grip in every writing lesson.",
        "Will take part in daily sensory circuits and settle afterwards.",
        "Will wear ear defenders in assembly without adult reminders.",
        "Will move around school safely at busy times with the agreed support.",
    ),
)
PROVISION = (
    ("Precision teaching, three times a week", "Teaching assistant", "3 x 10 minutes a week"),
    ("Small-group phonics catch-up", "Intervention teacher", "Daily, 20 minutes"),
    ("Zones of Regulation sessions", "Learning mentor", "Weekly, 30 minutes"),
    ("Speech and language therapy programme", "Teaching assistant", "Twice a week"),
    ("Sensory circuit before school", "Teaching assistant", "Every morning"),
    ("Social skills group", "Learning mentor", "Weekly"),
    ("Quality-first teaching adjustments", "Class teacher", "Every lesson"),
)
CHANGED_TEXT = (
    "Will read and spell the next 30 common exception words.",
    "Will use a calming strategy independently when becoming upset.",
    "Will follow a three-part spoken instruction in class.",
)


def _pick(rng: np.random.Generator, options: tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


def _outcome_form(
    rng: np.random.Generator,
    n: int,
    area: int,
    start: date,
    codes: list[str],
    outcome_id: str = "",
    text: str | None = None,
) -> dict[str, list[str]]:
    provision, who, how_often = _pick(rng, PROVISION)
    chosen = list(rng.choice(codes, size=min(len(codes), int(rng.integers(1, 3))), replace=False))
    return {
        f"o{n}_id": [outcome_id],
        f"o{n}_text": [text or _pick(rng, OUTCOMES[area])],
        f"o{n}_area": [plans.AREAS[area]],
        f"o{n}_target": [(start + timedelta(days=int(rng.integers(80, 200)))).isoformat()],
        f"o{n}_provision": [provision],
        f"o{n}_strategy": [str(c) for c in chosen],
        f"o{n}_who": [who],
        f"o{n}_how_often": [how_often],
    }


def _plan_form(
    rng: np.random.Generator,
    *,
    plan_type: str,
    start: date,
    main_area: int,
    codes: list[str],
    plan_id: str = "",
) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {
        "plan_id": [plan_id],
        "base_version": [""],
        "plan_type": [plan_type],
        "start_date": [start.isoformat()],
        "next_review_due": [(start + timedelta(days=int(rng.integers(80, 110)))).isoformat()],
        "strengths": [_pick(rng, STRENGTHS)],
        "important_to_me": [_pick(rng, IMPORTANT)],
        "how_to_support": [_pick(rng, HOW_TO_SUPPORT)],
    }
    needs = list(NEEDS)
    for name in needs:
        if needs.index(name) == main_area or rng.random() < 0.3:
            form[name] = [_pick(rng, NEEDS[name])]
    count = int(rng.integers(3, 5))
    areas = [main_area] + [int(rng.integers(4)) for _ in range(count - 1)]
    form["outcome_count"] = [str(count)]
    for n, area in enumerate(areas):
        form.update(_outcome_form(rng, n, area, start, codes))
    return form


def write_plans(con: duckdb.DuckDBPyConnection, context: DemoContext) -> int:
    """Land the demo school's plans; returns how many plan versions were landed."""
    senco = context.staff.get(Role.SENCO)
    if senco is None:
        return 0
    staff = staff_ref(senco.user_id)
    rng = substream(context.seed, "app-plans")
    codes = [code for code, _ in strategy_choices(con)]
    reader = IdentityReader(context.keys)
    pupils = queries.rows(con, "demo_plan_pupils", school_urn=context.school_urn)
    support = [p for p in pupils if p["sen_provision"] == "K"][:SUPPORT_PLANS]
    ehc = [p for p in pupils if p["sen_provision"] == "E"][:EHC_PLANS]
    landed = 0
    for i, p in enumerate([*support, *ehc]):
        as_of: date = min(p["as_of_date"] or context.today, context.today)
        upn = str(reader.upn(p["upn"]))
        plan_type = "ehc_plan" if p["sen_provision"] == "E" else "sen_support_plan"
        area = AREA_OF.get(str(p["primary_broad_area"] or ""), int(rng.integers(4)))
        start = as_of - timedelta(days=int(rng.integers(30, 150)))
        plan_id = ""
        if p["plan_id"] is not None and p["plan_type"] == plan_type:
            # The imported plan still running: carried into the app as its next version.
            plan_id, start = str(p["plan_id"]), min(p["start_date"], as_of)
        form = _plan_form(
            rng, plan_type=plan_type, start=start, main_area=area, codes=codes, plan_id=plan_id
        )
        saved_on = datetime.combine(start, time(15, 30))
        kind = i % 3  # a draft; agreed at once; changed at a review, then agreed
        first = _land(con, form, context, upn, staff, saved_on, agree=kind == 1)
        landed += 1
        if kind != 2:
            continue
        # At the review: the first outcome reworded, the last taken out, then agreed.
        form["plan_id"] = [first.plan_id]
        form["base_version"] = [str(first.version)]
        for n, outcome_id in enumerate(first.outcome_ids):
            form[f"o{n}_id"] = [outcome_id]
        form["o0_text"] = [_pick(rng, CHANGED_TEXT)]
        form[f"o{len(first.outcome_ids) - 1}_remove"] = ["yes"]
        review = min(start + timedelta(days=int(rng.integers(40, 80))), as_of)
        _land(con, form, context, upn, staff, datetime.combine(review, time(16, 0)), agree=True)
        landed += 1
    return landed


def _land(
    con: duckdb.DuckDBPyConnection,
    form: dict[str, list[str]],
    context: DemoContext,
    upn: str,
    staff: str,
    when: datetime,
    *,
    agree: bool,
) -> plans.SavedPlan:
    if agree:
        form = form | {
            "agreed_with": [("parents_and_pupil", "parents")[when.day % 2]],
            "agreed_on": [when.date().isoformat()],
        }
    checked = plans.check_plan(
        form, strategies=strategy_choices(con), today=context.today, agree=agree
    )
    if not checked.ok:
        raise ValueError(f"a demo plan failed the form's checks: {checked.errors}")
    saved = plans.land_plan(
        con,
        checked,
        school_urn=context.school_urn,
        upn=upn,
        staff=staff,
        keys=context.keys,
        now=when,
    )
    assert saved is not None  # no form key: never taken for a retry
    return saved
