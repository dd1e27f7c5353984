"""One school's year: its register, daily records, learning, provision, plans and actions.

``generate_trust`` calls :func:`write_school_year` for each school in turn, or worker
processes do (synth.parallel). Everything here reads the school, its pupils and the trust's
pattern plan and writes into the sink it is given; the only state shared between schools
is ``next_ids``, the row ids that run across schools, and the realised figures added to
the school's planted patterns' records.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from empowered.synth.attendance import (
    OFF_ROLL,
    Exclusion,
    on_roll_matrix,
    simulate_attendance,
    status_matrix,
)
from empowered.synth.codes import ATTENDANCE_CODES
from empowered.synth.daily import simulate_daily
from empowered.synth.learning import abilities, assessments, provision
from empowered.synth.patterns import PatternPlan
from empowered.synth.people import Pupil
from empowered.synth.plans import plans_and_actions
from empowered.synth.schools import School
from empowered.synth.summaries import attendance_summary_rows
from empowered.synth.writer import CsvSink

SESSION_TEXT = np.array(["AM", "PM"], dtype=object)
CODE_TEXT = np.array(ATTENDANCE_CODES, dtype=object)
# Before the 2024 regulations (in force 19 August 2024) a part-time timetable was recorded
# as C, leave of absence; C2 did not exist yet. Registers write the code in force that day.
CODES_BEFORE_2024 = np.array(["C" if c == "C2" else c for c in ATTENDANCE_CODES], dtype=object)
NEW_CODES_FROM = "2024-08-19"
# Row ids run across schools (each id is unique in its file): ``next_ids`` holds the next
# number of each sequence.
ID_SEQUENCES = (
    "observations",
    "incidents",
    "strategy_uses",
    "exclusions",
    "provision_enrolments",
    "plans",
    "plan_outcomes",
    "plan_reviews",
    "actions",
)
# The columns of each file that hold an id of a sequence: its own rows' ids and those it
# refers to. Worker processes move them up to where their school's ids start.
ID_COLUMNS: dict[str, dict[str, str]] = {
    "exclusions": {"exclusion_id": "exclusions"},
    "observations": {"observation_id": "observations"},
    "strategy_uses": {"use_id": "strategy_uses"},
    "incidents": {"incident_id": "incidents"},
    "provision_enrolments": {"enrolment_id": "provision_enrolments"},
    "provision_sessions": {"enrolment_id": "provision_enrolments"},
    "plans": {"plan_id": "plans"},
    "plan_outcomes": {"outcome_id": "plan_outcomes", "plan_id": "plans"},
    "plan_reviews": {
        "review_id": "plan_reviews",
        "plan_id": "plans",
        "outcome_id": "plan_outcomes",
    },
    "actions": {"action_id": "actions"},
}
# The school whose MIS also gives a per-pupil attendance summary (the first).
SUMMARY_SCHOOL = 0


def write_school_year(
    sink: CsvSink,
    seed: int,
    school: School,
    members: list[Pupil],
    plan: PatternPlan,
    permanents: list[Exclusion],
    next_ids: dict[str, int],
    through: date | None,
) -> None:
    if not members:
        return
    cal = school.calendar
    day_text = np.array([date.fromordinal(int(d)).isoformat() for d in cal.days], dtype=object)
    status = status_matrix(school, members)
    att = simulate_attendance(seed, school, members, plan, permanents, status)
    upn = np.array([p.upn for p in members], dtype=object)
    _write_attendance(sink, school, att.codes, upn, day_text, through)

    row_of = {p.index: i for i, p in enumerate(members)}
    rows = []
    for e in att.exclusions:
        n = next_ids["exclusions"]
        next_ids["exclusions"] += 1
        reasons = [*e.reasons, "", ""][:3]
        rows.append(
            {
                "exclusion_id": f"EX{n:06d}",
                "school_urn": school.urn,
                "upn": members[row_of[e.pupil]].upn,
                "start_date": day_text[e.day_index],
                "category": e.category,
                "sessions": str(e.sessions),
                "reason_1": reasons[0],
                "reason_2": reasons[1],
                "reason_3": reasons[2],
            }
        )
    sink.write_rows("exclusions", rows)

    daily = simulate_daily(seed, school, members, plan, att.codes, status, day_text, next_ids)
    if daily.observations:
        sink.write("observations", daily.observations)
        sink.write("strategy_uses", daily.strategy_uses)
        sink.write("incidents", daily.incidents)

    roll = on_roll_matrix(school, members)
    ability = abilities(seed, school, members, status)
    sink.write("assessments", assessments(seed, school, members, ability, roll, day_text))
    prov = provision(seed, school, members, plan, ability, att.codes, status, day_text, next_ids)
    sink.write("provision_enrolments", prov.enrolments)
    sink.write("provision_sessions", prov.sessions)
    sink.write("groups", prov.groups)
    _realised_gains(school, plan, prov.gains)

    incident_days: dict[str, list[date]] = {}
    if daily.incidents:
        for u, d in zip(daily.incidents["upn"], daily.incidents["occurred_on"], strict=True):
            incident_days.setdefault(u, []).append(date.fromisoformat(d))
    tables = plans_and_actions(seed, school, members, plan, incident_days, next_ids, through)
    sink.write("plans", tables.plans)
    sink.write("plan_outcomes", tables.outcomes)
    sink.write("plan_reviews", tables.reviews)
    sink.write("actions", tables.actions)


def _write_attendance(
    sink: CsvSink,
    school: School,
    codes: npt.NDArray[np.int8],
    upn: npt.NDArray[np.object_],
    day_text: npt.NDArray[np.object_],
    through: date | None,
) -> None:
    pupil, day, session = np.nonzero(codes != OFF_ROLL)
    n = len(pupil)
    marks = codes[pupil, day, session]
    dates = day_text[day]
    # ISO dates compare correctly as text.
    in_force = np.where(dates >= NEW_CODES_FROM, CODE_TEXT[marks], CODES_BEFORE_2024[marks])
    columns = {
        "school_urn": [school.urn] * n,
        "upn": upn[pupil].tolist(),
        "date": dates.tolist(),
        "session": SESSION_TEXT[session].tolist(),
        "code": in_force.tolist(),
    }
    sink.write("attendance", columns)
    if school.index == SUMMARY_SCHOOL:
        # One school's MIS also reports its last autumn term as a per-pupil summary,
        # added up from these same marks (school_formats writes it in a real layout); in
        # an autumn still in progress, the term so far.
        started = [
            ht
            for ht in school.calendar.half_terms
            if ht.half_term <= 2 and (through is None or ht.start <= through)
        ]
        last = started[-1].year_index
        autumn = [ht for ht in started if ht.year_index == last]
        end = autumn[-1].end if through is None else min(autumn[-1].end, through)
        marks_text = zip(columns["upn"], columns["date"], columns["code"], strict=True)
        sink.write_rows(
            "attendance_summary",
            attendance_summary_rows(school.urn, list(marks_text), autumn[0].start, end),
        )


def _realised_gains(school: School, plan: PatternPlan, gains: dict[str, list[float]]) -> None:
    for (school_index, code), rec in plan.intervention_gain.items():
        if school_index != school.index:
            continue
        mine = gains.get(code, [])
        others = [g for c, values in sorted(gains.items()) if c != code for g in values]
        rec.fields["enrolments"] = len(mine)
        rec.fields["realised_mean_gain"] = round(float(np.mean(mine)), 3) if mine else None
        rec.fields["other_interventions_enrolments"] = len(others)
        rec.fields["other_interventions_mean_gain"] = (
            round(float(np.mean(others)), 3) if others else None
        )
