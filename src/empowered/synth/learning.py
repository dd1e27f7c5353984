"""Attainment and provision: termly assessments, intervention enrolments and sessions.

Each pupil has a latent reading and maths ability on the standardised scale (mean 100,
SD 15), lower on average with SEN. Termly tests add test noise around it; interventions
record a pre-test and a post-test, where the post-test adds the intervention's gain (about
+1 point everywhere, the planted gain for a planted intervention in its school).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from empowered.synth.codes import ATT, IN_SCHOOL_CODES, INTERVENTIONS
from empowered.synth.patterns import USUAL_GAIN, PatternPlan
from empowered.synth.people import Pupil
from empowered.synth.rng import substream
from empowered.synth.schools import School

Columns = dict[str, list[Any]]
ABILITY = (("N", 102.0, 13.0), ("K", 88.0, 12.0), ("E", 80.0, 12.0))
SPECIAL_ABILITY = (72.0, 7.0)
SCORE_RANGE = (69, 141)
GENERIC = ("maths_catch_up", "precision_teaching", "reading_comprehension", "phonics_catch_up")
CATALOGUE = {row[0]: row for row in INTERVENTIONS}


@dataclass
class Abilities:
    reading: npt.NDArray[np.float64]
    maths: npt.NDArray[np.float64]


def abilities(
    seed: int, school: School, pupils: list[Pupil], status: npt.NDArray[np.int8]
) -> Abilities:
    rng = substream(seed, "ability", school.index)
    n = len(pupils)
    mean = np.zeros(n)
    sd = np.zeros(n)
    first = status.max(axis=1)  # the highest provision seen: SEN shows in attainment
    for code, m, s in ABILITY:
        sel = first == {"N": 0, "K": 1, "E": 2}[code]
        mean[sel], sd[sel] = m, s
    if school.is_special:
        mean[:], sd[:] = SPECIAL_ABILITY
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    return Abilities(mean + sd * z1, mean + sd * (0.7 * z1 + 0.71 * z2))


def _score(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    return np.clip(np.rint(x), *SCORE_RANGE).astype(np.int64)


def _age_months(dob: date, on: date) -> int:
    return (on.year - dob.year) * 12 + on.month - dob.month - (on.day < dob.day)


def assessments(
    seed: int,
    school: School,
    pupils: list[Pupil],
    ability: Abilities,
    roll: npt.NDArray[np.bool_],
    day_text: npt.NDArray[np.object_],
) -> Columns:
    """Termly reading and maths standardised scores, and reading ages for some pupils."""
    rng = substream(seed, "assessments", school.index)
    cal = school.calendar
    cols: Columns = {
        k: []
        for k in ("school_urn", "upn", "assessed_on", "subject", "assessment", "measure", "value")
    }
    reading_age = rng.random(len(pupils)) < 0.6
    for ht in cal.half_terms:
        if ht.half_term not in (2, 4, 6):
            continue
        # Tests sit about three weeks before the end of each term.
        d = max(cal.index_on_or_after(ht.end) - 15, 0)
        when = date.fromordinal(int(cal.days[d]))
        for i, p in enumerate(pupils):
            yg = p.year_group0 + ht.year_index
            if not roll[i, d] or not 1 <= yg <= 11:
                continue
            if p.status_on(when).primary in ("PMLD", "SLD"):
                continue  # standardised tests are not used with these pupils
            rows = [
                (
                    "reading",
                    "Termly reading test",
                    "standardised_score",
                    int(_score(ability.reading[i : i + 1] + rng.normal(0, 3.5))[0]),
                ),
                (
                    "maths",
                    "Termly maths test",
                    "standardised_score",
                    int(_score(ability.maths[i : i + 1] + rng.normal(0, 3.5))[0]),
                ),
            ]
            if reading_age[i] and p.status_on(when).provision != "N" and yg <= 9:
                age = _age_months(p.dob, when)
                ra = age * (1 + (ability.reading[i] - 100) / 15 * 0.18) + rng.normal(0, 3)
                rows.append(
                    (
                        "reading",
                        "Single word reading test",
                        "reading_age_months",
                        int(np.clip(round(ra), 48, age + 36)),
                    )
                )
            for subject, name, measure, value in rows:
                cols["school_urn"].append(school.urn)
                cols["upn"].append(p.upn)
                cols["assessed_on"].append(day_text[d])
                cols["subject"].append(subject)
                cols["assessment"].append(name)
                cols["measure"].append(measure)
                cols["value"].append(str(value))
    return cols


@dataclass
class ProvisionTables:
    enrolments: Columns = field(default_factory=dict)
    sessions: Columns = field(default_factory=dict)
    groups: Columns = field(default_factory=dict)
    gains: dict[str, list[float]] = field(default_factory=dict)  # standardised-score gains


def _suitable(code: str, year_group: int, special: bool) -> bool:
    if code == "phonics_catch_up":
        return year_group <= 3
    if code == "reading_comprehension":
        return 3 <= year_group <= 11
    if code == "fine_motor":
        return year_group <= 8
    if code == "sensory_circuits":
        return special or year_group <= 6
    if code == "lego_therapy":
        return year_group <= 9
    return True


def provision(
    seed: int,
    school: School,
    pupils: list[Pupil],
    plan: PatternPlan,
    ability: Abilities,
    codes: npt.NDArray[np.int8],
    status: npt.NDArray[np.int8],
    day_text: npt.NDArray[np.object_],
    next_ids: dict[str, int],
) -> ProvisionTables:
    rng = substream(seed, "provision", school.index)
    cal = school.calendar
    in_school = np.asarray(
        np.isin(codes, [ATT[c] for c in IN_SCHOOL_CODES]).any(axis=2), dtype=np.bool_
    )
    roll = codes[:, :, 0] >= 0
    tas = school.staff_with_role("teaching_assistant") or school.staff_with_role("teacher")
    therapists = school.staff_with_role("therapist")
    out = ProvisionTables(
        enrolments={
            k: []
            for k in (
                "enrolment_id",
                "school_urn",
                "upn",
                "intervention_code",
                "staff_id",
                "start_date",
                "end_date",
                "sessions_planned",
                "pre_date",
                "pre_score",
                "post_date",
                "post_score",
            )
        },
        sessions={k: [] for k in ("enrolment_id", "session_date", "delivered", "minutes")},
        groups={k: [] for k in ("school_urn", "group_code", "staff_id", "upn")},
    )
    for ht in cal.half_terms:
        if ht.half_term not in (1, 3, 5):
            continue
        lo = cal.index_on_or_after(ht.start) + 5
        _, year_hi = cal.year_bounds(ht.year_index)
        weeks = int(rng.integers(8, 11))
        hi = min(lo + 5 * weeks, year_hi)  # exclusive
        if hi - lo < 15:
            continue
        chosen: dict[str, list[int]] = {}
        for i, p in enumerate(pupils):
            if not (roll[i, lo] and roll[i, hi - 1]):
                continue
            yg = p.year_group0 + ht.year_index
            sen = status[i, lo] > 0
            if rng.random() >= ((0.25 if school.is_special else 0.4) if sen else 0.03):
                continue
            need = p.status_on(date.fromordinal(int(cal.days[lo]))).primary
            options = [
                c
                for c in CATALOGUE
                if _suitable(c, yg, school.is_special)
                and (c in GENERIC or (sen and CATALOGUE[c][3] == need))
            ]
            if not options:
                continue
            weights = np.array([3.0 if CATALOGUE[c][3] == need else 1.0 for c in options])
            code = options[int(rng.choice(len(options), p=weights / weights.sum()))]
            chosen.setdefault(code, []).append(i)
        # A planted intervention runs every block with a full group or more.
        for (school_index, code), _rec in plan.intervention_gain.items():
            if school_index != school.index:
                continue
            have = set(chosen.get(code, []))
            spare = [
                i
                for i, p in enumerate(pupils)
                if roll[i, lo]
                and roll[i, hi - 1]
                and i not in have
                and _suitable(code, p.year_group0 + ht.year_index, school.is_special)
            ]
            extra = max(0, 6 - len(have))
            if spare and extra:
                picks = rng.choice(len(spare), size=min(extra, len(spare)), replace=False)
                chosen.setdefault(code, []).extend(sorted(spare[int(j)] for j in picks))
        for code in sorted(chosen):
            _enrol(
                rng,
                school,
                pupils,
                plan,
                ability,
                code,
                sorted(chosen[code]),
                lo,
                hi,
                ht.academic_year,
                ht.half_term,
                in_school,
                day_text,
                next_ids,
                tas,
                therapists,
                out,
            )
    return out


def _enrol(
    rng: np.random.Generator,
    school: School,
    pupils: list[Pupil],
    plan: PatternPlan,
    ability: Abilities,
    code: str,
    members: list[int],
    lo: int,
    hi: int,
    academic_year: str,
    half_term: int,
    in_school: npt.NDArray[np.bool_],
    day_text: npt.NDArray[np.object_],
    next_ids: dict[str, int],
    tas: list[str],
    therapists: list[str],
    out: ProvisionTables,
) -> None:
    cal = school.calendar
    _, name, _, _, measure, size, minutes, *_ = CATALOGUE[code]
    planted = plan.intervention_gain.get((school.index, code))
    gain = float(planted.fields["mean_gain"]) if planted else USUAL_GAIN
    gains: list[float] = []
    for g, start in enumerate(range(0, len(members), size)):
        group = members[start : start + size]
        staff = tas[int(rng.integers(len(tas)))]
        if code == "speech_language_group" and therapists:
            staff = therapists[int(rng.integers(len(therapists)))]
        per_week = 5 if code == "precision_teaching" else int(rng.integers(2, 4))
        weekdays = sorted(rng.choice(5, size=per_week, replace=False).tolist())
        planned = [d for d in range(lo, hi) if int(cal.weekday[d]) in weekdays]
        staff_missed = rng.random(len(planned)) < 0.06  # staff absence, the whole group
        # Named as a school names its groups in the MIS, so staff pages show words.
        group_code = f"{name} {academic_year} half term {half_term} group {chr(65 + g)}"
        for i in group:
            p = pupils[i]
            enrolment = f"EN{next_ids['provision_enrolments']:07d}"
            next_ids["provision_enrolments"] += 1
            pre_d, post_d = planned[0], planned[-1]
            pre_date = date.fromordinal(int(cal.days[pre_d]))
            post_date = date.fromordinal(int(cal.days[post_d]))
            if measure == "standardised_score":
                maths = code in ("maths_catch_up", "precision_teaching")
                base = ability.maths[i] if maths else ability.reading[i]
                pre = int(_score(np.array([base + rng.normal(0, 4)]))[0])
                post = int(_score(np.array([pre + gain + rng.normal(0, 4)]))[0])
                gains.append(post - pre)
            elif measure == "reading_age_months":
                age = _age_months(p.dob, pre_date)
                pre = int(round(age * (1 + (ability.reading[i] - 100) / 15 * 0.18)))
                elapsed = (post_date - pre_date).days / 30.4
                post = pre + int(round(elapsed * rng.uniform(0.8, 1.8)))
            else:
                pre = int(rng.integers(2, 7))
                post = min(10, pre + int(rng.choice([0, 1, 1, 2, 2, 3])))
            delivered = [in_school[i, d] and not staff_missed[k] for k, d in enumerate(planned)]
            out.enrolments["enrolment_id"].append(enrolment)
            out.enrolments["school_urn"].append(school.urn)
            out.enrolments["upn"].append(p.upn)
            out.enrolments["intervention_code"].append(code)
            out.enrolments["staff_id"].append(staff)
            out.enrolments["start_date"].append(day_text[pre_d])
            out.enrolments["end_date"].append(day_text[post_d])
            out.enrolments["sessions_planned"].append(str(len(planned)))
            out.enrolments["pre_date"].append(day_text[pre_d])
            out.enrolments["pre_score"].append(str(pre))
            out.enrolments["post_date"].append(day_text[post_d])
            out.enrolments["post_score"].append(str(post))
            for d, ok in zip(planned, delivered, strict=True):
                out.sessions["enrolment_id"].append(enrolment)
                out.sessions["session_date"].append(day_text[d])
                out.sessions["delivered"].append("Y" if ok else "N")
                out.sessions["minutes"].append(str(minutes if ok else 0))
            out.groups["school_urn"].append(school.urn)
            out.groups["group_code"].append(group_code)
            out.groups["staff_id"].append(staff)
            out.groups["upn"].append(p.upn)
    out.gains.setdefault(code, []).extend(gains)
