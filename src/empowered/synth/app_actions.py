"""The demo's actions: steps the SENCo and the DSL agreed for pupils at the demo school,
given to the demo accounts (teacher, teaching assistant, SENCo, DSL), some overdue, some
done, one cancelled, landed through the actions service the form calls
(``empowered.actions``: checked, then landed; the demo's hook builds once at the end).

Each owner is given actions only about pupils they may see (``policy.may_own_action``),
as the form offers them; the wording is plausible and names no one.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

import duckdb

from empowered import actions as act
from empowered.access.policy import may_own_action, scope_for
from empowered.access.roles import Role
from empowered.access.users import User
from empowered.sources.capture import staff_ref
from empowered.views import OutOfScope, PupilScope
from empowered.views.capture import capture_target

if TYPE_CHECKING:  # app_sources lists this writer: imported for the annotations only
    from empowered.synth.app_sources import DemoContext

# What each kind of action says: varied, as different colleagues would write it.
WORDING: dict[str, tuple[str, ...]] = {
    "move_intervention": (
        "Move from the Year group reading catch-up to one-to-one precision teaching; "
        "the group pace is too quick.",
        "Swap the lunchtime social skills group for the smaller Lego-based group "
        "from next half term.",
        "End the handwriting group (targets met) and start the fine motor skills sessions instead.",
    ),
    "refer_specialist": (
        "Refer to the speech and language therapy service for an updated assessment.",
        "Request an educational psychologist consultation about working memory.",
        "Ask the school nurse to review the sensory needs questionnaire with parents.",
    ),
    "book_training": (
        "Book the autism awareness twilight session for the class team.",
        "Book precision teaching training for the teaching assistant.",
        "Arrange de-escalation refresher training before the residential trip.",
    ),
    "meet_family": (
        "Meet parents to share the new support plan and hear how mornings are going.",
        "Invite the family in to talk about the change in attendance since October.",
        "Phone home to agree a shared reward chart between school and home.",
    ),
    "update_plan": (
        "Update the support plan with the new reading outcome agreed at the review.",
        "Add the movement break strategy to the plan and share it with cover staff.",
        "Rewrite the communication outcome so that it can be measured at the next review.",
    ),
    "follow_up": (
        "Check in weekly about friendships at break time and note what helps.",
        "Follow up the missed sessions with the intervention lead.",
        "Look at the behaviour log with the class teacher after two weeks.",
    ),
}
# Where the demo's actions were agreed, and who agreed them.
SOURCES = ("review", "review", "meeting", "register", "pupil", "trigger")
OWNER_ROLES = (Role.TEACHER, Role.TEACHING_ASSISTANT, Role.SENCO, Role.DSL)
PER_OWNER = 4


def _pupils_for(con: duckdb.DuckDBPyConnection, owner: User, ctx: DemoContext) -> list[str]:
    """Pupils on roll at the school that this account may be given actions about."""
    scope = scope_for(con, owner, today=ctx.today)
    on_roll = [
        str(r[0])
        for r in con.execute(
            "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ? "
            "AND (leaving_date IS NULL OR leaving_date >= ?) ORDER BY pupil_key",
            [ctx.school_urn, ctx.today],
        ).fetchall()
    ]
    return [p for p in on_roll if may_own_action(scope, p)]


def write_actions(con: duckdb.DuckDBPyConnection, ctx: DemoContext) -> int:
    """Land the demo school's actions; returns how many rows were landed."""
    rng = random.Random(ctx.seed * 7919 + 13)
    senco, dsl = ctx.staff.get(Role.SENCO), ctx.staff.get(Role.DSL)
    if senco is None:
        return 0
    landed = 0
    reader = PupilScope.school(ctx.school_urn)
    kinds = list(WORDING)
    for owner_role in OWNER_ROLES:
        owner = ctx.staff.get(owner_role)
        if owner is None:
            continue
        pupils = _pupils_for(con, owner, ctx)
        if not pupils:
            continue
        ref = staff_ref(owner.user_id)
        owners = {ref: act.Owner(ref, owner.username, owner.role.label)}
        for n in range(PER_OWNER):
            pupil = pupils[rng.randrange(len(pupils))]
            try:
                upn = capture_target(con, pupil, scope=reader, keys=ctx.keys).upn
            except OutOfScope:
                continue
            kind = kinds[(n + rng.randrange(len(kinds))) % len(kinds)]
            source = SOURCES[rng.randrange(len(SOURCES))]
            raiser = dsl if source == "trigger" and dsl is not None else senco
            # Agreed a few days to six weeks ago; due two to four weeks after: the first
            # of each owner's is long overdue, the last not yet due.
            agreed = ctx.today - timedelta(days=[40, 25, 12, 3][n] + rng.randrange(3))
            due = agreed + timedelta(days=14 + rng.randrange(15))
            at = datetime.combine(agreed, time(8 + rng.randrange(8), rng.randrange(60)))
            checked = act.check_action(
                {
                    "kind": kind,
                    "description": rng.choice(WORDING[kind]),
                    "owner": ref,
                    "due_date": due.isoformat(),
                    "source": source,
                },
                owners=owners,
                today=agreed,
            )
            action = act.from_checked(
                checked,
                # The form's id, drawn from the demo's seed so the demo is repeatable.
                action_id=f"AA-{agreed:%Y%m%d}-{rng.getrandbits(48):012x}",
                school_urn=ctx.school_urn,
                upn=upn,
                raised_by=staff_ref(raiser.user_id),
            )
            act.land_action(con, action, keys=ctx.keys, now=at)
            landed += 1
            # The second of each owner's was done in time; one was cancelled.
            status = {1: "done", 2: "cancelled" if owner_role is Role.SENCO else None}.get(n)
            if status is not None:
                when = min(due, ctx.today) - timedelta(days=1)
                current = {
                    "action_id": action.action_id,
                    "school_urn": action.school_urn,
                    "raised_on": agreed,
                    "source": action.source,
                    "description": action.description,
                    "owner_role": None,
                    "due_date": action.due_date,
                    "kind": action.kind,
                    "owner": action.owner,
                    "raised_by": action.raised_by,
                    "ref": None,
                }
                act.land_status(
                    con,
                    current,
                    upn=upn,
                    status=status,
                    by=ref if status == "done" else staff_ref(senco.user_id),
                    keys=ctx.keys,
                    now=datetime.combine(max(when, agreed), time(15, 30)),
                )
                landed += 1
    return landed
