"""Planted patterns are in the manifest and visible in the raw files.

Each check recomputes the effect from the CSV files the way the analytics will (pairing a
strategy use with the observation at the use and the next one within 60 minutes, counting
incidents by context, comparing mood before and after a date), so the manifest is tested
against the data rather than against itself.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

import pytest

from empowered.upn import is_valid_upn

PUPIL_KINDS = (
    "strategy_effect",
    "strategy_no_effect",
    "harder_situation",
    "mood_decline",
    "attendance_decline",
)
PRESENT = {"/", "\\", "L", "V", "P", "B"}
UNAUTHORISED = {"O", "G", "N", "U"}


def minutes(hh_mm: str) -> int:
    return int(hh_mm[:2]) * 60 + int(hh_mm[3:])


def test_manifest_shape(synth_trust: Any) -> None:
    m = synth_trust.manifest
    assert m["generator"] == "empowered.synth" and m["version"] == 1 and m["seed"] == 7
    assert m["academic_years"] == ["2025/26"]
    assert m["parameters"]["pupils"] == 600 and m["parameters"]["schools"] == 3
    ids = [p["id"] for p in m["patterns"]]
    assert ids == [f"P{i:04d}" for i in range(1, len(ids) + 1)]
    text = synth_trust.summary.manifest_path.read_text("utf-8")
    assert text.startswith('{\n  "academic_years"')  # sorted keys, indent 2


def test_patterns_reference_real_pupils_strategies_and_interventions(synth_trust: Any) -> None:
    pupils = {(p["school_urn"], p["upn"]) for p in synth_trust.rows("pupils")}
    sen = {r["upn"] for r in synth_trust.rows("sen_status") if r["sen_provision"] != "N"}
    strategies = {r["strategy_code"] for r in synth_trust.rows("strategies")}
    interventions = {r["intervention_code"] for r in synth_trust.rows("interventions")}
    seen: dict[str, set[str]] = defaultdict(set)
    for kind in PUPIL_KINDS:
        planted = synth_trust.patterns(kind)
        assert len(planted) >= 3, kind  # at least three of each kind, even in a small trust
        for p in planted:
            assert is_valid_upn(p["upn"]) and (p["school_urn"], p["upn"]) in pupils
            assert p["upn"] in sen
            assert p["upn"] not in seen[kind], "one pattern of a kind per pupil"
            seen[kind].add(p["upn"])
            if kind.startswith("strategy"):
                assert p["strategy_code"] in strategies
    # The pupil kinds use different pupils, so each planted signal stands alone.
    all_upns = [u for kind in PUPIL_KINDS for u in seen[kind]]
    assert len(all_upns) == len(set(all_upns))
    gains = synth_trust.patterns("intervention_gain")
    assert gains and all(g["intervention_code"] in interventions for g in gains)
    controls = synth_trust.patterns("strategy_no_effect")
    effects = {p["upn"]: p["strategy_code"] for p in synth_trust.patterns("strategy_effect")}
    assert all(c["strategy_code"] == effects[c["control_for"]] for c in controls)


def use_changes(trust: Any) -> dict[tuple[str, str], list[int]]:
    """(upn, strategy) -> mood change from the use to the next observation within 60 min."""
    by_day: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for o in trust.rows("observations"):
        by_day[(o["upn"], o["observed_on"])].append((minutes(o["observed_time"]), int(o["mood"])))
    for obs in by_day.values():
        obs.sort()
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for u in trust.rows("strategy_uses"):
        obs = by_day[(u["upn"], u["used_on"])]
        t = minutes(u["used_time"])
        at = [m for ot, m in obs if ot == t]
        after = [(ot, m) for ot, m in obs if t < ot <= t + 60]
        if at and after:
            out[(u["upn"], u["strategy_code"])].append(after[0][1] - at[0])
    return out


def strategy_difference(changes: dict[tuple[str, str], list[int]], upn: str, code: str) -> float:
    mine = changes[(upn, code)]
    others = [c for (u, s), v in changes.items() if u == upn and s != code for c in v]
    return mean(mine) - mean(others)


def test_planted_strategy_effect_is_visible(synth_trust: Any) -> None:
    changes = use_changes(synth_trust)
    effects, controls = [], []
    for p in synth_trust.patterns("strategy_effect"):
        assert len(changes[(p["upn"], p["strategy_code"])]) >= 15
        assert p["n_uses"] >= 15
        effects.append(strategy_difference(changes, p["upn"], p["strategy_code"]))
    for p in synth_trust.patterns("strategy_no_effect"):
        assert len(changes[(p["upn"], p["strategy_code"])]) >= 15
        controls.append(strategy_difference(changes, p["upn"], p["strategy_code"]))
    configured = synth_trust.manifest["parameters"]["strategy_effect"]
    # Rounding to the 1..5 scale blunts the effect a little: within 0.4 of configured.
    assert mean(effects) == pytest.approx(configured, abs=0.4)
    assert abs(mean(controls)) < 0.3
    assert mean(effects) - mean(controls) == pytest.approx(configured, abs=0.45)
    assert sum(e > 0.5 for e in effects) >= 0.8 * len(effects)


def test_planted_strategy_outcomes_mostly_helped(synth_trust: Any) -> None:
    outcomes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u in synth_trust.rows("strategy_uses"):
        outcomes[(u["upn"], u["strategy_code"])].append(u["outcome"])
    for kind, low, high in (("strategy_effect", 0.65, 1.0), ("strategy_no_effect", 0.0, 0.7)):
        shares = [
            sum(o == "helped" for o in outcomes[(p["upn"], p["strategy_code"])])
            / len(outcomes[(p["upn"], p["strategy_code"])])
            for p in synth_trust.patterns(kind)
        ]
        assert low <= mean(shares) <= high, kind


def test_unplanted_pupils_have_no_strong_strategy_effects(synth_trust: Any) -> None:
    planted = {
        p["upn"]
        for kind in ("strategy_effect", "strategy_no_effect")
        for p in synth_trust.patterns(kind)
    }
    changes = use_changes(synth_trust)
    diffs = []
    for (upn, code), values in changes.items():
        others = sum(len(v) for (u, s), v in changes.items() if u == upn and s != code)
        if upn not in planted and len(values) >= 15 and others >= 10:
            diffs.append(strategy_difference(changes, upn, code))
    assert diffs, "some unplanted pupils have enough uses to judge"
    assert sum(d > 0.8 for d in diffs) <= 0.05 * len(diffs)


def test_mood_decline_is_visible(synth_trust: Any) -> None:
    moods: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for o in synth_trust.rows("observations"):
        moods[o["upn"]].append((o["observed_on"], int(o["mood"])))
    drops, sizes = [], []
    for p in synth_trust.patterns("mood_decline"):
        assert "2025-10-13" <= p["start_date"] <= "2026-06-19"  # not first 6 / last 4 weeks
        before = [m for d, m in moods[p["upn"]] if d < p["start_date"]]
        after = [m for d, m in moods[p["upn"]] if d >= p["start_date"]]
        drops.append(mean(before) - mean(after))
        sizes.append(p["size"])
        assert 1.0 <= p["size"] <= 1.5
    assert all(d > 0.5 for d in drops)
    assert mean(drops) == pytest.approx(mean(sizes), abs=0.4)


def test_harder_situation_is_visible(synth_trust: Any) -> None:
    periods = {
        (r["school_urn"], r["period_code"]): (minutes(r["start_time"]), minutes(r["end_time"]))
        for r in synth_trust.rows("periods")
    }

    def in_context(p: dict[str, Any], row: dict[str, str], time_col: str) -> bool:
        if p["dimension"] == "activity":
            return row["activity"] == p["value"]
        lo, hi = periods[(p["school_urn"], p["value"])]
        return lo <= minutes(row[time_col]) < hi

    ratios, mood_gaps = [], []
    for p in synth_trust.patterns("harder_situation"):
        incidents = [r for r in synth_trust.rows("incidents") if r["upn"] == p["upn"]]
        obs = [r for r in synth_trust.rows("observations") if r["upn"] == p["upn"]]
        hit = sum(in_context(p, r, "occurred_time") for r in incidents)
        obs_in = [int(r["mood"]) for r in obs if in_context(p, r, "observed_time")]
        obs_out = [int(r["mood"]) for r in obs if not in_context(p, r, "observed_time")]
        # Observations fall uniformly over the day, so their share in the context is the
        # exposure: the incident rate ratio is the odds of incidents against that share.
        share = len(obs_in) / len(obs)
        assert hit >= 3 and len(incidents) - hit > 0
        ratios.append((hit / share) / ((len(incidents) - hit) / (1 - share)))
        mood_gaps.append(mean(obs_out) - mean(obs_in))
        assert p["rate_ratio"] == 5.0
    assert mean(ratios) > 3.0
    assert mean(mood_gaps) > 0.4


def test_intervention_gain_is_visible(synth_trust: Any) -> None:
    enrolments = synth_trust.rows("provision_enrolments")
    measure = {r["intervention_code"]: r["measure"] for r in synth_trust.rows("interventions")}
    for p in synth_trust.patterns("intervention_gain"):
        mine = [
            int(r["post_score"]) - int(r["pre_score"])
            for r in enrolments
            if r["school_urn"] == p["school_urn"]
            and r["intervention_code"] == p["intervention_code"]
        ]
        others = [
            int(r["post_score"]) - int(r["pre_score"])
            for r in enrolments
            if r["school_urn"] == p["school_urn"]
            and r["intervention_code"] != p["intervention_code"]
            and measure[r["intervention_code"]] == "standardised_score"
        ]
        assert len(mine) == p["enrolments"] >= 12
        assert mean(mine) == pytest.approx(p["mean_gain"], abs=2.5)
        assert mean(others) == pytest.approx(p["usual_gain"], abs=2.0)


def test_attendance_decline_is_visible(synth_trust: Any) -> None:
    marks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in synth_trust.rows("attendance"):
        marks[r["upn"]].append((r["date"], r["code"]))
    severe = unauthorised = 0
    for p in synth_trust.patterns("attendance_decline"):
        rows = marks[p["upn"]]
        before = [c in PRESENT for d, c in rows if d < p["start_date"]]
        after = [c in PRESENT for d, c in rows if d >= p["start_date"]]
        year = sum(c in PRESENT for _, c in rows) / len(rows)
        assert mean(after) < mean(before) - 0.2
        assert year < 0.9  # persistent absence by the end of the year
        assert p["persistent_absence"] is True
        assert (year <= 0.5) == p["severe_absence"]
        assert year == pytest.approx(p["attendance_rate_year"], abs=1e-3)
        # Ten unauthorised sessions within ten school weeks (50 school days).
        days = sorted({d for d, _ in rows})
        per_day = defaultdict(int)
        for d, c in rows:
            per_day[d] += c in UNAUTHORISED
        counts = [per_day[d] for d in days]
        most = max(sum(counts[i : i + 50]) for i in range(max(1, len(counts) - 49)))
        assert (most >= 10) == p["unauthorised_trigger"]
        severe += p["severe_absence"]
        unauthorised += p["unauthorised_trigger"]
    assert severe >= 1 and unauthorised >= 1


def test_sen_prevalence_entry(synth_trust: Any) -> None:
    (entry,) = synth_trust.patterns("sen_prevalence")
    census = entry["census"][0]
    total = census["all_schools"]
    assert total["pupils"] == total["ehc_plan"] + total["sen_support"] + total["no_sen"]
    assert sum(total["primary_need_ehc_plan"].values()) == total["ehc_plan"]
    assert census["special"]["no_sen"] == 0
