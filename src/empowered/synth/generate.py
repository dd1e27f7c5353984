"""``generate_trust``: write a whole synthetic trust in the canonical format plus a manifest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from empowered.school_years import academic_year_label, academic_year_of
from empowered.synth.attendance import plan_permanent_exclusions
from empowered.synth.calendar import census_date, last_complete_academic_year
from empowered.synth.codes import INTERVENTIONS, STRATEGIES, TRAINING_COURSES
from empowered.synth.daily import TIME_TEXT
from empowered.synth.parallel import SchoolYears, default_workers, write_in_workers
from empowered.synth.patterns import (
    HARDER_RATE_RATIO,
    INTERVENTION_GAIN,
    MIN_PLANTED_USES,
    MOOD_DECLINE,
    PLANTED_SHARE,
    STRATEGY_EFFECT,
    USUAL_GAIN,
    PatternPlan,
    Planted,
    choose_patterns,
)
from empowered.synth.people import Pupil, build_pupils, year_group_label
from empowered.synth.rng import substream
from empowered.synth.school_year import ID_SEQUENCES, write_school_year
from empowered.synth.schools import Trust, build_staff, build_trust
from empowered.synth.summaries import StatusRecord, sen_need_rows
from empowered.synth.through import ThroughSink
from empowered.synth.writer import CsvSink

GENERATOR = "empowered.synth"
MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
YN = ("N", "Y")


@dataclass(frozen=True)
class TrustSummary:
    """What ``generate_trust`` wrote: rows per file and where the manifest is."""

    out_dir: Path
    manifest_path: Path
    counts: Mapping[str, int]  # file name -> data rows (header excluded)
    seed: int
    schools: int
    pupils: int
    patterns: int


def generate_trust(
    out_dir: Path,
    *,
    schools: int = 3,
    pupils: int = 1500,
    years: int = 1,
    seed: int = 1,
    first_academic_year: int | None = None,
    through: date | None = None,
    workers: int | None = None,
) -> TrustSummary:
    """Write a synthetic multi-academy trust into ``out_dir`` (see docs/synthetic-trust.md).

    ``pupils`` is the number on roll at the start of the first year; ``first_academic_year``
    2025 means the year from September 2025 ("2025/26"); by default the trust covers the
    most recent completed academic years. ``through`` cuts the trust off at a date (nothing
    is dated after it; synth.through): by default the years then end with the one holding
    it, so ``through=date.today()`` is a school year in progress. Same arguments, same bytes.

    ``workers`` processes make the schools side by side (synth.parallel; default: one per
    core from 5,000 pupils, no more than there are schools); the files are the same
    whatever the number, and ``workers=1`` makes the schools one after another in this
    process.
    """
    if schools < 1:
        raise ValueError("schools must be at least 1")
    if pupils < 10 * schools:
        raise ValueError("pupils must be at least 10 per school")
    if years < 1:
        raise ValueError("years must be at least 1")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if first_academic_year is None and through is not None:
        # The year holding ``through`` is the last, in progress up to that day.
        first_academic_year = academic_year_of(through) - years + 1
    if first_academic_year is None:
        # The most recent completed years, so the data is recent and none of it is future.
        first_academic_year = last_complete_academic_year(date.today()) - years + 1
    if through is not None and through < date(first_academic_year, 9, 1):
        raise ValueError(
            f"through ({through.isoformat()}) is before the first academic year "
            f"({academic_year_label(first_academic_year)}) starts"
        )
    trust = build_trust(seed, schools, pupils, first_academic_year, years)
    roll = build_pupils(seed, trust)
    permanents = plan_permanent_exclusions(seed, trust, roll)
    plan = choose_patterns(seed, trust, roll)
    by_school: list[list[Pupil]] = [[] for _ in trust.schools]
    for p in roll:
        by_school[p.school].append(p)
    for school, members in zip(trust.schools, by_school, strict=True):
        groups = sorted({c.reg_group for p in members for c in p.chars})
        first = school.calendar.half_terms[0].start
        n_ehcp = sum(1 for p in members if p.status_on(first).provision == "E")
        build_staff(seed, school, groups, n_ehcp)

    with CsvSink(out_dir) if through is None else ThroughSink(out_dir, through) as sink:
        _write_reference(sink, trust)
        _write_people(sink, trust, by_school)
        _write_training(sink, seed, trust, by_school, plan)
        job = SchoolYears(seed, plan, permanents, through)
        workers = min(workers or default_workers(pupils), len(trust.schools))
        if workers > 1:
            write_in_workers(sink, job, trust, by_school, workers)
        else:
            next_ids = dict.fromkeys(ID_SEQUENCES, 1)
            for school, members in zip(trust.schools, by_school, strict=True):
                write_school_year(sink, seed, school, members, plan, permanents, next_ids, through)
        counts = dict(sink.counts)

    manifest = _manifest(
        trust, roll, plan, counts, seed, schools, pupils, years, first_academic_year, through
    )
    manifest_path = out_dir / MANIFEST_NAME
    manifest_path.write_text(
        json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return TrustSummary(
        out_dir=out_dir,
        manifest_path=manifest_path,
        counts=MappingProxyType(counts),
        seed=seed,
        schools=len(trust.schools),
        pupils=len(roll),
        patterns=len(manifest["patterns"]),
    )


def _write_reference(sink: CsvSink, trust: Trust) -> None:
    sink.write_rows(
        "schools",
        [
            {
                "school_urn": s.urn,
                "la_code": s.la_code,
                "estab": s.estab,
                "school_name": s.name,
                "phase": s.phase,
                "trust_name": trust.name,
                # As GIAS names the type of a school that joined a trust.
                "establishment_type": (
                    "Academy special converter" if s.phase == "special" else "Academy converter"
                ),
            }
            for s in trust.schools
        ],
    )
    sink.write_rows(
        "strategies",
        [{"strategy_code": c, "strategy_name": n, "category": k} for c, n, k in STRATEGIES],
    )
    sink.write_rows(
        "interventions",
        [
            {
                "intervention_code": c,
                "intervention_name": n,
                "area_of_need": a,
                "target_need": t,
                "measure": m,
                "group_size": str(g),
                "minutes_per_session": str(mins),
                "hourly_staff_cost": f"{hc:.2f}",
                "materials_cost": f"{mc:.2f}",
                "training_cost": f"{tc:.2f}",
            }
            for c, n, a, t, m, g, mins, hc, mc, tc in INTERVENTIONS
        ],
    )
    for s in trust.schools:
        sink.write_rows(
            "terms",
            [
                {
                    "school_urn": s.urn,
                    "academic_year": ht.academic_year,
                    "term": ht.term,
                    "half_term": str(ht.half_term),
                    "start_date": ht.start.isoformat(),
                    "end_date": ht.end.isoformat(),
                }
                for ht in s.calendar.half_terms
            ],
        )
        sink.write_rows(
            "closures",
            [
                {"school_urn": s.urn, "date": d.isoformat(), "reason": reason}
                for d, reason in s.calendar.closures
            ],
        )
        sink.write_rows(
            "periods",
            [
                {
                    "school_urn": s.urn,
                    "period_code": p.code,
                    "period_name": p.name,
                    "start_time": TIME_TEXT[p.start],
                    "end_time": TIME_TEXT[p.end],
                }
                for p in s.timetable.periods
            ],
        )
        sink.write_rows(
            "staff",
            [{"school_urn": s.urn, "staff_id": st.staff_id, "role": st.role} for st in s.staff],
        )


def _write_people(sink: CsvSink, trust: Trust, by_school: list[list[Pupil]]) -> None:
    for school, members in zip(trust.schools, by_school, strict=True):
        urn = school.urn
        sink.write_rows(
            "pupils",
            [
                {
                    "school_urn": urn,
                    "mis_id": p.mis_id,
                    "upn": p.upn,
                    "forename": p.forename,
                    "surname": p.surname,
                    "date_of_birth": p.dob.isoformat(),
                    "sex": p.sex,
                    "ethnicity": p.ethnicity,
                    "first_language": p.language,
                    "entry_date": p.entry.isoformat(),
                    "leaving_date": p.leaving.isoformat() if p.leaving else "",
                }
                for p in members
            ],
        )
        sink.write_rows(
            "characteristics",
            [
                {
                    "school_urn": urn,
                    "upn": p.upn,
                    "effective_date": c.effective.isoformat(),
                    "year_group": year_group_label(c.year_group),
                    "reg_group": c.reg_group,
                    "fsm": YN[c.fsm],
                    "pupil_premium": YN[c.pupil_premium],
                    "looked_after": YN[c.looked_after],
                    "service_child": YN[c.service_child],
                    # Not known: EAL comes from the first language, as most MIS exports
                    # without an EAL column leave it.
                    "eal": "",
                    "fsm6": "",
                }
                for p in members
                for c in p.chars
            ],
        )
        sink.write_rows(
            "sen_status",
            [
                {
                    "school_urn": urn,
                    "upn": p.upn,
                    "start_date": s.start.isoformat(),
                    "sen_provision": s.provision,
                    "primary_need": s.primary,
                    "secondary_need": s.secondary,
                }
                for p in members
                for s in p.sen
            ],
        )
        sink.write_rows(
            "sen_needs",
            [
                row
                for p in members
                for row in sen_need_rows(
                    urn,
                    p.upn,
                    [StatusRecord(s.start, s.provision, s.primary, s.secondary) for s in p.sen],
                )
            ],
        )
        sink.write_rows(
            "groups",
            sorted(
                (
                    {
                        "school_urn": urn,
                        "group_code": g,
                        "staff_id": school.class_staff[g][0],
                        "upn": upn,
                    }
                    for g, upn in {(c.reg_group, p.upn) for p in members for c in p.chars}
                ),
                key=lambda row: (row["group_code"], row["upn"]),
            ),
        )


def _need_counts(members: list[Pupil]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in members:
        need = p.sen[-1].primary
        if need:
            counts[need] = counts.get(need, 0) + 1
    return counts


def _write_training(
    sink: CsvSink, seed: int, trust: Trust, by_school: list[list[Pupil]], plan: PatternPlan
) -> None:
    areas = [area for area, _ in TRAINING_COURSES]
    courses = dict(TRAINING_COURSES)
    earliest = date(trust.first_year - 3, 9, 1)
    for school, members in zip(trust.schools, by_school, strict=True):
        rng = substream(seed, "training", school.index)
        counts = _need_counts(members)
        # Training follows the school's needs loosely, plus a floor for general courses.
        weights = np.array(
            [counts.get(a, 0) + 0.05 * len(members) / len(areas) for a in areas], dtype=float
        )
        gap = plan.training_gap.get(school.index)
        if gap is not None:
            weights[areas.index(gap.fields["area_of_need"])] *= 0.03
        weights /= weights.sum()
        end = school.calendar.half_terms[-1].end
        rows: list[dict[str, str]] = []
        for st in school.staff:
            mean = {"senco": 4.0, "therapist": 3.0, "leader": 1.0}.get(st.role, 1.5)
            for _ in range(int(rng.poisson(mean))):
                area = areas[int(rng.choice(len(areas), p=weights))]
                course = courses[area][int(rng.integers(len(courses[area])))]
                when = earliest + timedelta(days=int(rng.integers((end - earliest).days)))
                rows.append(
                    {
                        "school_urn": school.urn,
                        "staff_id": st.staff_id,
                        "area_of_need": area,
                        "course": course,
                        "completed_on": when.isoformat(),
                    }
                )
        sink.write_rows("staff_training", rows)
        if gap is not None:
            need = gap.fields["area_of_need"]
            sen = sum(counts.values())
            gap.fields["need_share"] = round(counts.get(need, 0) / sen, 4) if sen else None
            gap.fields["training_share"] = (
                round(sum(1 for r in rows if r["area_of_need"] == need) / len(rows), 4)
                if rows
                else None
            )
            gap.fields["training_records"] = len(rows)


def _prevalence(pupils: list[Pupil], on: date) -> dict[str, Any]:
    counts = {"pupils": 0, "ehc_plan": 0, "sen_support": 0, "no_sen": 0}
    needs: dict[str, dict[str, int]] = {"ehc_plan": {}, "sen_support": {}}
    for p in pupils:
        if not p.on_roll(on):
            continue
        counts["pupils"] += 1
        spell = p.status_on(on)
        key = {"E": "ehc_plan", "K": "sen_support", "N": "no_sen"}[spell.provision]
        counts[key] += 1
        if key in needs:
            needs[key][spell.primary] = needs[key].get(spell.primary, 0) + 1
    total = max(counts["pupils"], 1)
    return {
        **counts,
        "ehc_plan_share": round(counts["ehc_plan"] / total, 4),
        "sen_support_share": round(counts["sen_support"] / total, 4),
        "primary_need_ehc_plan": needs["ehc_plan"],
        "primary_need_sen_support": needs["sen_support"],
    }


def _manifest(
    trust: Trust,
    pupils: list[Pupil],
    plan: PatternPlan,
    counts: dict[str, int],
    seed: int,
    schools: int,
    n_pupils: int,
    years: int,
    first_year: int,
    through: date | None,
) -> dict[str, Any]:
    urn = {s.index: s.urn for s in trust.schools}
    upn = {p.index: p.upn for p in pupils}
    patterns: list[dict[str, Any]] = []

    def add(rec: Planted) -> None:
        entry: dict[str, Any] = {"kind": rec.kind, "school_urn": urn[rec.school]}
        if rec.pupil >= 0:
            entry["upn"] = upn[rec.pupil]
        entry.update({k: v for k, v in rec.fields.items() if not k.startswith("_")})
        entry["id"] = f"P{len(patterns) + 1:04d}"
        patterns.append(entry)

    for rec in plan.records:
        # A pattern that would start after the trust is cut off is not in its files.
        if through is None or str(rec.fields.get("start_date", "")) <= through.isoformat():
            add(rec)
    special = {s.index for s in trust.schools if s.is_special}
    # Each school's pupils, found once (not once a school: 200 schools of 120,000 pupils).
    members: dict[int, list[Pupil]] = {s.index: [] for s in trust.schools}
    for p in pupils:
        members[p.school].append(p)
    by_year = []
    for k in range(years):
        on = census_date(first_year + k)
        if through is not None and on > through:
            continue  # the census of a year in progress has not happened yet
        by_year.append(
            {
                "academic_year": academic_year_label(first_year + k),
                "census_date": on.isoformat(),
                "all_schools": _prevalence(pupils, on),
                "mainstream": _prevalence([p for p in pupils if p.school not in special], on),
                "special": _prevalence([p for p in pupils if p.school in special], on),
                "by_school": {
                    urn[s.index]: _prevalence(members[s.index], on) for s in trust.schools
                },
            }
        )
    patterns.append(
        {
            "id": f"P{len(patterns) + 1:04d}",
            "kind": "sen_prevalence",
            "school_urn": None,
            "census": by_year,
        }
    )
    parameters: dict[str, Any] = {
        "schools": schools,
        "pupils": n_pupils,
        "years": years,
        "seed": seed,
        "first_academic_year": first_year,
        "planted_share_per_kind": PLANTED_SHARE,
        "strategy_effect": STRATEGY_EFFECT,
        "min_planted_strategy_uses": MIN_PLANTED_USES,
        "harder_rate_ratio": HARDER_RATE_RATIO,
        "mood_decline_range": list(MOOD_DECLINE),
        "intervention_gain": INTERVENTION_GAIN,
        "usual_intervention_gain": USUAL_GAIN,
    }
    if through is not None:
        # Only a trust cut off at a date says so, so whole years' manifests stay as they were.
        parameters["through"] = through.isoformat()
    return {
        "generator": GENERATOR,
        "version": MANIFEST_VERSION,
        "seed": seed,
        "parameters": parameters,
        "trust_name": trust.name,
        "academic_years": [academic_year_label(first_year + k) for k in range(years)],
        "patterns": patterns,
        "counts": counts,
    }
