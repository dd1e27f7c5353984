"""The trust and its schools: identities, phases, rolls, calendars and timetables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from empowered.synth.calendar import SchoolCalendar, build_calendar
from empowered.synth.codes import (
    MIX_EHCP_MAINSTREAM,
    MIX_SPECIAL_COMPLEX,
    MIX_SPECIAL_SEMH,
    Weights,
)
from empowered.synth.names import PLACE_HEADS, PLACE_TAILS, TRUST_KINDS, TRUST_WORDS
from empowered.synth.rng import substream
from empowered.synth.timetable import Timetable, build_timetable

SPECIAL_ROLL = (80, 200)
# Establishment numbers of one phase: 2000-2999 primary, 4000-4999 secondary, 7xxx special.
ESTABS_PER_PHASE = 1000
CLASS_SIZE = (("primary", 30), ("secondary", 28), ("special", 9))


@dataclass
class Staff:
    staff_id: str
    role: str


@dataclass
class School:
    index: int
    urn: str
    la_code: str
    estab: str
    name: str
    phase: str  # primary, secondary or special
    special_kind: str  # "complex" or "semh" for special schools, "" otherwise
    lowest_year: int  # NC year group, R = 0
    highest_year: int
    roll: int  # pupils on roll at the start of the first year
    calendar: SchoolCalendar
    timetable: Timetable
    feeder_estabs: tuple[str, ...]  # schools that allocated UPNs before pupils arrived
    staff: list[Staff] = field(default_factory=list)
    # reg group code -> (class teacher, teaching assistants)
    class_staff: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def is_special(self) -> bool:
        return self.phase == "special"

    @property
    def class_size(self) -> int:
        return dict(CLASS_SIZE)[self.phase]

    @property
    def ehcp_mix(self) -> Weights:
        if self.special_kind == "semh":
            return MIX_SPECIAL_SEMH
        if self.special_kind == "complex":
            return MIX_SPECIAL_COMPLEX
        return MIX_EHCP_MAINSTREAM

    def staff_with_role(self, role: str) -> list[str]:
        return [s.staff_id for s in self.staff if s.role == role]


@dataclass(frozen=True)
class Trust:
    name: str
    schools: tuple[School, ...]
    first_year: int
    years: int


def _phases(n_schools: int) -> list[tuple[str, str]]:
    """(phase, special kind) per school: about one in four special, at least one."""
    n_special = max(1, round(n_schools / 4)) if n_schools >= 2 else 0
    n_main = n_schools - n_special
    n_secondary = max(1, round(n_main * 0.4)) if n_main >= 2 else 0
    phases = [("primary", "")] * (n_main - n_secondary) + [("secondary", "")] * n_secondary
    kinds = ("complex", "semh")
    phases += [("special", kinds[i % 2]) for i in range(n_special)]
    return phases


def _rolls(rng: np.random.Generator, phases: list[tuple[str, str]], pupils: int) -> list[int]:
    n_special = sum(1 for p, _ in phases if p == "special")
    special_cap = max(20, int(0.3 * pupils / max(n_special, 1)))
    rolls: list[int] = []
    for phase, kind in phases:
        if phase == "special":
            lo, hi = SPECIAL_ROLL
            if kind == "semh":
                lo, hi = lo, (lo + hi) // 2  # SEMH schools are usually the smaller ones
            rolls.append(min(int(rng.integers(lo, hi + 1)), special_cap))
        else:
            rolls.append(0)
    remaining = pupils - sum(rolls)
    weights = np.array(
        [
            (1.0 if phase == "primary" else 3.0) * rng.uniform(0.75, 1.25)
            if phase != "special"
            else 0.0
            for phase, _ in phases
        ]
    )
    if weights.sum() > 0:
        share = np.floor(weights / weights.sum() * remaining).astype(int)
        share[int(np.argmax(weights))] += remaining - int(share.sum())
        rolls = [r + int(s) for r, s in zip(rolls, share.tolist(), strict=True)]
    else:
        rolls[0] += remaining
    return rolls


def build_trust(seed: int, n_schools: int, pupils: int, first_year: int, years: int) -> Trust:
    rng = substream(seed, "trust")
    phases = _phases(n_schools)
    rolls = _rolls(rng, phases, pupils)
    n_las = min(3, 1 + n_schools // 6)
    las = [f"{int(x)}" for x in rng.choice(np.arange(201, 939), size=n_las, replace=False)]
    urns = rng.choice(np.arange(100000, 1000000), size=n_schools, replace=False)
    heads = rng.permutation(len(PLACE_HEADS))
    tails = rng.integers(0, len(PLACE_TAILS), size=n_schools)
    trust_name = (
        f"{TRUST_WORDS[int(rng.integers(len(TRUST_WORDS)))]} "
        f"{TRUST_KINDS[int(rng.integers(len(TRUST_KINDS)))]}"
    )
    used_estabs: set[str] = set()
    used_in_la: set[tuple[str, str]] = set()

    def new_estab(first_digit: int, la: str) -> str:
        # An establishment number need only be unique within its LA (LAESTAB is the
        # national key). Numbers stay unique across the trust while a phase's thousand
        # last, as in every trust made before; a trust of about 170 schools or more needs
        # more 2xxx numbers (five feeder primaries a school) than there are, and from then
        # on a number is unique within its LA only.
        digit = str(first_digit)
        per_la = sum(1 for c in used_estabs if c[0] == digit) >= ESTABS_PER_PHASE
        if per_la and sum(1 for a, c in used_in_la if a == la and c[0] == digit) >= (
            ESTABS_PER_PHASE
        ):
            raise ValueError(
                f"{n_schools} schools need more establishment numbers than {n_las} local "
                "authorities have; ask for fewer schools"
            )
        while True:
            code = f"{digit}{int(rng.integers(0, ESTABS_PER_PHASE)):03d}"
            if (la, code) not in used_in_la if per_la else code not in used_estabs:
                used_estabs.add(code)
                used_in_la.add((la, code))
                return code

    schools: list[School] = []
    for i, ((phase, kind), roll) in enumerate(zip(phases, rolls, strict=True)):
        la = las[i % n_las]
        place = PLACE_HEADS[int(heads[i % len(heads)])] + PLACE_TAILS[int(tails[i])]
        if phase == "primary":
            name, estab, years_range = f"{place} Primary Academy", new_estab(2, la), (0, 6)
        elif phase == "secondary":
            sixth_form = rng.random() < 0.5
            name, estab = f"{place} Academy", new_estab(4, la)
            years_range = (7, 13 if sixth_form else 11)
        elif kind == "semh":
            name, estab, years_range = f"{place} School", new_estab(7, la), (3, 11)
        else:
            name, estab, years_range = f"{place} Special School", new_estab(7, la), (0, 14)
        feeders = tuple(new_estab(2, la) for _ in range(5))
        school_rng = substream(seed, "calendar", i)
        schools.append(
            School(
                index=i,
                urn=str(int(urns[i])),
                la_code=la,
                estab=estab,
                name=name,
                phase=phase,
                special_kind=kind,
                lowest_year=years_range[0],
                highest_year=years_range[1],
                roll=roll,
                calendar=build_calendar(first_year, years, school_rng),
                timetable=build_timetable(school_rng, phase),
                feeder_estabs=feeders,
            )
        )
    return Trust(trust_name, tuple(schools), first_year, years)


def _staff_code(rng: np.random.Generator, used: set[str]) -> str:
    # MIS staff codes are usually three letters; random ones carry no initials.
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    while True:
        code = "".join(letters[int(i)] for i in rng.integers(0, len(letters), size=3))
        if code not in used:
            used.add(code)
            return code


def build_staff(seed: int, school: School, reg_groups: list[str], n_ehcp: int) -> None:
    """Fill ``school.staff`` and ``school.class_staff`` once the classes are known."""
    rng = substream(seed, "staff", school.index)
    used: set[str] = set()
    n_classes = len(reg_groups)
    if school.phase == "primary":
        teachers, tas = n_classes + 2, n_classes + n_ehcp // 2
        pastoral, leaders, therapists = 1, 2, 0
    elif school.phase == "secondary":
        teachers, tas = max(n_classes, school.roll // 17), school.roll // 80 + n_ehcp // 3 + 1
        pastoral, leaders, therapists = 4, 5, 0
    else:
        teachers, tas = n_classes + 1, 2 * n_classes + 1
        pastoral, leaders, therapists = 2, 3, 3
    roles = [
        ("leader", leaders),
        ("senco", 1),
        ("dsl", 1),
        ("pastoral", pastoral),
        ("teacher", teachers),
        ("teaching_assistant", tas),
        ("therapist", therapists),
    ]
    staff = [Staff(_staff_code(rng, used), role) for role, n in roles for _ in range(n)]
    school.staff = staff
    teacher_ids = school.staff_with_role("teacher")
    ta_ids = school.staff_with_role("teaching_assistant")
    per_class = 2 if school.is_special else 1
    for k, group in enumerate(reg_groups):
        class_tas: tuple[str, ...] = ()
        if school.phase != "secondary":
            class_tas = tuple(ta_ids[(k * per_class + j) % len(ta_ids)] for j in range(per_class))
        else:
            class_tas = tuple(ta_ids[int(i)] for i in rng.choice(len(ta_ids), size=2))
        school.class_staff[group] = (teacher_ids[k % len(teacher_ids)], class_tas)
