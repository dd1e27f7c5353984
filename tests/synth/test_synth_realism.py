"""The trust looks like English schools: SEN prevalence, need mix, characteristics, absence.

Tolerances are stated beside each check. National figures: docs/synthetic-trust.md and
shared reference national-figures.md (January 2025 and 2026 census, autumn 2024/25
absence).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

PRESENT = {"/", "\\", "L", "V", "P", "B"}


def status_on(trust: Any, on: date) -> dict[str, dict[str, str]]:
    """Each pupil's SEN status row in force on a date (pupils on roll only)."""
    on_roll = {
        p["upn"]
        for p in trust.rows("pupils")
        if p["entry_date"] <= on.isoformat()
        and (not p["leaving_date"] or p["leaving_date"] >= on.isoformat())
    }
    current: dict[str, dict[str, str]] = {}
    for r in sorted(trust.rows("sen_status"), key=lambda r: (r["upn"], r["start_date"])):
        if r["upn"] in on_roll and r["start_date"] <= on.isoformat():
            current[r["upn"]] = r
    return current


def mainstream_status(trust: Any) -> list[dict[str, str]]:
    mainstream = {s["school_urn"] for s in trust.rows("schools") if s["phase"] != "special"}
    census = date(2026, 1, 15)  # third Thursday of January 2026
    return [r for r in status_on(trust, census).values() if r["school_urn"] in mainstream]


@pytest.mark.slow
def test_mainstream_prevalence_close_to_national(trust_3000: Any) -> None:
    rows = mainstream_status(trust_3000)
    n = len(rows)
    assert n > 2000
    ehcp = sum(r["sen_provision"] == "E" for r in rows) / n
    support = sum(r["sen_provision"] == "K" for r in rows) / n
    # National: EHC plan 5.3% (Jan 2025) to 6.0% (Jan 2026); tolerance 1.5 points.
    assert 0.053 - 0.015 <= ehcp <= 0.060 + 0.015
    # National: SEN support 14.2% to 14.8%; tolerance 3 points.
    assert 0.142 - 0.03 <= support <= 0.148 + 0.03


@pytest.mark.slow
def test_need_mix_autism_leads_ehcp_and_slcn_leads_sen_support(trust_3000: Any) -> None:
    rows = mainstream_status(trust_3000)
    ehcp = Counter(r["primary_need"] for r in rows if r["sen_provision"] == "E")
    support = Counter(r["primary_need"] for r in rows if r["sen_provision"] == "K")
    assert ehcp.most_common(1)[0][0] == "ASD"
    # National ASD share of EHC plans 33.6%: within 12 points on a few hundred plans.
    assert abs(ehcp["ASD"] / sum(ehcp.values()) - 0.336) < 0.12
    assert support.most_common(1)[0][0] == "SLCN"
    assert abs(support["SLCN"] / sum(support.values()) - 0.257) < 0.08
    assert "NSA" in support and "NSA" not in ehcp
    # Across the whole trust, with special schools, autism still leads for EHC plans.
    everyone = status_on(trust_3000, date(2026, 1, 15)).values()
    all_ehcp = Counter(r["primary_need"] for r in everyone if r["sen_provision"] == "E")
    assert all_ehcp.most_common(1)[0][0] == "ASD"


@pytest.mark.slow
def test_manifest_prevalence_matches_the_files(trust_3000: Any) -> None:
    (prevalence,) = trust_3000.patterns("sen_prevalence")
    census = prevalence["census"][0]
    assert census["census_date"] == "2026-01-15"
    rows = mainstream_status(trust_3000)
    assert census["mainstream"]["pupils"] == len(rows)
    assert census["mainstream"]["ehc_plan"] == sum(r["sen_provision"] == "E" for r in rows)
    assert census["mainstream"]["sen_support"] == sum(r["sen_provision"] == "K" for r in rows)
    needs = Counter(r["primary_need"] for r in rows if r["sen_provision"] == "K")
    assert census["mainstream"]["primary_need_sen_support"] == dict(needs)


@pytest.mark.slow
def test_characteristics_follow_sen_status(trust_3000: Any) -> None:
    status = {r["upn"]: r["sen_provision"] for r in mainstream_status(trust_3000)}
    first: dict[str, dict[str, str]] = {}
    for c in trust_3000.rows("characteristics"):
        first.setdefault(c["upn"], c)
    fsm: dict[str, list[bool]] = {"E": [], "K": [], "N": []}
    for upn, provision in status.items():
        fsm[provision].append(first[upn]["fsm"] == "Y")
    rate = {k: sum(v) / len(v) for k, v in fsm.items()}
    # National: 43.8% / 39.3% / 22.2%. Tolerance 10 points for the smaller groups.
    assert abs(rate["E"] - 0.438) < 0.12
    assert abs(rate["K"] - 0.393) < 0.08
    assert abs(rate["N"] - 0.222) < 0.04
    assert rate["E"] > rate["N"] and rate["K"] > rate["N"]
    pupils = trust_3000.rows("pupils")
    eal = sum(p["first_language"] != "ENG" for p in pupils) / len(pupils)
    assert 0.15 <= eal <= 0.25
    assert Counter(p["ethnicity"] for p in pupils).most_common(1)[0][0] == "WBRI"
    looked_after = sum(c["looked_after"] == "Y" for c in first.values()) / len(first)
    assert 0.002 <= looked_after <= 0.02
    accented = [p for p in pupils if any(ord(ch) > 127 for ch in p["forename"] + p["surname"])]
    assert accented


@pytest.mark.slow
def test_absence_higher_with_sen(trust_3000: Any) -> None:
    status = {
        r["upn"]: r["sen_provision"] for r in status_on(trust_3000, date(2025, 9, 15)).values()
    }
    sessions: dict[str, list[int]] = {}
    for r in trust_3000.rows("attendance"):
        counts = sessions.setdefault(r["upn"], [0, 0])
        counts[0] += 1
        counts[1] += r["code"] not in PRESENT
    by_group: dict[str, list[float]] = {"E": [], "K": [], "N": []}
    for upn, (possible, absent) in sessions.items():
        if possible >= 300 and upn in status:
            by_group[status[upn]].append(absent / possible)
    mean = {k: sum(v) / len(v) for k, v in by_group.items()}
    persistent = {k: sum(x >= 0.1 for x in v) / len(v) for k, v in by_group.items()}
    # National autumn 2024/25 overall absence 13.1% / 10.1% / 5.8%; tolerance 3 points.
    assert abs(mean["E"] - 0.131) < 0.03
    assert abs(mean["K"] - 0.101) < 0.03
    assert abs(mean["N"] - 0.058) < 0.015
    # Persistent absence 35% / 29% / 17%; tolerance 10 points.
    assert abs(persistent["E"] - 0.35) < 0.10
    assert abs(persistent["K"] - 0.29) < 0.10
    assert abs(persistent["N"] - 0.17) < 0.05


def test_sen_status_changes_during_the_year(synth_trust: Any) -> None:
    starts = Counter(r["upn"] for r in synth_trust.rows("sen_status"))
    assert all(n >= 1 for n in starts.values())
    assert len(starts) == len(synth_trust.rows("pupils"))
    in_year = [r for r in synth_trust.rows("sen_status") if "2025-09-15" < r["start_date"]]
    assert any(r["sen_provision"] == "E" for r in in_year)  # new EHC plans
    assert any(r["sen_provision"] == "K" for r in in_year)  # newly identified


def test_daily_records_only_for_pupils_with_sen(synth_trust: Any) -> None:
    ever_sen = {r["upn"] for r in synth_trust.rows("sen_status") if r["sen_provision"] != "N"}
    for entity in ("observations", "incidents", "strategy_uses"):
        assert {r["upn"] for r in synth_trust.rows(entity)} <= ever_sen


def test_observations_per_day_by_school_type(synth_trust: Any) -> None:
    special = {s["school_urn"] for s in synth_trust.rows("schools") if s["phase"] == "special"}
    per_day: Counter[tuple[str, str]] = Counter()
    urn_of: dict[str, str] = {}
    for o in synth_trust.rows("observations"):
        per_day[(o["upn"], o["observed_on"])] += 1
        urn_of[o["upn"]] = o["school_urn"]
    special_mean = [n for (u, _), n in per_day.items() if urn_of[u] in special]
    main_mean = [n for (u, _), n in per_day.items() if urn_of[u] not in special]
    assert 4 <= sum(special_mean) / len(special_mean) <= 7
    assert 1 <= sum(main_mean) / len(main_mean) <= 3.5


def test_training_does_not_match_need_everywhere(synth_trust: Any) -> None:
    (gap,) = synth_trust.patterns("training_gap")
    rows = [r for r in synth_trust.rows("staff_training") if r["school_urn"] == gap["school_urn"]]
    share = sum(r["area_of_need"] == gap["area_of_need"] for r in rows) / len(rows)
    assert share == pytest.approx(gap["training_share"], abs=1e-3)
    assert gap["need_share"] > 0.2 and share < 0.1


def test_suspensions_set_e_codes(synth_trust: Any) -> None:
    marks = {
        (r["upn"], r["date"]): r["code"]
        for r in synth_trust.rows("attendance")
        if r["session"] == "PM"
    }
    exclusions = synth_trust.rows("exclusions")
    assert exclusions
    hits = sum(marks.get((e["upn"], e["start_date"])) == "E" for e in exclusions)
    assert hits / len(exclusions) > 0.9
    repeat = Counter(e["upn"] for e in exclusions)
    assert max(repeat.values()) >= 2
