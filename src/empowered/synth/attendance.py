"""Attendance registers and suspensions.

Each pupil has an absence propensity drawn by SEN status (national autumn 2024/25 overall
absence: EHC plan 13.1%, SEN support 10.1%, no SEN 5.8%), spread so that the share of
persistently absent pupils comes out near 35% / 29% / 17%. Absence days are clustered
into spells (an AR(1) Gaussian copula over school days), and each spell has one reason
code, so a week of illness reads as five I's rather than a random mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from empowered.synth.codes import ATT, EXCLUSION_REASONS, PRESENT_CODES, UNAUTHORISED_CODES
from empowered.synth.patterns import PatternPlan
from empowered.synth.people import Pupil
from empowered.synth.rng import substream, weighted_choice
from empowered.synth.schools import School, Trust

OFF_ROLL = -1
AR_PHI = 0.6  # day-to-day persistence of absence
# (mean absence, Beta concentration) by SEN status; tuned to the national figures above.
PROPENSITY = (("E", 0.115, 2.3), ("K", 0.073, 2.5), ("N", 0.05, 6.5))
PHASE_FACTOR = (("primary", 0.85), ("secondary", 1.12), ("special", 1.0))
UNAUTH_SPELL = (("O", 0.55), ("N", 0.3), ("G", 0.15))
AUTH_SPELL = (("I", 0.88), ("C", 0.08), ("M", 0.04))
# Suspensions per pupil per year by phase and SEN status (secondary far above primary;
# SEN support and EHC plans over-represented, as in the national 2023/24 figures).
SUSPENSION_RATE = (
    ("primary", (("E", 0.06), ("K", 0.06), ("N", 0.012))),
    ("secondary", (("E", 0.30), ("K", 0.40), ("N", 0.12))),
    ("special", (("E", 0.08), ("K", 0.08), ("N", 0.08))),
)
PERMANENT_RATE = (("E", 0.002), ("K", 0.004), ("N", 0.0008))  # secondary only
SUSPENSION_SESSIONS = ((1, 0.10), (2, 0.45), (3, 0.05), (4, 0.20), (6, 0.12), (10, 0.08))


@dataclass(frozen=True)
class Exclusion:
    pupil: int
    day_index: int  # into the school's calendar days
    category: str  # suspension or permanent
    sessions: int
    reasons: tuple[str, ...]


def _reasons(rng: np.random.Generator) -> tuple[str, ...]:
    n = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    picks: list[str] = []
    while len(picks) < n:
        code = weighted_choice(rng, EXCLUSION_REASONS, 1)[0]
        if code not in picks:
            picks.append(code)
    return tuple(picks)


def _day_index(school: School, d: date) -> int:
    return school.calendar.index_on_or_after(d)


def plan_permanent_exclusions(seed: int, trust: Trust, pupils: list[Pupil]) -> list[Exclusion]:
    """Permanent exclusions, decided before anything is written because they end a roll."""
    rng = substream(seed, "permanent")
    rate = dict(PERMANENT_RATE)
    out: list[Exclusion] = []
    for p in pupils:
        school = trust.schools[p.school]
        if school.phase != "secondary":
            continue
        cal = school.calendar
        for k in range(trust.years):
            lo, hi = cal.year_bounds(k)
            first = date.fromordinal(int(cal.days[lo]))
            if not p.on_roll(first) or rng.random() >= rate[p.status_on(first).provision]:
                continue
            day = int(rng.integers(lo + 20, hi - 30))
            # The pupil stays on roll, excluded, until governors have considered it.
            last = min(day + 14, hi - 1)
            leaving = date.fromordinal(int(cal.days[last]))
            if p.leaving is not None and p.leaving <= leaving:
                continue
            p.leaving = leaving
            # A change of SEN status planned for after the exclusion never happens here.
            p.sen = [spell for spell in p.sen if spell.start <= leaving]
            out.append(Exclusion(p.index, day, "permanent", 2 * (last - day + 1), _reasons(rng)))
            break
    return out


@dataclass
class AttendanceResult:
    codes: npt.NDArray[np.int8]  # (pupils, days, 2) code index, OFF_ROLL when not on roll
    exclusions: list[Exclusion]


def on_roll_matrix(school: School, pupils: list[Pupil]) -> npt.NDArray[np.bool_]:
    days = school.calendar.days
    entry = np.array([p.entry.toordinal() for p in pupils], dtype=np.int64)
    leaving = np.array(
        [p.leaving.toordinal() if p.leaving else 10**7 for p in pupils], dtype=np.int64
    )
    return (days[None, :] >= entry[:, None]) & (days[None, :] <= leaving[:, None])


def status_matrix(school: School, pupils: list[Pupil]) -> npt.NDArray[np.int8]:
    """SEN provision per pupil per school day: 0 = N, 1 = K, 2 = E."""
    days = school.calendar.days
    out = np.zeros((len(pupils), len(days)), dtype=np.int8)
    value = {"N": 0, "K": 1, "E": 2}
    for i, p in enumerate(pupils):
        starts = np.array([s.start.toordinal() for s in p.sen], dtype=np.int64)
        codes = np.array([value[s.provision] for s in p.sen], dtype=np.int8)
        pos = np.searchsorted(starts, days, side="right") - 1
        out[i] = codes[np.clip(pos, 0, len(codes) - 1)]
    return out


def simulate_attendance(
    seed: int,
    school: School,
    pupils: list[Pupil],
    plan: PatternPlan,
    permanents: list[Exclusion],
    status: npt.NDArray[np.int8],
) -> AttendanceResult:
    rng = substream(seed, "attendance", school.index)
    cal = school.calendar
    n_p, n_d = len(pupils), len(cal.days)
    roll = on_roll_matrix(school, pupils)
    start_status = np.array(
        [int(status[i, np.argmax(roll[i])]) if roll[i].any() else 0 for i in range(n_p)]
    )
    phase = dict(PHASE_FACTOR)[school.phase]
    mean = np.zeros(n_p)
    conc = np.zeros(n_p)
    for code, m, c in PROPENSITY:
        sel = start_status == {"N": 0, "K": 1, "E": 2}[code]
        mean[sel], conc[sel] = m * phase, c
    p_abs = rng.beta(mean * conc, (1 - mean) * conc)
    p_abs = np.clip(p_abs, 0.002, 0.6)
    # Pupils carrying a planted daily-data pattern attend reasonably well, so the pattern
    # rests on enough days to be found (the attendance patterns are planted separately).
    planted = {*plan.strategy, *plan.harder, *plan.mood_decline}
    capped = np.array([p.index in planted for p in pupils], dtype=bool)
    p_abs = np.where(capped, np.minimum(p_abs, 0.12), p_abs)
    unauth_share = rng.beta(1.2, 3.5, size=n_p)
    inv = NormalDist().inv_cdf
    threshold = np.repeat(np.array([inv(float(x)) for x in p_abs])[:, None], n_d, axis=1)
    unauth = np.repeat(unauth_share[:, None], n_d, axis=1)
    row_of = {p.index: i for i, p in enumerate(pupils)}
    for pupil_index, rec in plan.attendance_decline.items():
        i = row_of.get(pupil_index)
        if i is None:
            continue
        start = _day_index(school, date.fromisoformat(rec.fields["start_date"]))
        threshold[i, start:] = inv(float(rec.fields["absence_after"]))
        unauth[i, start:] = 0.85 if rec.fields["mostly_unauthorised"] else 0.1

    # Absence days from a persistent latent process, so absences come in spells.
    z = np.empty((n_p, n_d))
    z[:, 0] = rng.standard_normal(n_p)
    noise = rng.standard_normal((n_p, n_d)) * np.sqrt(1 - AR_PHI**2)
    for d in range(1, n_d):
        z[:, d] = AR_PHI * z[:, d - 1] + noise[:, d]
    absent = (z < threshold) & roll
    prev = np.zeros_like(absent)
    prev[:, 1:] = absent[:, :-1]
    starts = absent & ~prev
    spell_rows, spell_days = np.nonzero(starts)
    n_spells = len(spell_rows)
    is_unauth = rng.random(n_spells) < unauth[spell_rows, spell_days]
    un_codes = np.array([ATT[c] for c in weighted_choice(rng, UNAUTH_SPELL, n_spells)])
    au_codes = np.array([ATT[c] for c in weighted_choice(rng, AUTH_SPELL, n_spells)])
    spell_code = np.where(is_unauth, un_codes, au_codes).astype(np.int8)
    spell_id = (np.cumsum(starts.ravel()) - 1).reshape(n_p, n_d)
    day_code = np.where(
        absent, spell_code[np.clip(spell_id, 0, max(n_spells - 1, 0))] if n_spells else 0, 0
    ).astype(np.int8)

    am = np.where(absent, day_code, ATT["/"]).astype(np.int8)
    pm = np.where(absent, day_code, ATT["\\"]).astype(np.int8)
    present = ~absent & roll
    # Part days: lateness, appointments, off-site activities.
    late_p = np.clip(rng.beta(1.0, 40.0, size=n_p) + p_abs * 0.1, 0, 0.3)
    u = rng.random((n_p, n_d))
    am[present & (u < late_p[:, None])] = ATT["L"]
    am[present & (u > 1 - 0.002)] = ATT["U"]
    u = rng.random((n_p, n_d))
    am[present & (u < 0.004)] = ATT["M"]
    pm[present & (u > 1 - 0.004)] = ATT["M"]
    u = rng.random((n_p, n_d))
    pm[present & (u < 0.001)] = ATT["P"]
    am[present & (u > 1 - 0.0005)] = ATT["B"]

    year_group = np.array([p.year_group0 for p in pupils], dtype=np.int64)
    for k in range(int(cal.year_of_day.max()) + 1):
        lo, hi = cal.year_bounds(k)
        # Trips: two days a year for each year group.
        for yg in range(school.lowest_year, school.highest_year + 1):
            rows = year_group + k == yg
            for d in rng.choice(np.arange(lo, hi), size=2, replace=False).tolist():
                here = rows & present[:, d] & (am[:, d] != ATT["M"])
                am[here, d] = ATT["V"]
                pm[here, d] = ATT["V"]
        # Holidays in term time, next to a school holiday.
        edges = [i for i in range(lo + 1, hi) if cal.days[i] - cal.days[i - 1] > 3]
        for i in range(n_p):
            if rng.random() < 0.04 and edges:
                edge = edges[int(rng.integers(len(edges)))]
                length = int(rng.integers(3, 9))
                span = (
                    slice(edge, min(edge + length, hi))
                    if rng.random() < 0.5
                    else slice(max(edge - length, lo), edge)
                )
                mask = roll[i, span]
                am[i, span] = np.where(mask, ATT["G"], am[i, span])
                pm[i, span] = np.where(mask, ATT["G"], pm[i, span])
        # Part-time timetables (C2) for a few pupils with SEMH or autism.
        for i, p in enumerate(pupils):
            need = p.status_on(date.fromordinal(int(cal.days[lo]))).primary
            if need in ("SEMH", "ASD") and rng.random() < (0.04 if school.is_special else 0.05):
                first = int(rng.integers(lo, max(hi - 20, lo + 1)))
                span = slice(first, min(first + int(rng.integers(20, 41)), hi))
                on = pm[i, span] == ATT["\\"]
                pm[i, span] = np.where(on, ATT["C2"], pm[i, span])

    exclusions = _suspensions(rng, school, pupils, roll, status)
    exclusions += [e for e in permanents if e.pupil in row_of]
    for e in exclusions:
        i = row_of[e.pupil]
        # An odd number of sessions starts after lunch (a lunchtime suspension).
        session = 1 if e.sessions % 2 else 0
        d = e.day_index
        for _ in range(e.sessions):
            if d >= n_d:
                break
            if roll[i, d]:
                (am if session == 0 else pm)[i, d] = ATT["E"]
            session ^= 1
            if session == 0:
                d += 1
    codes = np.stack([am, pm], axis=2)
    codes[~roll] = OFF_ROLL
    _realised_declines(school, pupils, plan, codes)
    return AttendanceResult(codes, sorted(exclusions, key=lambda e: (e.day_index, e.pupil)))


def _suspensions(
    rng: np.random.Generator,
    school: School,
    pupils: list[Pupil],
    roll: npt.NDArray[np.bool_],
    status: npt.NDArray[np.int8],
) -> list[Exclusion]:
    rate = dict(dict(SUSPENSION_RATE)[school.phase])
    if school.special_kind == "semh":
        rate = dict.fromkeys(rate, 0.3)
    by_status = np.array([rate["N"], rate["K"], rate["E"]])
    cal = school.calendar
    out: list[Exclusion] = []
    # Suspensions concentrate on a few pupils: a gamma-distributed propensity gives the
    # repeat suspensions seen nationally.
    propensity = rng.gamma(0.3, 1 / 0.3, size=len(pupils))
    for k in range(int(cal.year_of_day.max()) + 1):
        lo, hi = cal.year_bounds(k)
        for i, p in enumerate(pupils):
            days_on = np.nonzero(roll[i, lo:hi])[0]
            if len(days_on) < 10:
                continue
            lam = by_status[status[i, lo + days_on[0]]] * propensity[i]
            lam *= len(days_on) / (hi - lo)
            n = int(rng.poisson(lam))
            if n == 0:
                continue
            picks = np.sort(rng.choice(days_on, size=min(n, len(days_on)), replace=False))
            last = -10
            for d in picks.tolist():
                if d - last < 5:
                    continue
                last = d
                sessions = int(
                    rng.choice(
                        [s for s, _ in SUSPENSION_SESSIONS], p=[w for _, w in SUSPENSION_SESSIONS]
                    )
                )
                out.append(Exclusion(p.index, lo + d, "suspension", sessions, _reasons(rng)))
    return out


def attendance_flags(codes: npt.NDArray[np.int8]) -> dict[str, float | int | bool]:
    """Headline measures for one pupil's sessions (codes of the sessions on roll)."""
    flat = codes.reshape(-1)
    flat = flat[flat != OFF_ROLL]
    present = np.isin(flat, [ATT[c] for c in PRESENT_CODES])
    possible = len(flat)
    rate = float(present.sum()) / possible if possible else 1.0
    unauth = np.isin(codes, [ATT[c] for c in UNAUTHORISED_CODES]).sum(axis=1)
    window = 50  # ten school weeks
    counts = (
        np.convolve(unauth.astype(np.int64), np.ones(window, dtype=np.int64), "valid")
        if len(unauth) >= window
        else np.array([int(unauth.sum())])
    )
    most = int(counts.max()) if len(counts) else 0
    return {
        "attendance_rate": round(rate, 4),
        "persistent_absence": rate <= 0.9,
        "severe_absence": rate <= 0.5,
        "max_unauthorised_in_10_weeks": most,
        "unauthorised_trigger": most >= 10,
    }


def _realised_declines(
    school: School, pupils: list[Pupil], plan: PatternPlan, codes: npt.NDArray[np.int8]
) -> None:
    row_of = {p.index: i for i, p in enumerate(pupils)}
    for pupil_index, rec in plan.attendance_decline.items():
        i = row_of.get(pupil_index)
        if i is None:
            continue
        lo, hi = school.calendar.year_bounds(0)
        start = _day_index(school, date.fromisoformat(rec.fields["start_date"]))
        year = attendance_flags(codes[i, lo:hi])
        before = attendance_flags(codes[i, lo:start])
        after = attendance_flags(codes[i, start:hi])
        rec.fields.update(
            {
                "attendance_rate_year": year["attendance_rate"],
                "attendance_rate_before": before["attendance_rate"],
                "attendance_rate_after": after["attendance_rate"],
                "persistent_absence": year["persistent_absence"],
                "severe_absence": year["severe_absence"],
                "unauthorised_trigger": year["unauthorised_trigger"],
                "max_unauthorised_in_10_weeks": year["max_unauthorised_in_10_weeks"],
            }
        )
