"""The demo's intervention groups and their session registers, entered as staff would.

For the school the demo accounts work at: two interventions of the school's own in the
catalogue, three groups run by the teaching assistant and the teacher, three or four
pupils in each (one moved between groups halfway, with the reason), entry measures, and a
register for every week so far: most sessions held, a few missed for a reason, a pupil
away now and then. Everything lands through :mod:`empowered.provision`, the service the
provision pages call (land only: the demo builds once afterwards).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import duckdb

from empowered import provision as pv
from empowered.access.roles import Role
from empowered.identity import IdentityReader
from empowered.sources.capture import staff_ref

if TYPE_CHECKING:  # app_sources lists this writer: a run-time import would be circular
    from empowered.synth.app_sources import DemoContext

WEEKS = 6
CATALOGUE = (
    {
        "name": "Precision teaching: sight words",
        "area_of_need": "Cognition and learning",
        "staff_role": "teaching_assistant",
        "minutes_per_session": "15",
        "sessions_per_week": "1",
        "weeks": "10",
        "group_size": "3",
        "hourly_rate": "16.50",
        "materials_cost": "30",
        "measure": "standardised_score",
    },
    {
        "name": "Social skills group (building bricks)",
        "area_of_need": "Social, emotional and mental health",
        "staff_role": "higher_level_teaching_assistant",
        "minutes_per_session": "40",
        "sessions_per_week": "1",
        "weeks": "12",
        "group_size": "4",
        "hourly_rate": "19.20",
        "materials_cost": "85",
        "training_cost": "120",
        "measure": "rating",
    },
)
GROUPS = (
    ("Sight words, Tuesday", 0, "tuesday", "09:10", "09:25"),
    ("Sight words, Thursday", 0, "thursday", "13:20", "13:35"),
    ("Building bricks club", 1, "wednesday", "12:35", "13:15"),
)
REASONS = (
    "Reading age well below their age; sight vocabulary gaps found in the autumn check.",
    "Finds turn-taking hard at playtime; class teacher asked for a small group.",
    "Slow to recall high-frequency words; parents keen to support at home.",
    "Anxious in larger groups; a calm small group to practise sharing and asking for help.",
    "Assessment showed weak word recognition despite good comprehension.",
)
MOVE_REASON = "The Tuesday slot clashes with their new speech and language sessions."
WEEKDAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4}


def _pupils(con: duckdb.DuckDBPyConnection, context: DemoContext) -> list[tuple[str, str]]:
    """(pupil_key, UPN) of pupils on roll at the school with SEN support or a plan, the
    demo's likely candidates for an intervention (UPNs only go into the landed rows)."""
    rows = con.execute(
        "SELECT i.pupil_key, i.upn FROM core.pupil_identity AS i "
        "JOIN core.fct_enrolment AS e USING (pupil_key, school_urn) "
        "LEFT JOIN core.dim_sen_status_history AS h ON h.pupil_key = i.pupil_key "
        "AND h.school_urn = i.school_urn AND h.is_current "
        "WHERE i.school_urn = ? AND e.is_on_roll "
        "ORDER BY h.sen_provision IN ('K', 'E') DESC, i.pupil_key LIMIT 40",
        [context.school_urn],
    ).fetchall()
    reader = IdentityReader(context.keys)
    return [(str(k), str(reader.upn(u))) for k, u in rows if u is not None]


def write_provision(con: duckdb.DuckDBPyConnection, context: DemoContext) -> int:
    """Land the demo's catalogue entries, groups, enrolments and registers; how many
    records were landed."""
    senco = context.staff.get(Role.SENCO)
    if senco is None:
        return 0
    assistant = context.staff.get(Role.TEACHING_ASSISTANT, senco)
    teacher = context.staff.get(Role.TEACHER, senco)
    rng = random.Random(context.seed * 7919 + 13)
    keys = context.keys
    manager = staff_ref(senco.user_id)
    counter = iter(range(1_000_000))

    def at(day: date) -> datetime:
        # A distinct moment per save: the landing seeds and new ids are made from it.
        return datetime.combine(day, time(16, 0)) + timedelta(seconds=next(counter))

    def key() -> str:
        return f"demo-provision-{context.seed}-{next(counter)}"

    start = context.today - timedelta(weeks=WEEKS)
    landed = 0
    known = con.execute("SELECT intervention_code FROM core.dim_intervention").fetchall()
    taken = {str(c) for (c,) in known}
    codes: list[tuple[str, int]] = []
    for entry in CATALOGUE:
        checked = pv.check_intervention(
            entry, school_urn=context.school_urn, code=None, taken=taken
        )
        assert checked.ok, checked.errors
        saved = pv.land_intervention(
            con, checked, staff=manager, keys=keys, now=at(start), key=key()
        )
        taken.add(saved.record_id)
        codes.append((saved.record_id, int(entry["minutes_per_session"])))
        landed += 1

    runners = [staff_ref(assistant.user_id), staff_ref(teacher.user_id)]
    pupils = _pupils(con, context)
    rng.shuffle(pupils)
    groups: list[tuple[str, str, int, int]] = []  # group id, code, minutes, weekday
    for n, (name, which, weekday_name, begins, ends) in enumerate(GROUPS):
        code, minutes = codes[which]
        form = {
            "group_name": name,
            "intervention": code,
            "day": weekday_name,
            "start_time": begins,
            "end_time": ends,
            "start_date": start.isoformat(),
        }
        staff = [runners[n % 2]] if n < 2 else runners
        checked = pv.check_group(
            form, staff, interventions=[c for c, _ in codes], staff=runners, today=context.today
        )
        assert checked.ok, checked.errors
        saved = pv.land_group(
            con,
            checked,
            school_urn=context.school_urn,
            group_id=None,
            staff=manager,
            keys=keys,
            now=at(start),
            key=key(),
        )
        groups.append((saved.record_id, code, minutes, WEEKDAY[weekday_name]))
        landed += 1

    # Members: three or four pupils a group, from the first week; entry measures at once.
    enrolments: list[tuple[pv.Enrolment, int]] = []  # the enrolment, the group's index
    for g, (group_id, code, _, _) in enumerate(groups):
        for _ in range(3 + g % 2):
            if not pupils:
                break
            _pupil, upn = pupils.pop()
            checked = pv.check_start(
                {"start_date": start.isoformat(), "reason": rng.choice(REASONS)},
                today=context.today,
            )
            enrolment = pv.started(
                checked,
                school_urn=context.school_urn,
                upn=upn,
                intervention_code=code,
                group_id=group_id,
                staff_id=runners[g % 2],
                sessions_planned=10,
                now=at(start),
            )
            score = rng.randint(72, 88) if "sight" in GROUPS[g][0].lower() else rng.randint(1, 3)
            measures = pv.check_measures({"pre_date": start.isoformat(), "pre_score": str(score)})
            enrolment = pv.measured(enrolment, measures)
            pv.land_enrolments(con, [enrolment], staff=manager, keys=keys, now=at(start), key=key())
            enrolments.append((enrolment, g))
            landed += 1

    # Halfway, the first pupil of the Tuesday group moves to the Thursday group: the one
    # enrolment ends (moved) and another starts, landed together.
    moved_on = start + timedelta(weeks=WEEKS // 2)
    first, _ = enrolments[0]
    ended = pv.ended(
        first,
        pv.check_end(
            {"end_date": moved_on.isoformat(), "end_reason": "moved"},
            start_date=start,
            today=context.today,
        ),
    )
    to_id, to_code, _, _ = groups[1]
    joined = pv.started(
        pv.check_start(
            {"start_date": moved_on.isoformat(), "reason": MOVE_REASON}, today=context.today
        ),
        school_urn=context.school_urn,
        upn=first.upn,
        intervention_code=to_code,
        group_id=to_id,
        staff_id=runners[1],
        sessions_planned=10,
        now=at(moved_on),
    )
    pv.land_enrolments(con, [ended, joined], staff=manager, keys=keys, now=at(moved_on), key=key())
    enrolments[0] = (ended, 0)
    enrolments.append((joined, 1))
    landed += 2

    # A register for every week so far, recorded by whoever runs the group.
    for g, (group_id, _, minutes, weekday) in enumerate(groups):
        recorder = staff_ref((assistant if g % 2 == 0 else teacher).user_id)
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
        while day < context.today:
            members = [
                e.enrolment_id
                for e, i in enrolments
                if i == g
                and (e.start_date or "") <= day.isoformat()
                and (e.end_date is None or day.isoformat() <= e.end_date)
            ]
            if members:
                missed = rng.random() < 0.12
                form = {
                    "day": day.isoformat(),
                    "delivered": "no" if missed else "yes",
                    "missed_reason": rng.choice(pv.MISSED_REASONS[:4])[0] if missed else "",
                    "minutes": str(minutes),
                }
                here = [m for m in members if rng.random() > 0.1]
                register, errors = pv.check_register(
                    form, here, members=members, default_minutes=minutes, today=context.today
                )
                assert register is not None, errors
                pv.land_register(
                    con,
                    register,
                    group_id=group_id,
                    members=members,
                    recorded_by=recorder,
                    keys=keys,
                    now=at(day),
                    key=key(),
                )
                landed += len(members)
            day += timedelta(weeks=1)
    return landed
