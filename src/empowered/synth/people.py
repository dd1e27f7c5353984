"""Pupils: identity, roll dates, characteristics history and SEN status history."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from empowered.synth.codes import (
    EHCP_RATE_START,
    ETHNIC_PROFILE,
    ETHNICITY,
    FSM_RATE,
    K_TO_E_PER_YEAR,
    K_TO_N_PER_YEAR,
    MALE_RATE,
    MIX_SEN_SUPPORT,
    N_TO_K_PER_YEAR,
    SEN_SUPPORT_RATE_START,
    SPECIAL_EHCP_SHARE,
    Weights,
)
from empowered.synth.names import NAME_POOLS
from empowered.synth.rng import quota, substream, weighted_choice
from empowered.synth.schools import School, Trust
from empowered.upn import make_upn

IN_YEAR_JOINERS = 0.02  # share of the roll joining during a year
IN_YEAR_LEAVERS = 0.02
SECONDARY_NEED_RATE = (("E", 0.35), ("K", 0.15))
LOOKED_AFTER_RATE = 0.006
SERVICE_CHILD_RATE = 0.01
EVER6_EXTRA = 0.07  # pupil premium through past FSM eligibility, not FSM now
FSM_GAIN_PER_YEAR = 0.02
CLASS_LETTERS = "ABCDEFGHJKLMNPRSTW"


@dataclass(slots=True)
class SenSpell:
    start: date
    provision: str  # E, K or N
    primary: str  # "" for N
    secondary: str


@dataclass(slots=True)
class CharRow:
    effective: date
    year_index: int
    year_group: int
    reg_group: str
    fsm: bool
    pupil_premium: bool
    looked_after: bool
    service_child: bool


@dataclass(slots=True)
class Pupil:
    index: int
    school: int
    upn: str = ""
    mis_id: str = ""
    forename: str = ""
    surname: str = ""
    dob: date = date.min
    sex: str = ""
    ethnicity: str = ""
    language: str = ""
    entry: date = date.min
    leaving: date | None = None
    year_group0: int = 0  # NC year group in the first academic year (R = 0)
    sen: list[SenSpell] = field(default_factory=list)
    chars: list[CharRow] = field(default_factory=list)

    def status_on(self, day: date) -> SenSpell:
        current = self.sen[0]
        for spell in self.sen:
            if spell.start <= day:
                current = spell
            else:
                break
        return current

    def on_roll(self, day: date) -> bool:
        return self.entry <= day and (self.leaving is None or day <= self.leaving)


def year_group_label(year_group: int) -> str:
    return "R" if year_group == 0 else str(year_group)


def _prob_round(rng: np.random.Generator, x: float) -> int:
    """Round so that the expected value is x (keeps small schools unbiased)."""
    base = math.floor(x)
    return base + int(rng.random() < x - base)


def _random_date(rng: np.random.Generator, lo: date, hi: date) -> date:
    span = max((hi - lo).days, 0)
    return lo + timedelta(days=int(rng.integers(0, span + 1)))


def _weekday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _need(rng: np.random.Generator, mix: Weights) -> str:
    return weighted_choice(rng, mix, 1)[0]


def _secondary_need(rng: np.random.Generator, provision: str, primary: str, mix: Weights) -> str:
    if rng.random() >= dict(SECONDARY_NEED_RATE)[provision]:
        return ""
    options = tuple((c, w) for c, w in mix if c not in (primary, "NSA"))
    return _need(rng, options) if options else ""


class _UpnBook:
    """Hands out unique serials per (LA, establishment, year of allocation)."""

    def __init__(self) -> None:
        self.next_serial: dict[tuple[str, str, int], int] = {}

    def allocate(self, la: str, estabs: list[str], year2: int) -> str:
        for estab in estabs:
            key = (la, estab, year2)
            serial = self.next_serial.get(key, 1)
            if serial <= 999:
                self.next_serial[key] = serial + 1
                return make_upn(la, estab, year2, serial)
        raise ValueError("ran out of UPN serials")  # pragma: no cover


def _initial_statuses(rng: np.random.Generator, school: School, n: int) -> list[tuple[str, str]]:
    """(provision, primary need) for the pupils on roll at the start, by quota."""
    if school.is_special:
        n_e = round(n * SPECIAL_EHCP_SHARE)
        n_k = n - n_e
    else:
        n_e = round(n * EHCP_RATE_START)
        n_k = round(n * SEN_SUPPORT_RATE_START)
    statuses = (
        [("E", need) for need in quota(school.ehcp_mix, n_e)]
        + [
            ("K", need)
            for need in quota(school.ehcp_mix if school.is_special else MIX_SEN_SUPPORT, n_k)
        ]
        + [("N", "")] * (n - n_e - n_k)
    )
    order = rng.permutation(n)
    return [statuses[int(i)] for i in order]


def _drawn_status(rng: np.random.Generator, school: School) -> tuple[str, str]:
    """Status of a pupil joining later (an intake or an in-year admission)."""
    u = rng.random()
    if school.is_special:
        provision = "E" if u < SPECIAL_EHCP_SHARE else "K"
        return provision, _need(rng, school.ehcp_mix)
    if u < EHCP_RATE_START:
        return "E", _need(rng, school.ehcp_mix)
    if u < EHCP_RATE_START + SEN_SUPPORT_RATE_START:
        return "K", _need(rng, MIX_SEN_SUPPORT)
    return "N", ""


def _pre_window_history(
    rng: np.random.Generator,
    pupil: Pupil,
    provision: str,
    primary: str,
    secondary: str,
    window_start: date,
) -> list[SenSpell]:
    """SEN history at this school before the data window, ending in the given status."""
    if pupil.entry >= window_start or provision == "N":
        return [SenSpell(pupil.entry, provision, primary, secondary)]
    if provision == "E":
        issued = window_start - timedelta(days=int(rng.uniform(0.3, 6.0) * 365))
        issued = max(issued, pupil.dob + timedelta(days=int(2.5 * 365)))
        if issued <= pupil.entry:
            return [SenSpell(pupil.entry, "E", primary, secondary)]
        before = "K" if rng.random() < 0.7 else "N"
        return [
            SenSpell(pupil.entry, before, primary if before == "K" else "", ""),
            SenSpell(_weekday(issued), "E", primary, secondary),
        ]
    identified = window_start - timedelta(days=int(rng.uniform(0.1, 4.0) * 365))
    if identified <= pupil.entry + timedelta(days=30):
        return [SenSpell(pupil.entry, "K", primary, secondary)]
    return [
        SenSpell(pupil.entry, "N", "", ""),
        SenSpell(_weekday(identified), "K", primary, secondary),
    ]


def _names(rng: np.random.Generator, ethnicity: str, sex: str) -> tuple[str, str, str]:
    profile = next(p for p in ETHNIC_PROFILE if p[0] == ethnicity)
    _, pool_name, non_english, languages = profile
    pool = next(p for p in NAME_POOLS if p[0] == pool_name)
    # Mixed and "other" backgrounds often carry an English forename or surname.
    if ethnicity.startswith("M") and rng.random() < 0.5:
        pool = NAME_POOLS[0]
    forenames = pool[1] if sex == "F" else pool[2]
    forename = forenames[int(rng.integers(len(forenames)))]
    surname = pool[3][int(rng.integers(len(pool[3])))]
    language = "ENG"
    if rng.random() < non_english:
        language = languages[int(rng.integers(len(languages)))]
    return forename, surname, language


def build_pupils(seed: int, trust: Trust) -> list[Pupil]:
    pupils: list[Pupil] = []
    upns = _UpnBook()
    for school in trust.schools:
        pupils.extend(_school_pupils(seed, trust, school, upns, len(pupils)))
    return pupils


def _school_pupils(
    seed: int, trust: Trust, school: School, upns: _UpnBook, first_index: int
) -> list[Pupil]:
    rng = substream(seed, "pupils", school.index)
    cal = school.calendar
    first_year = trust.first_year
    year_start = [
        next(ht.start for ht in cal.half_terms if ht.year_index == k and ht.half_term == 1)
        for k in range(trust.years)
    ]
    year_end = [
        next(ht.end for ht in cal.half_terms if ht.year_index == k and ht.half_term == 6)
        for k in range(trust.years)
    ]
    window_start = year_start[0]
    year_groups = list(range(school.lowest_year, school.highest_year + 1))
    n_yg = len(year_groups)

    # Who is on roll: the starting roll spread over the year groups, then each later year
    # a new intake at the bottom and a few in-year joiners.
    cohort = rng.dirichlet(np.full(n_yg, 40.0)) * school.roll
    counts = np.floor(cohort).astype(int)
    counts[: school.roll - int(counts.sum())] += 1
    specs: list[tuple[int, date, str]] = []  # (year group in year 0, entry, kind)
    for g, n in zip(year_groups, counts.tolist(), strict=True):
        for _ in range(n):
            entry_year = first_year - (g - school.lowest_year)
            entry = _weekday(date(entry_year, 9, 2)) if g != school.lowest_year else window_start
            if g != school.lowest_year and rng.random() < 0.12:
                entry = _weekday(_random_date(rng, entry, window_start - timedelta(days=10)))
            specs.append((g, min(entry, window_start), "start"))
    intake = max(1, round(school.roll / n_yg))
    for k in range(1, trust.years):
        for _ in range(intake):
            specs.append((school.lowest_year - k, year_start[k], "intake"))
    for k in range(trust.years):
        lo, hi = cal.year_bounds(k)
        for _ in range(_prob_round(rng, IN_YEAR_JOINERS * school.roll)):
            g = year_groups[int(rng.integers(n_yg))]
            day = date.fromordinal(int(cal.days[int(rng.integers(lo + 10, hi - 15))]))
            specs.append((g - k, day, "joiner"))

    n_start = sum(1 for s in specs if s[2] == "start")
    initial = _initial_statuses(rng, school, n_start)
    mis_base = int(rng.integers(1000, 5000))
    out: list[Pupil] = []
    for j, (g0, entry, kind) in enumerate(specs):
        provision, primary = initial[j] if kind == "start" else _drawn_status(rng, school)
        mix = school.ehcp_mix if provision == "E" or school.is_special else MIX_SEN_SUPPORT
        secondary = _secondary_need(rng, provision, primary, mix) if provision != "N" else ""
        male = rng.random() < dict(MALE_RATE)[provision]
        sex = "M" if male else "F"
        ethnicity = weighted_choice(rng, ETHNICITY, 1)[0]
        forename, surname, language = _names(rng, ethnicity, sex)
        born_lo = date(first_year - 5 - g0, 9, 1)
        born_hi = date(first_year - 4 - g0, 8, 31)
        reception_year = first_year - g0
        if school.phase == "secondary" or rng.random() < 0.2:
            estabs = [school.feeder_estabs[int(rng.integers(5))], *school.feeder_estabs]
        else:
            estabs = [school.estab, *school.feeder_estabs]
        pupil = Pupil(
            index=first_index + j,
            school=school.index,
            upn=upns.allocate(school.la_code, estabs, reception_year % 100),
            mis_id=str(mis_base + j),
            forename=forename,
            surname=surname,
            dob=_random_date(rng, born_lo, born_hi),
            sex=sex,
            ethnicity=ethnicity,
            language=language,
            entry=entry,
            year_group0=g0,
        )
        pupil.sen = _pre_window_history(rng, pupil, provision, primary, secondary, window_start)
        # Pupils leave after the top year group; the last year's leavers are still on
        # roll when the export is taken, so they have no leaving date yet.
        last_year = school.highest_year - g0
        if 0 <= last_year < trust.years - 1:
            pupil.leaving = year_end[last_year]
        out.append(pupil)

    for k in range(trust.years):
        lo, hi = cal.year_bounds(k)
        on_roll = [p for p in out if p.on_roll(year_start[k]) and p.leaving != year_end[k]]
        for p in on_roll:
            if rng.random() < IN_YEAR_LEAVERS:
                p.leaving = date.fromordinal(int(cal.days[int(rng.integers(lo + 10, hi - 5))]))
        _in_year_sen_changes(
            rng,
            school,
            out,
            k,
            year_start[k],
            year_end[k],
            [date.fromordinal(int(d)) for d in cal.days[lo + 15 : hi - 15]],
            [ht.start for ht in cal.half_terms if ht.year_index == k and ht.half_term in (3, 5)],
        )
    _characteristics(rng, school, out, trust.years, year_start, year_end)
    return out


def _in_year_sen_changes(
    rng: np.random.Generator,
    school: School,
    pupils: list[Pupil],
    k: int,
    start: date,
    end: date,
    days: list[date],
    review_starts: list[date],
) -> None:
    """New SEN support, new EHC plans and pupils leaving the register during year k."""
    stayers = [p for p in pupils if p.entry <= start and (p.leaving is None or p.leaving > end)]
    by_status: dict[str, list[Pupil]] = {"N": [], "K": []}
    for p in stayers:
        status = p.status_on(start).provision
        if status in by_status:
            by_status[status].append(p)

    def pick(group: list[Pupil], rate: float) -> list[Pupil]:
        n = min(_prob_round(rng, rate * len(group)), len(group))
        return [group[int(i)] for i in rng.choice(len(group), size=n, replace=False)]

    if not school.is_special:
        for p in pick(by_status["N"], N_TO_K_PER_YEAR):
            need = _need(rng, MIX_SEN_SUPPORT)
            when = days[int(rng.integers(len(days)))]
            p.sen.append(
                SenSpell(when, "K", need, _secondary_need(rng, "K", need, MIX_SEN_SUPPORT))
            )
    k_rate = 0.3 if school.is_special else K_TO_E_PER_YEAR
    to_e = pick(by_status["K"], k_rate)
    for p in to_e:
        spell = p.status_on(start)
        keep_need = rng.random() < 0.8
        # "No specialist assessment" is for SEN support only: an EHC plan names the need.
        if spell.primary == "NSA":
            keep_need = False
        need = spell.primary if keep_need else _need(rng, school.ehcp_mix)
        when = days[int(rng.integers(len(days)))]
        p.sen.append(SenSpell(when, "E", need, spell.secondary if need != spell.secondary else ""))
    if not school.is_special:
        chosen = {p.index for p in to_e}
        rest = [p for p in by_status["K"] if p.index not in chosen]
        for p in pick(rest, K_TO_N_PER_YEAR):
            when = review_starts[int(rng.integers(len(review_starts)))]
            p.sen.append(SenSpell(when, "N", "", ""))


def _characteristics(
    rng: np.random.Generator,
    school: School,
    pupils: list[Pupil],
    years: int,
    year_start: list[date],
    year_end: list[date],
) -> None:
    fsm_rate = dict(FSM_RATE)
    base: dict[int, tuple[bool, bool, bool, bool]] = {}
    for p in pupils:
        status = (
            p.sen[-1].provision
            if p.entry >= year_start[0]
            else p.status_on(year_start[0]).provision
        )
        fsm = rng.random() < fsm_rate[status]
        lac = rng.random() < LOOKED_AFTER_RATE * (2.5 if status != "N" else 0.8)
        service = rng.random() < SERVICE_CHILD_RATE
        ever6 = fsm or rng.random() < EVER6_EXTRA
        base[p.index] = (fsm, ever6, lac, service)
    letters = [CLASS_LETTERS[int(i)] for i in rng.permutation(len(CLASS_LETTERS))]
    for k in range(years):
        # Classes: pupils on roll on the first day, dealt into classes per year group.
        starters: dict[int, list[Pupil]] = {}
        for p in pupils:
            if p.on_roll(year_start[k]):
                starters.setdefault(p.year_group0 + k, []).append(p)
        group_of: dict[int, str] = {}
        class_count: dict[int, int] = {}
        for yg in sorted(starters):
            members = starters[yg]
            n_classes = max(1, math.ceil(len(members) / school.class_size))
            class_count[yg] = n_classes
            for pos, i in enumerate(rng.permutation(len(members)).tolist()):
                group_of[members[i].index] = year_group_label(yg) + letters[pos % n_classes]
        for p in pupils:
            yg = p.year_group0 + k
            joins_later = year_start[k] < p.entry <= year_end[k]
            if not (p.on_roll(year_start[k]) or joins_later):
                continue
            if p.index not in group_of:
                n_classes = class_count.get(yg, 1)
                group_of[p.index] = year_group_label(yg) + letters[int(rng.integers(n_classes))]
            fsm, ever6, lac, service = base[p.index]
            effective = max(p.entry, year_start[k])
            p.chars.append(
                CharRow(
                    effective, k, yg, group_of[p.index], fsm, ever6 or lac or service, lac, service
                )
            )
            # A few families become eligible for free meals during the year.
            if not fsm and rng.random() < FSM_GAIN_PER_YEAR:
                when = _random_date(
                    rng, effective + timedelta(days=14), year_end[k] - timedelta(days=14)
                )
                if effective < when < year_end[k] and (p.leaving is None or when < p.leaving):
                    p.chars.append(
                        CharRow(_weekday(when), k, yg, group_of[p.index], True, True, lac, service)
                    )
                    fsm = ever6 = True
            base[p.index] = (fsm, ever6, lac, service)
