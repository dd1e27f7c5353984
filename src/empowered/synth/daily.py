"""Daily records for pupils with SEN: observations, ABC incidents and strategy uses.

Mood is a latent score per observation:

    pupil baseline + day effect (AR(1) over school days) + half-day effect + noise
    - planted mood decline (after its start date)
    - planted "harder situation" drop (in that activity or period)
    - a dip when a strategy is used, half recovered by the follow-up observation
    + the planted strategy effect on the follow-up observation

then rounded to the 1..5 scale. Engagement and regulation follow mood's deviation from
baseline with their own noise. Incidents are a Poisson process over the minutes a pupil is
in school, a little likelier on low days, and five times likelier (by default) in a
planted harder context. Everything is drawn as numpy arrays over pupil-days, so a school's
year is a handful of vector operations rather than a loop per observation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from empowered.synth.codes import (
    ACT,
    ACTIVITIES,
    ANTECEDENTS,
    ATT,
    BEHAVIOURS,
    CONSEQUENCES,
    IN_SCHOOL_CODES,
    OBSERVATION_NOTES,
    SETTINGS,
    STRATEGY_CODES,
    STRATEGY_NOTES,
)
from empowered.synth.patterns import (
    HARDER_MOOD_DROP,
    HARDER_REGULATION_DROP,
    MIN_PLANTED_USES,
    PatternPlan,
)
from empowered.synth.people import Pupil
from empowered.synth.rng import substream
from empowered.synth.schools import School
from empowered.synth.timetable import settings_for

Columns = dict[str, list[Any]]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
StaffPicker = Callable[[np.random.Generator, I64, I64, I64], npt.NDArray[np.object_]]

DAY_PHI = 0.5  # day-to-day carry-over of mood
DAY_SD = 0.3
HALF_SD = 0.15
OBS_SD = 0.45
RECOVERY = 0.5  # share of a pre-strategy dip still there at the follow-up
PLANTED_USE_TARGET = MIN_PLANTED_USES + 3
PLANTED_OTHER_USES = 12
TIME_TEXT = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], dtype=object)
DIGIT = np.array([str(i) for i in range(10)], dtype=object)
OUTCOMES = np.array(["helped", "partly", "not_helped"], dtype=object)

# Antecedent weights by kind of activity: lesson, unstructured, transition, day edges.
_ANTECEDENT_WEIGHTS = {
    "lesson": (0.0, 0.45, 0.15, 0.0, 0.1, 0.1, 0.1, 0.1),
    "unstructured": (0.0, 0.05, 0.15, 0.35, 0.15, 0.3, 0.0, 0.0),
    "transition": (0.6, 0.1, 0.0, 0.0, 0.1, 0.05, 0.1, 0.05),
    "edge": (0.4, 0.05, 0.05, 0.0, 0.05, 0.05, 0.2, 0.2),
}
_BEHAVIOUR_WEIGHTS = {
    # verbal_outburst, leaving_area, physical_aggression, refusal, self_injury,
    # property_damage, shutdown
    "SEMH": (0.3, 0.15, 0.15, 0.2, 0.05, 0.1, 0.05),
    "ASD": (0.15, 0.2, 0.1, 0.13, 0.12, 0.05, 0.25),
    "SLD": (0.05, 0.15, 0.2, 0.1, 0.3, 0.05, 0.15),
    "other": (0.25, 0.15, 0.05, 0.3, 0.05, 0.05, 0.15),
}
_CONSEQUENCE_WEIGHTS = (
    # calm_space_offered, adult_support, planned_ignoring, removed_from_activity,
    # restorative_conversation, one row per behaviour above
    (0.3, 0.2, 0.3, 0.0, 0.2),
    (0.2, 0.6, 0.0, 0.0, 0.2),
    (0.0, 0.3, 0.0, 0.4, 0.3),
    (0.0, 0.4, 0.3, 0.0, 0.3),
    (0.4, 0.6, 0.0, 0.0, 0.0),
    (0.0, 0.2, 0.0, 0.4, 0.4),
    (0.5, 0.4, 0.1, 0.0, 0.0),
)


def _cum(rows: list[tuple[float, ...]]) -> F64:
    table = np.array(rows, dtype=float)
    table /= table.sum(axis=1, keepdims=True)
    return np.cumsum(table, axis=1)


def _draw(rng: np.random.Generator, cum: F64, row: I64) -> I64:
    u = rng.random(len(row))
    idx: I64 = np.minimum((u[:, None] > cum[row]).sum(axis=1), cum.shape[1] - 1)
    return idx.astype(np.int64)


def _activity_kind(act: int) -> str:
    name = ACTIVITIES[act]
    if name in ("break", "lunch", "free_choice"):
        return "unstructured"
    if name == "transition":
        return "transition"
    if name in ("arrival", "home_time"):
        return "edge"
    return "lesson"


_KINDS = ("lesson", "unstructured", "transition", "edge")
_ACT_KIND = np.array([_KINDS.index(_activity_kind(i)) for i in range(len(ACTIVITIES))])
_ANTECEDENT_CUM = _cum([_ANTECEDENT_WEIGHTS[k] for k in _KINDS])
_NEED_GROUPS = ("SEMH", "ASD", "SLD", "other")
_BEHAVIOUR_CUM = _cum([_BEHAVIOUR_WEIGHTS[k] for k in _NEED_GROUPS])
_CONSEQUENCE_CUM = _cum(list(_CONSEQUENCE_WEIGHTS))


@dataclass
class DailyTables:
    observations: Columns = field(default_factory=dict)
    incidents: Columns = field(default_factory=dict)
    strategy_uses: Columns = field(default_factory=dict)


def _need_group(need: str) -> int:
    if need in ("SEMH", "ASD"):
        return _NEED_GROUPS.index(need)
    if need in ("SLD", "PMLD"):
        return _NEED_GROUPS.index("SLD")
    return _NEED_GROUPS.index("other")


def _ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float, sd: float) -> F64:
    eps = rng.normal(0.0, sd, size=shape)
    out = np.empty(shape)
    out[:, 0] = eps[:, 0]
    scale = np.sqrt(1 - phi**2)
    for d in range(1, shape[1]):
        out[:, d] = phi * out[:, d - 1] + scale * eps[:, d]
    return out


def simulate_daily(
    seed: int,
    school: School,
    pupils: list[Pupil],
    plan: PatternPlan,
    codes: npt.NDArray[np.int8],
    status: npt.NDArray[np.int8],
    day_text: npt.NDArray[np.object_],
    next_ids: dict[str, int],
) -> DailyTables:
    rng = substream(seed, "daily", school.index)
    cal, tt = school.calendar, school.timetable
    sen_rows = np.nonzero((status > 0).any(axis=1))[0]
    if len(sen_rows) == 0:
        return DailyTables()
    sp = [pupils[int(i)] for i in sen_rows]
    n_s, n_d = len(sp), len(cal.days)
    in_school = np.isin(codes[sen_rows], [ATT[c] for c in IN_SCHOOL_CODES])
    sen_day = status[sen_rows] > 0
    am = in_school[:, :, 0] & sen_day
    pm = in_school[:, :, 1] & sen_day
    day_start, day_end = tt.day_start, tt.day_end
    lunch_end = tt.lunch.end
    day_len = day_end - day_start

    # Per-pupil traits.
    special = school.is_special
    need = [p.sen[-1].primary or next((s.primary for s in p.sen if s.primary), "") for p in sp]
    base_mood = np.clip(rng.normal(3.3 if special else 3.5, 0.35, n_s), 2.5, 4.3)
    base_eng = np.clip(base_mood + rng.normal(0, 0.3, n_s), 2.2, 4.5)
    base_reg = np.clip(base_mood + rng.normal(0, 0.3, n_s), 2.2, 4.5)
    ehcp = np.array([p.sen[-1].provision == "E" for p in sp])
    mean_rate = np.where(special, 0.12, np.where(ehcp, 0.05, 0.025))
    inc_rate = rng.gamma(0.8, 1 / 0.8, n_s) * mean_rate
    heavy = np.array([n in ("SEMH", "ASD") for n in need]) & (rng.random(n_s) < 0.1)
    inc_rate = np.where(heavy, rng.uniform(0.3, 0.8, n_s), inc_rate)
    use_rate = rng.uniform(0.15, 0.35, n_s) if special else rng.uniform(0.02, 0.08, n_s)
    use_rate *= np.where(np.array([n in ("SEMH", "ASD") for n in need]), 1.5, 1.0)
    need_group = np.array([_need_group(n) for n in need], dtype=np.int64)

    # Planted effects, as per-pupil arrays.
    decline = np.zeros((n_s, n_d))
    harder_dim = np.zeros(n_s, dtype=np.int64)  # 0 none, 1 activity, 2 period
    harder_val = np.full(n_s, -1, dtype=np.int64)
    harder_rr = np.ones(n_s)
    planted_strategy = np.full(n_s, -1, dtype=np.int64)
    planted_effect = np.zeros(n_s)
    period_codes = [p.code for p in tt.periods]
    for s, p in enumerate(sp):
        if p.index in plan.mood_decline:
            f = plan.mood_decline[p.index].fields
            decline[s, cal.index_on_or_after(date.fromisoformat(f["start_date"])) :] = f["size"]
        if p.index in plan.harder:
            f = plan.harder[p.index].fields
            if f["dimension"] == "activity":
                harder_dim[s], harder_val[s] = 1, ACT[f["value"]]
            else:
                harder_dim[s], harder_val[s] = 2, period_codes.index(f["value"])
            harder_rr[s] = f["rate_ratio"]
            # Enough incidents to show the context: about 14 a year expected inside it.
            share = _context_share(school, int(harder_dim[s]), int(harder_val[s]), p.year_group0)
            inc_rate[s] = max(inc_rate[s], 0.2, 14 / (harder_rr[s] * share * 190))
        if p.index in plan.strategy:
            f = plan.strategy[p.index].fields
            planted_strategy[s] = STRATEGY_CODES.index(f["strategy_code"])
            planted_effect[s] = f["effect"]
            use_rate[s] = max(use_rate[s], 0.12)

    day_eff = _ar1(rng, (n_s, n_d), DAY_PHI, DAY_SD)
    half_eff = rng.normal(0, HALF_SD, (n_s, n_d, 2))

    # Pupil-days in school.
    pd_s, pd_d = np.nonzero(am | pm)
    n_pd = len(pd_s)
    pd_am, pd_pm = am[pd_s, pd_d], pm[pd_s, pd_d]
    win_a = np.where(pd_am, day_start, lunch_end)
    win_b = np.where(pd_pm, day_end, lunch_end)
    frac = (win_b - win_a) / day_len

    # Regular observations.
    if special:
        n_full = rng.integers(4, 7, n_pd)
    else:
        n_full = rng.choice(np.array([0, 1, 2, 3]), size=n_pd, p=[0.12, 0.35, 0.38, 0.15])
    n_obs = np.where(frac >= 1, n_full, rng.binomial(n_full, np.minimum(frac, 1.0)))
    o_pd = np.repeat(np.arange(n_pd), n_obs)
    o_t = win_a[o_pd] + np.floor(rng.random(len(o_pd)) * (win_b - win_a)[o_pd]).astype(np.int64)

    # Strategy uses: at most one per half day, each with an observation at the moment of
    # use and a follow-up 5-45 minutes later, and no other observation in between.
    use_am = pd_am & (rng.random(n_pd) < use_rate[pd_s])
    use_pm = pd_pm & (rng.random(n_pd) < use_rate[pd_s])
    # A planted pupil needs enough uses of the strategy and of others to compare with.
    for s in np.nonzero(planted_strategy >= 0)[0].tolist():
        mine = pd_s == s
        short = PLANTED_USE_TARGET + PLANTED_OTHER_USES - int((use_am | use_pm)[mine].sum())
        free = np.nonzero(mine & pd_am & ~use_am)[0]
        if short > 0 and len(free):
            use_am[rng.choice(free, size=min(short, len(free)), replace=False)] = True
    t_am = day_start + 5 + np.floor(rng.random(n_pd) * (lunch_end - 50 - day_start - 5))
    t_pm = lunch_end + np.floor(rng.random(n_pd) * (day_end - 50 - lunch_end))
    u_pd = np.concatenate([np.nonzero(use_am)[0], np.nonzero(use_pm)[0]])
    u_t = np.concatenate([t_am[use_am], t_pm[use_pm]]).astype(np.int64)
    order = np.lexsort((u_t, u_pd))
    u_pd, u_t = u_pd[order], u_t[order]
    n_u = len(u_pd)
    u_s = pd_s[u_pd]
    kits = [plan.toolkits.get(p.index, STRATEGY_CODES[:3]) for p in sp]
    kit_len = np.array([len(k) for k in kits], dtype=np.int64)
    kit_idx = np.zeros((n_s, int(kit_len.max())), dtype=np.int64)
    for s, kit in enumerate(kits):
        kit_idx[s, : len(kit)] = [STRATEGY_CODES.index(c) for c in kit]
    u_strategy = kit_idx[u_s, np.floor(rng.random(n_u) * kit_len[u_s]).astype(np.int64)]
    is_planted = planted_strategy[u_s] >= 0
    take = is_planted & (rng.random(n_u) < 0.45)
    u_strategy = np.where(take, planted_strategy[u_s], u_strategy)
    # Make sure every planted pupil has enough uses of their strategy to judge it, while
    # keeping some uses of other strategies as the pupil's own comparison.
    for s in np.nonzero(planted_strategy >= 0)[0].tolist():
        mine = np.nonzero(u_s == s)[0]
        have = int((u_strategy[mine] == planted_strategy[s]).sum())
        others = mine[u_strategy[mine] != planted_strategy[s]]
        spare = len(others) - PLANTED_OTHER_USES
        if have < PLANTED_USE_TARGET and spare > 0:
            swap = rng.choice(others, size=min(PLANTED_USE_TARGET - have, spare), replace=False)
            u_strategy[swap] = planted_strategy[s]
    u_delta = rng.integers(5, 46, n_u)
    u_dip = rng.uniform(0.8, 1.6, n_u)
    u_effect = np.where(u_strategy == planted_strategy[u_s], planted_effect[u_s], 0.0)

    block_lo = np.full(n_pd, 10**6, dtype=np.int64)
    block_hi = np.full(n_pd, -1, dtype=np.int64)
    block2_lo, block2_hi = block_lo.copy(), block_hi.copy()
    first = np.ones(n_u, dtype=bool)
    first[1:] = u_pd[1:] != u_pd[:-1]
    block_lo[u_pd[first]], block_hi[u_pd[first]] = u_t[first] - 5, u_t[first] + 60
    block2_lo[u_pd[~first]], block2_hi[u_pd[~first]] = u_t[~first] - 5, u_t[~first] + 60
    keep = ~(
        ((o_t >= block_lo[o_pd]) & (o_t <= block_hi[o_pd]))
        | ((o_t >= block2_lo[o_pd]) & (o_t <= block2_hi[o_pd]))
    )
    o_pd, o_t = o_pd[keep], o_t[keep]

    all_pd = np.concatenate([o_pd, u_pd, u_pd])
    all_t = np.concatenate([o_t, u_t, u_t + u_delta])
    kind = np.concatenate([np.zeros(len(o_pd)), np.ones(n_u), np.full(n_u, 2)]).astype(np.int64)
    ref = np.concatenate([np.full(len(o_pd), -1), np.arange(n_u), np.arange(n_u)])
    order = np.lexsort((kind, all_t, all_pd))
    all_pd, all_t, kind, ref = all_pd[order], all_t[order], kind[order], ref[order]
    dup = np.zeros(len(all_pd), dtype=bool)
    dup[1:] = (all_pd[1:] == all_pd[:-1]) & (all_t[1:] == all_t[:-1])
    all_pd, all_t, kind, ref = all_pd[~dup], all_t[~dup], kind[~dup], ref[~dup]
    n_o = len(all_pd)
    s_o, d_o = pd_s[all_pd], pd_d[all_pd]

    year_group0 = np.array([p.year_group0 for p in sp], dtype=np.int64)
    yg_o = year_group0[s_o] + cal.year_of_day[d_o]
    act_o = tt.activity_of(all_t, yg_o, cal.weekday[d_o])
    per_o = tt.period_of(all_t)
    ctx_o = ((harder_dim[s_o] == 1) & (act_o == harder_val[s_o])) | (
        (harder_dim[s_o] == 2) & (per_o == harder_val[s_o])
    )
    half_o = (all_t >= lunch_end).astype(np.int64)
    latent = (
        base_mood[s_o]
        + day_eff[s_o, d_o]
        + half_eff[s_o, d_o, half_o]
        + rng.normal(0, OBS_SD, n_o)
        - decline[s_o, d_o]
        - HARDER_MOOD_DROP * ctx_o
    )
    at_use, after_use = kind == 1, kind == 2
    latent[at_use] -= u_dip[ref[at_use]]
    latent[after_use] += -RECOVERY * u_dip[ref[after_use]] + u_effect[ref[after_use]]
    dev = latent - base_mood[s_o]
    eng = base_eng[s_o] + 0.7 * dev + rng.normal(0, OBS_SD, n_o)
    reg = base_reg[s_o] + 0.8 * dev + rng.normal(0, 0.4, n_o) - HARDER_REGULATION_DROP * ctx_o
    mood = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    engagement = np.clip(np.rint(eng), 1, 5).astype(np.int64)
    regulation = np.clip(np.rint(reg), 1, 5).astype(np.int64)
    setting_o = settings_for(rng, act_o, special)

    staff = _staff_picker(school, sp, cal.year_of_day)
    staff_o = staff(rng, s_o, d_o, act_o)
    note_o = np.where(
        rng.random(n_o) < 0.05,
        np.array(OBSERVATION_NOTES, dtype=object)[rng.integers(0, len(OBSERVATION_NOTES), n_o)],
        "",
    )

    upn = np.array([p.upn for p in sp], dtype=object)
    urn = school.urn
    out = DailyTables()
    start = next_ids["observations"]
    next_ids["observations"] += n_o
    out.observations = {
        "observation_id": [f"O{n:08d}" for n in range(start, start + n_o)],
        "school_urn": [urn] * n_o,
        "upn": upn[s_o].tolist(),
        "observed_on": day_text[d_o].tolist(),
        "observed_time": TIME_TEXT[all_t].tolist(),
        "staff_id": staff_o.tolist(),
        "activity": np.array(ACTIVITIES, dtype=object)[act_o].tolist(),
        "setting": np.array(SETTINGS, dtype=object)[setting_o].tolist(),
        "mood": DIGIT[mood].tolist(),
        "engagement": DIGIT[engagement].tolist(),
        "regulation": DIGIT[regulation].tolist(),
        "note": note_o.tolist(),
    }

    # Strategy uses take their context, staff and mood from the observation at the use.
    pos_use = np.full(n_u, -1, dtype=np.int64)
    pos_after = np.full(n_u, -1, dtype=np.int64)
    pos_use[ref[at_use]] = np.nonzero(at_use)[0]
    pos_after[ref[after_use]] = np.nonzero(after_use)[0]
    change = latent[pos_after] - latent[pos_use] + rng.normal(0, 0.4, n_u)
    outcome = np.where(change > 0.8, 0, np.where(change > 0.2, 1, 2))
    start = next_ids["strategy_uses"]
    next_ids["strategy_uses"] += n_u
    use_note = np.where(
        rng.random(n_u) < 0.1,
        np.array(STRATEGY_NOTES, dtype=object)[rng.integers(0, len(STRATEGY_NOTES), n_u)],
        "",
    )
    out.strategy_uses = {
        "use_id": [f"U{n:08d}" for n in range(start, start + n_u)],
        "school_urn": [urn] * n_u,
        "upn": upn[u_s].tolist(),
        "used_on": day_text[pd_d[u_pd]].tolist(),
        "used_time": TIME_TEXT[u_t].tolist(),
        "staff_id": staff_o[pos_use].tolist(),
        "strategy_code": np.array(STRATEGY_CODES, dtype=object)[u_strategy].tolist(),
        "activity": np.array(ACTIVITIES, dtype=object)[act_o[pos_use]].tolist(),
        "setting": np.array(SETTINGS, dtype=object)[setting_o[pos_use]].tolist(),
        "outcome": OUTCOMES[outcome].tolist(),
        "note": use_note.tolist(),
    }

    out.incidents = _incidents(
        rng,
        school,
        sp,
        plan,
        pd_s,
        pd_d,
        win_a,
        win_b,
        inc_rate,
        day_eff,
        decline,
        harder_dim,
        harder_val,
        harder_rr,
        need_group,
        year_group0,
        staff,
        upn,
        day_text,
        next_ids,
    )
    _realised(
        plan,
        sp,
        s_o,
        d_o,
        kind,
        ref,
        mood,
        u_s,
        u_strategy,
        planted_strategy,
        pos_use,
        pos_after,
        cal.days,
    )
    _realised_harder(
        plan,
        sp,
        out.incidents,
        upn,
        harder_dim,
        harder_val,
        pd_s,
        pd_d,
        win_a,
        win_b,
        school,
        year_group0,
    )
    return out


def _staff_picker(school: School, sp: list[Pupil], year_of_day: I64) -> StaffPicker:
    """A function choosing who recorded each row: class teacher, class TA or therapist."""
    ids = np.array([s.staff_id for s in school.staff], dtype=object)
    pos = {s.staff_id: i for i, s in enumerate(school.staff)}
    teachers = np.array([pos[x] for x in school.staff_with_role("teacher")], dtype=np.int64)
    therapists = np.array([pos[x] for x in school.staff_with_role("therapist")], dtype=np.int64)
    years = int(year_of_day.max()) + 1
    teacher = np.zeros((len(sp), years), dtype=np.int64)
    tas = np.zeros((len(sp), years, 2), dtype=np.int64)
    for s, p in enumerate(sp):
        last = p.chars[0].reg_group if p.chars else ""
        groups = {c.year_index: c.reg_group for c in p.chars}
        for y in range(years):
            last = groups.get(y, last)
            t, a = school.class_staff.get(last, (school.staff_with_role("teacher")[0], ()))
            teacher[s, y] = pos[t]
            kit = [pos[x] for x in a] or [pos[t]]
            tas[s, y] = [kit[0], kit[-1]]

    def pick(rng: np.random.Generator, s: I64, d: I64, act: I64) -> npt.NDArray[np.object_]:
        y = year_of_day[d]
        u = rng.random(len(s))
        choice = tas[s, y, (u * 10).astype(np.int64) % 2]
        by_teacher = u < (0.2 if school.is_special else 0.35)
        if school.phase == "secondary" and len(teachers):
            # Secondary pupils see subject teachers, not only their form tutor.
            choice = np.where(by_teacher, teachers[rng.integers(0, len(teachers), len(s))], choice)
        else:
            choice = np.where(by_teacher, teacher[s, y], choice)
        if len(therapists):
            therapy = act == ACT["therapy"]
            choice = np.where(therapy, therapists[rng.integers(0, len(therapists), len(s))], choice)
        result: npt.NDArray[np.object_] = ids[choice]
        return result

    return pick


def _context_ranges(
    school: School,
    dim: int,
    value: int,
    year_group: int,
    weekday: int,
    cache: dict[tuple[int, int, int, int], list[range]],
) -> list[range]:
    key = (dim, value, year_group, weekday)
    if key not in cache:
        tt = school.timetable
        if dim == 1:
            cache[key] = tt.minutes_in_activity(year_group, weekday, value)
        else:
            period = tt.periods[value]
            cache[key] = [range(period.start, period.end)]
    return cache[key]


def _context_share(school: School, dim: int, value: int, year_group: int) -> float:
    """Average share of the school day spent in a context over a week."""
    cache: dict[tuple[int, int, int, int], list[range]] = {}
    tt = school.timetable
    total = sum(
        len(r)
        for wd in range(5)
        for r in _context_ranges(school, dim, value, year_group, wd, cache)
    )
    return max(total / (5 * (tt.day_end - tt.day_start)), 0.01)


def _clip_ranges(ranges: list[range], lo: int, hi: int) -> list[range]:
    out = []
    for r in ranges:
        a, b = max(r.start, lo), min(r.stop, hi)
        if b > a:
            out.append(range(a, b))
    return out


def _incidents(
    rng: np.random.Generator,
    school: School,
    sp: list[Pupil],
    plan: PatternPlan,
    pd_s: I64,
    pd_d: I64,
    win_a: I64,
    win_b: I64,
    inc_rate: F64,
    day_eff: F64,
    decline: F64,
    harder_dim: I64,
    harder_val: I64,
    harder_rr: F64,
    need_group: I64,
    year_group0: I64,
    staff: StaffPicker,
    upn: npt.NDArray[np.object_],
    day_text: npt.NDArray[np.object_],
    next_ids: dict[str, int],
) -> Columns:
    cal, tt = school.calendar, school.timetable
    day_len = tt.day_end - tt.day_start
    # Low days (and a planted decline) make incidents likelier.
    mult = np.exp(-0.6 * (day_eff[pd_s, pd_d] - decline[pd_s, pd_d]))
    lam = inc_rate[pd_s] * (win_b - win_a) / day_len * mult
    n = rng.poisson(lam)
    i_pd = np.repeat(np.arange(len(pd_s)), n)
    i_t = win_a[i_pd] + np.floor(rng.random(len(i_pd)) * (win_b - win_a)[i_pd]).astype(np.int64)
    extra_pd: list[int] = []
    extra_t: list[int] = []
    cache: dict[tuple[int, int, int, int], list[range]] = {}
    for s in np.nonzero(harder_dim > 0)[0].tolist():
        mine = np.nonzero(pd_s == s)[0]
        for k in mine.tolist():
            d = int(pd_d[k])
            yg = int(year_group0[s] + cal.year_of_day[d])
            ranges = _clip_ranges(
                _context_ranges(
                    school, int(harder_dim[s]), int(harder_val[s]), yg, int(cal.weekday[d]), cache
                ),
                int(win_a[k]),
                int(win_b[k]),
            )
            minutes = sum(len(r) for r in ranges)
            if minutes == 0:
                continue
            expected = inc_rate[s] / day_len * (harder_rr[s] - 1) * minutes * mult[k]
            for _ in range(int(rng.poisson(expected))):
                at = int(rng.integers(minutes))
                for r in ranges:
                    if at < len(r):
                        extra_pd.append(k)
                        extra_t.append(r.start + at)
                        break
                    at -= len(r)
    i_pd = np.concatenate([i_pd, np.array(extra_pd, dtype=np.int64)])
    i_t = np.concatenate([i_t, np.array(extra_t, dtype=np.int64)])
    order = np.lexsort((i_t, i_pd))
    i_pd, i_t = i_pd[order], i_t[order]
    n_i = len(i_pd)
    s_i, d_i = pd_s[i_pd], pd_d[i_pd]
    act = tt.activity_of(i_t, year_group0[s_i] + cal.year_of_day[d_i], cal.weekday[d_i])
    setting = settings_for(rng, act, school.is_special)
    antecedent = _draw(rng, _ANTECEDENT_CUM, _ACT_KIND[act])
    behaviour = _draw(rng, _BEHAVIOUR_CUM, need_group[s_i])
    consequence = _draw(rng, _CONSEQUENCE_CUM, behaviour)
    intensity = rng.choice(np.arange(1, 6), size=n_i, p=[0.2, 0.35, 0.28, 0.12, 0.05])
    severe = np.isin(
        behaviour, [BEHAVIOURS.index("physical_aggression"), BEHAVIOURS.index("property_damage")]
    )
    intensity = np.minimum(intensity + severe, 5)
    duration = np.clip(np.rint(np.exp(rng.normal(1.7, 0.7, n_i))), 1, 90).astype(np.int64)
    start = next_ids["incidents"]
    next_ids["incidents"] += n_i
    return {
        "incident_id": [f"I{n:08d}" for n in range(start, start + n_i)],
        "school_urn": [school.urn] * n_i,
        "upn": upn[s_i].tolist(),
        "occurred_on": day_text[d_i].tolist(),
        "occurred_time": TIME_TEXT[i_t].tolist(),
        "staff_id": staff(rng, s_i, d_i, act).tolist(),
        "activity": np.array(ACTIVITIES, dtype=object)[act].tolist(),
        "setting": np.array(SETTINGS, dtype=object)[setting].tolist(),
        "antecedent": np.array(ANTECEDENTS, dtype=object)[antecedent].tolist(),
        "behaviour": np.array(BEHAVIOURS, dtype=object)[behaviour].tolist(),
        "consequence": np.array(CONSEQUENCES, dtype=object)[consequence].tolist(),
        "intensity": [str(x) for x in intensity.tolist()],
        "duration_minutes": [str(x) for x in duration.tolist()],
        # Kept for the realised-pattern summary; removed before writing.
        "_pd": i_pd.tolist(),
        "_t": i_t.tolist(),
    }


def _realised(
    plan: PatternPlan,
    sp: list[Pupil],
    s_o: I64,
    d_o: I64,
    kind: I64,
    ref: I64,
    mood: I64,
    u_s: I64,
    u_strategy: I64,
    planted_strategy: I64,
    pos_use: I64,
    pos_after: I64,
    days: I64,
) -> None:
    change = mood[pos_after] - mood[pos_use]
    for s, p in enumerate(sp):
        if p.index in plan.strategy:
            mine = u_s == s
            target = mine & (u_strategy == planted_strategy[s])
            other = mine & ~target
            f = plan.strategy[p.index].fields
            f["n_uses"] = int(target.sum())
            f["n_uses_other_strategies"] = int(other.sum())
            f["mean_change_with_strategy"] = (
                round(float(change[target].mean()), 3) if target.any() else None
            )
            f["mean_change_other_strategies"] = (
                round(float(change[other].mean()), 3) if other.any() else None
            )
        if p.index in plan.mood_decline:
            f = plan.mood_decline[p.index].fields
            start = date.fromisoformat(f["start_date"]).toordinal()
            regular = (s_o == s) & (kind == 0)
            after = regular & (days[d_o] >= start)
            before = regular & (days[d_o] < start)
            f["mean_mood_before"] = round(float(mood[before].mean()), 3) if before.any() else None
            f["mean_mood_after"] = round(float(mood[after].mean()), 3) if after.any() else None


def _realised_harder(
    plan: PatternPlan,
    sp: list[Pupil],
    incidents: Columns,
    upn: npt.NDArray[np.object_],
    harder_dim: I64,
    harder_val: I64,
    pd_s: I64,
    pd_d: I64,
    win_a: I64,
    win_b: I64,
    school: School,
    year_group0: I64,
) -> None:
    cal, tt = school.calendar, school.timetable
    i_pd = np.array(incidents.pop("_pd"), dtype=np.int64)
    i_t = np.array(incidents.pop("_t"), dtype=np.int64)
    cache: dict[tuple[int, int, int, int], list[range]] = {}
    for s in np.nonzero(harder_dim > 0)[0].tolist():
        mine = np.nonzero(pd_s == s)[0]
        exposure = int((win_b[mine] - win_a[mine]).sum())
        ctx_minutes = 0
        for k in mine.tolist():
            d = int(pd_d[k])
            yg = int(year_group0[s] + cal.year_of_day[d])
            ranges = _clip_ranges(
                _context_ranges(
                    school, int(harder_dim[s]), int(harder_val[s]), yg, int(cal.weekday[d]), cache
                ),
                int(win_a[k]),
                int(win_b[k]),
            )
            ctx_minutes += sum(len(r) for r in ranges)
        hit = pd_s[i_pd] == s
        d_i = pd_d[i_pd[hit]]
        t_i = i_t[hit]
        if harder_dim[s] == 1:
            act = tt.activity_of(t_i, year_group0[s] + cal.year_of_day[d_i], cal.weekday[d_i])
            in_ctx = int((act == harder_val[s]).sum())
        else:
            in_ctx = int((tt.period_of(t_i) == harder_val[s]).sum())
        total = int(hit.sum())
        f = plan.harder[sp[s].index].fields
        f["incidents_total"] = total
        f["incidents_in_context"] = in_ctx
        f["exposure_share"] = round(ctx_minutes / exposure, 4) if exposure else None
        out_minutes = exposure - ctx_minutes
        if ctx_minutes and out_minutes and total - in_ctx > 0:
            ratio = (in_ctx / ctx_minutes) / ((total - in_ctx) / out_minutes)
            f["realised_rate_ratio"] = round(ratio, 2)
        else:
            f["realised_rate_ratio"] = None
