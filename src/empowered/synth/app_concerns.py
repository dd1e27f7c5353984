"""The demo's safeguarding concerns and leavers' child protection files, landed through the
same service the concern form calls (``empowered.concerns``): a few concerns recorded by the
demo teacher and teaching assistant about their own pupils over the past weeks, the DSL's
acknowledgement of the oldest, and the receipt of every leaver's file but the latest one's,
so the DSL's home page shows one file still to chase.

The wording is plausible and deliberately non-graphic (what an adult noticed or a child
said, as staff are trained to write it); no real names. Land only: the caller builds.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

import duckdb

from empowered import concerns
from empowered.access.roles import Role
from empowered.identity import IdentityReader
from empowered.sources.capture import staff_ref

if TYPE_CHECKING:  # app_sources lists this writer: no import back at run time
    from empowered.synth.app_sources import DemoContext

# (category, what was seen or said, where, who else was there)
CONCERNS: tuple[tuple[str, str, str, str], ...] = (
    (
        "neglect",
        "Arrived at breakfast club hungry again and said there was no food at home last "
        "night. Jumper has been the same one all week and smells damp.",
        "Breakfast club",
        "Breakfast club assistant",
    ),
    (
        "emotional",
        'During circle time said "nobody at home talks to me unless I\'m in trouble" and '
        "then went quiet. Would not say more and I did not ask.",
        "Classroom",
        "Class teacher and the rest of the class",
    ),
    (
        "online",
        "Told me an older boy they play a game with online asked for their address and to "
        "keep it a secret. Showed me the message on a tablet.",
        "Library corner at lunchtime",
        "No one else",
    ),
    (
        "physical",
        'Noticed a bruise on the upper arm when changing for PE. Said "I fell off my bike" '
        "before I asked anything. Seemed anxious to cover it.",
        "PE changing area",
        "Teaching assistant",
    ),
    (
        "missing_education",
        "Mum said at the gate they may be moving away next week but did not know where. "
        "Child said they had been sleeping at a different house most nights.",
        "School gate at home time",
        "Another parent nearby",
    ),
    (
        "self_harm",
        "Saw thin scratches on the wrist while washing hands after art. When I said I had "
        "noticed, said it was the cat. Calm but avoided eye contact.",
        "Art room sinks",
        "No one else",
    ),
)
NEW_SCHOOLS = (
    "Oakfield Primary School",
    "St Aidan's Church of England Academy",
    "Riverside Community School",
    "Hollybank Junior School",
)
TIMES = (time(8, 40), time(10, 15), time(12, 25), time(13, 50), time(15, 20))


def _pupils(con: duckdb.DuckDBPyConnection, context: DemoContext, user_role: Role) -> list[str]:
    user = context.staff.get(user_role)
    if user is None:
        return []
    keys = set(user.pupils)
    if user.groups:
        keys |= {
            str(r[0])
            for r in con.execute(
                "SELECT pupil_key FROM core.bridge_group_member "
                "WHERE school_urn = ? AND list_contains(?, group_code)",
                [context.school_urn, list(user.groups)],
            ).fetchall()
        }
    on_roll = {
        str(r[0])
        for r in con.execute(
            "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ? AND is_on_roll",
            [context.school_urn],
        ).fetchall()
    }
    return sorted(keys & on_roll)


def _upns(con: duckdb.DuckDBPyConnection, context: DemoContext) -> dict[str, str]:
    reader = IdentityReader(context.keys)
    return {
        str(k): str(reader.upn(u))
        for k, u in con.execute(
            "SELECT pupil_key, upn FROM core.pupil_identity WHERE school_urn = ?",
            [context.school_urn],
        ).fetchall()
    }


def land_concerns(con: duckdb.DuckDBPyConnection, context: DemoContext) -> int:
    """Land the demo's concerns and file receipts; how many records were landed."""
    rng = random.Random(context.seed * 7919 + 13)
    upns = _upns(con, context)
    recorders = [
        (role, pupil)
        for role in (Role.TEACHER, Role.TEACHING_ASSISTANT)
        for pupil in _pupils(con, context, role)
    ]
    landed = 0
    first: tuple[str, datetime] | None = None
    if recorders:
        rng.shuffle(recorders)
        chosen = recorders[: min(len(CONCERNS), max(3, len(recorders) // 4))]
        for n, ((role, pupil), (category, words, place, people)) in enumerate(
            zip(chosen, CONCERNS, strict=False)
        ):
            day = context.today - timedelta(days=3 + 6 * n + rng.randrange(3))
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            at = datetime.combine(day, TIMES[rng.randrange(len(TIMES))])
            form = {
                "day": day.isoformat(),
                "time": at.strftime("%H:%M"),
                "category": category,
                "concern_text": words,
                "place": place,
                "people_present": people,
            }
            checked = concerns.check_concern(form, now=at + timedelta(minutes=20))
            assert checked.ok, checked.errors
            result = concerns.land_concern(
                con,
                checked,
                school_urn=context.school_urn,
                upn=upns[pupil],
                staff=staff_ref(context.staff[role].user_id),
                keys=context.keys,
                now=at + timedelta(minutes=20),
            )
            landed += 1
            first = (result.record_id, at)
    dsl = context.staff.get(Role.DSL)
    if first is not None and dsl is not None:
        # The oldest concern was read the next morning; the newer ones wait on the home page.
        concern_id, at = first
        concerns.land_event(
            con,
            school_urn=context.school_urn,
            concern_id=concern_id,
            event="acknowledged",
            by=staff_ref(dsl.user_id),
            keys=context.keys,
            now=at + timedelta(days=1),
        )
        landed += 1
    if dsl is not None:
        landed += _cp_files(con, context, rng, upns, staff_ref(dsl.user_id))
    return landed


def _cp_files(
    con: duckdb.DuckDBPyConnection,
    context: DemoContext,
    rng: random.Random,
    upns: dict[str, str],
    dsl: str,
) -> int:
    """Every leaver's file received within the five school days, but the latest leaver's:
    the DSL's reminder for that one stays on the home page."""
    leavers = con.execute(
        "SELECT pupil_key, leaving_date FROM core.fct_enrolment "
        "WHERE school_urn = ? AND leaving_date IS NOT NULL AND leaving_date <= ? "
        "ORDER BY leaving_date, pupil_key",
        [context.school_urn, context.today],
    ).fetchall()
    landed = 0
    for pupil, left in leavers[:-1]:
        received = left + timedelta(days=rng.randrange(1, 6))
        if received > context.today or str(pupil) not in upns:
            continue
        form = {
            "sent_on": max(left, received - timedelta(days=1)).isoformat(),
            "received_on": received.isoformat(),
            "new_school": NEW_SCHOOLS[rng.randrange(len(NEW_SCHOOLS))],
        }
        now = datetime.combine(received, time(16, 0))
        checked = concerns.check_cp_file(form, now=now, leaving_date=left)
        assert checked.ok, checked.errors
        concerns.land_cp_file(
            con,
            checked,
            school_urn=context.school_urn,
            upn=upns[str(pupil)],
            staff=dsl,
            keys=context.keys,
            now=now,
        )
        landed += 1
    return landed
