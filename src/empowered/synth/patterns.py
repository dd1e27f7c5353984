"""Choosing the planted patterns: which pupils, schools and interventions carry which effect.

The simulation modules read a :class:`PatternPlan` and apply the effects; they also add
what was realised (counts, observed differences) to each pattern's manifest record, so the
manifest says both what was configured and what the data actually contains.

Planted pupils are chosen from pupils with SEN on roll for the whole first academic year,
and the kinds use disjoint pupils, so that one pupil's data carries one planted signal and
the analytics' recall and false-discovery rate can be measured cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from empowered.synth.codes import (
    BROAD_AREA_OF,
    INTERVENTIONS,
    STRATEGIES_FOR_NEED,
    STRATEGY_CODES,
)
from empowered.synth.people import Pupil
from empowered.synth.rng import substream
from empowered.synth.schools import Trust

PLANTED_SHARE = 0.05  # of SEN pupils, per kind
MIN_PER_KIND = 3
STRATEGY_EFFECT = 1.2  # mood points added to the next observation after the strategy
MIN_PLANTED_USES = 15
HARDER_RATE_RATIO = 5.0
HARDER_MOOD_DROP = 0.8
HARDER_REGULATION_DROP = 0.4  # on top of the drop that follows mood
MOOD_DECLINE = (1.0, 1.5)
INTERVENTION_GAIN = 8.0  # standardised-score points, planted
USUAL_GAIN = 1.0  # standardised-score points, every other intervention
HARDER_ACTIVITIES = ("maths", "english", "lunch", "break", "transition")
HARDER_PERIODS = ("P1", "P2", "P3", "P4", "P5", "LUN", "BRK")
PUPIL_KINDS = (
    "harder_situation",
    "strategy_effect",
    "strategy_no_effect",
    "mood_decline",
    "attendance_decline",
)


@dataclass
class Planted:
    kind: str
    school: int
    pupil: int  # -1 for school-level patterns
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class PatternPlan:
    records: list[Planted] = field(default_factory=list)
    toolkits: dict[int, tuple[str, ...]] = field(default_factory=dict)
    strategy: dict[int, Planted] = field(default_factory=dict)  # effect and no-effect
    harder: dict[int, Planted] = field(default_factory=dict)
    mood_decline: dict[int, Planted] = field(default_factory=dict)
    attendance_decline: dict[int, Planted] = field(default_factory=dict)
    intervention_gain: dict[tuple[int, str], Planted] = field(default_factory=dict)
    training_gap: dict[int, Planted] = field(default_factory=dict)


def _toolkit(rng: np.random.Generator, need: str) -> tuple[str, ...]:
    preferred = dict(STRATEGIES_FOR_NEED).get(need, STRATEGY_CODES)
    n = int(rng.integers(3, 6))
    picks = list(rng.choice(len(preferred), size=min(n, len(preferred)), replace=False))
    kit = [preferred[int(i)] for i in picks]
    if rng.random() < 0.5:  # most pupils also have one strategy from outside the usual set
        extra = STRATEGY_CODES[int(rng.integers(len(STRATEGY_CODES)))]
        if extra not in kit:
            kit.append(extra)
    return tuple(kit)


def _pool(trust: Trust, pupils: list[Pupil]) -> list[Pupil]:
    """Pupils with SEN and on roll throughout the first academic year."""
    out = []
    for p in pupils:
        cal = trust.schools[p.school].calendar
        lo, hi = cal.year_bounds(0)
        first = date.fromordinal(int(cal.days[lo]))
        last = date.fromordinal(int(cal.days[hi - 1]))
        if not (p.entry <= first and (p.leaving is None or p.leaving > last)):
            continue
        statuses = [p.status_on(first).provision] + [
            s.provision for s in p.sen if first < s.start <= last
        ]
        if all(s in ("E", "K") for s in statuses):
            out.append(p)
    return out


def choose_patterns(seed: int, trust: Trust, pupils: list[Pupil]) -> PatternPlan:
    rng = substream(seed, "patterns")
    plan = PatternPlan()
    for p in pupils:
        if any(s.provision in ("E", "K") for s in p.sen):
            need = next(s.primary for s in reversed(p.sen) if s.provision in ("E", "K"))
            plan.toolkits[p.index] = _toolkit(rng, need)

    pool = _pool(trust, pupils)
    n_kind = max(MIN_PER_KIND, round(PLANTED_SHARE * len(pool)))
    n_kind = min(n_kind, len(pool) // len(PUPIL_KINDS))
    taken: set[int] = set()

    def draw(weight_of: dict[int, float] | None = None) -> list[Pupil]:
        free = [p for p in pool if p.index not in taken]
        w = np.array([(weight_of or {}).get(p.index, 1.0) for p in free], dtype=float)
        idx = rng.choice(len(free), size=min(n_kind, len(free)), replace=False, p=w / w.sum())
        chosen = [free[int(i)] for i in sorted(idx.tolist())]
        taken.update(p.index for p in chosen)
        return chosen

    first_need = {p.index: p.sen[-1].primary for p in pool}
    # Harder situations are planted on pupils who have incidents to show them: mostly
    # SEMH and autistic pupils, as in the schools this is modelled on.
    heavy = {i: 4.0 for i, need in first_need.items() if need in ("SEMH", "ASD")}
    for k, p in enumerate(draw(heavy)):
        dimension = "activity" if k % 2 == 0 else "period"
        options = HARDER_ACTIVITIES if dimension == "activity" else HARDER_PERIODS
        value = options[int(rng.integers(len(options)))]
        rec = Planted(
            "harder_situation",
            p.school,
            p.index,
            {
                "dimension": dimension,
                "value": value,
                "rate_ratio": HARDER_RATE_RATIO,
                "mood_drop": HARDER_MOOD_DROP,
                "regulation_drop": round(HARDER_MOOD_DROP * 0.8 + HARDER_REGULATION_DROP, 2),
            },
        )
        plan.harder[p.index] = rec
        plan.records.append(rec)

    effect_pupils = draw()
    for p in effect_pupils:
        code = plan.toolkits[p.index][int(rng.integers(len(plan.toolkits[p.index])))]
        rec = Planted(
            "strategy_effect", p.school, p.index, {"strategy_code": code, "effect": STRATEGY_EFFECT}
        )
        plan.strategy[p.index] = rec
        plan.records.append(rec)
    # Negative controls: the same strategies, used as often, with no effect.
    for p, effect in zip(draw(), effect_pupils, strict=False):
        code = plan.strategy[effect.index].fields["strategy_code"]
        if code not in plan.toolkits[p.index]:
            plan.toolkits[p.index] = (*plan.toolkits[p.index], code)
        rec = Planted(
            "strategy_no_effect",
            p.school,
            p.index,
            {"strategy_code": code, "effect": 0.0, "control_for": effect.upn},
        )
        plan.strategy[p.index] = rec
        plan.records.append(rec)

    for p in draw():
        cal = trust.schools[p.school].calendar
        lo, hi = cal.year_bounds(0)
        # Not in the first 6 weeks (30 days) or the last 4 weeks (20 days) of the year.
        day = int(rng.integers(lo + 30, hi - 20))
        rec = Planted(
            "mood_decline",
            p.school,
            p.index,
            {
                "start_date": date.fromordinal(int(cal.days[day])).isoformat(),
                "size": round(float(rng.uniform(*MOOD_DECLINE)), 2),
            },
        )
        plan.mood_decline[p.index] = rec
        plan.records.append(rec)

    for k, p in enumerate(draw()):
        cal = trust.schools[p.school].calendar
        lo, hi = cal.year_bounds(0)
        severe = k % 3 == 0
        latest = lo + int((hi - lo) * (0.4 if severe else 0.6))
        day = int(rng.integers(lo + 30, max(latest, lo + 31)))
        unauthorised = k % 3 != 2
        rec = Planted(
            "attendance_decline",
            p.school,
            p.index,
            {
                "start_date": date.fromordinal(int(cal.days[day])).isoformat(),
                "absence_after": 0.85 if severe else round(float(rng.uniform(0.3, 0.5)), 2),
                "mostly_unauthorised": unauthorised,
            },
        )
        plan.attendance_decline[p.index] = rec
        plan.records.append(rec)

    scored = [row[0] for row in INTERVENTIONS if row[4] == "standardised_score"]
    mainstream = [s for s in trust.schools if not s.is_special] or list(trust.schools)
    n_gain = max(1, len(trust.schools) // 3)
    for i in sorted(
        rng.choice(len(mainstream), size=min(n_gain, len(mainstream)), replace=False).tolist()
    ):
        school = mainstream[int(i)]
        # Phonics catch-up is for the youngest pupils only, so not in a secondary school.
        usable = [c for c in scored if c != "phonics_catch_up" or school.lowest_year <= 3]
        code = usable[int(rng.integers(len(usable)))]
        rec = Planted(
            "intervention_gain",
            school.index,
            -1,
            {
                "intervention_code": code,
                "mean_gain": INTERVENTION_GAIN,
                "usual_gain": USUAL_GAIN,
            },
        )
        plan.intervention_gain[(school.index, code)] = rec
        plan.records.append(rec)

    _training_gap(trust, pupils, plan)
    return plan


def _training_gap(trust: Trust, pupils: list[Pupil], plan: PatternPlan) -> None:
    """One school gets little training in its most common need (SEMH if any school's is)."""
    best: tuple[tuple[int, int], int, str] | None = None  # (rank, school, need)
    # Needs counted in one pass over the pupils (not one a school: 200 schools, 120,000).
    by_school: dict[int, dict[str, int]] = {school.index: {} for school in trust.schools}
    for p in pupils:
        if p.sen[-1].provision in ("E", "K"):
            counts = by_school[p.school]
            counts[p.sen[-1].primary] = counts.get(p.sen[-1].primary, 0) + 1
    for school in trust.schools:
        counts = by_school[school.index]
        if sum(counts.values()) < 10:
            continue
        top = max(sorted(counts), key=lambda c: counts[c])
        if top == "NSA" or top not in BROAD_AREA_OF:
            continue
        rank = (1 if top == "SEMH" else 0, sum(counts.values()))
        if best is None or rank > best[0]:
            best = (rank, school.index, top)
    if best is None:
        return
    _, school_index, need = best
    rec = Planted("training_gap", school_index, -1, {"area_of_need": need})
    plan.training_gap[school_index] = rec
    plan.records.append(rec)
