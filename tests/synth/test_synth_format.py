"""The generator writes exactly the canonical format, with valid codes and references."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from empowered.synth import COLUMNS, MANIFEST_NAME
from empowered.synth.codes import (
    ACTIVITIES,
    ANTECEDENTS,
    ATTENDANCE_CODES,
    BEHAVIOURS,
    CONSEQUENCES,
    ETHNICITY,
    NEEDS,
    SETTINGS,
    STAFF_ROLES,
)
from empowered.upn import is_valid_upn

DOC = Path(__file__).resolve().parents[2] / "docs" / "canonical-format.md"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def documented_columns() -> dict[str, tuple[str, ...]]:
    """Parse the file table of docs/canonical-format.md: `file` | one row per | columns.
    The columns a file "may leave out" (which the synthetic trust does not write) are not
    among them."""
    out: dict[str, tuple[str, ...]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `(\w+)\.csv` \| [^|]+ \| (.+) \|$", line)
        if m:
            # Allowed values sit in parentheses after a column name: drop them first.
            written = m.group(2).split("May be left out:", 1)[0]
            without = re.sub(r"\([^()]*\)", "", written)
            out[m.group(1)] = tuple(re.findall(r"`([a-z_0-9]+)`", without))
    return out


def test_columns_match_the_format_document() -> None:
    documented = documented_columns()
    assert set(documented) == set(COLUMNS)
    for entity, header in COLUMNS.items():
        assert header == documented[entity], entity


def test_every_file_has_exactly_the_documented_header(synth_trust: Any) -> None:
    files = sorted(p.name for p in synth_trust.dir.iterdir())
    assert files == sorted([f"{e}.csv" for e in COLUMNS] + [MANIFEST_NAME])
    for entity, header in COLUMNS.items():
        raw = (synth_trust.dir / f"{entity}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        first_line = raw.split(b"\n", 1)[0].decode("utf-8")
        assert tuple(first_line.split(",")) == header, entity


def test_every_file_has_rows_and_the_manifest_counts_them(any_trust: Any) -> None:
    counts = any_trust.manifest["counts"]
    for entity in COLUMNS:
        rows = any_trust.rows(entity)
        assert rows, f"{entity}: no rows"
        assert counts[f"{entity}.csv"] == len(rows)
    assert dict(any_trust.summary.counts) == counts


def test_sen_needs_are_each_status_records_needs_ranked(any_trust: Any) -> None:
    # Every need of every status record, rank 1 the primary and 2 the secondary, in force
    # until the day before the pupil's next record (so never two of one rank at once).
    expected = {
        (r["upn"], r["start_date"], rank, need)
        for r in any_trust.rows("sen_status")
        for rank, need in (("1", r["primary_need"]), ("2", r["secondary_need"]))
        if need
    }
    needs = any_trust.rows("sen_needs")
    assert {(n["upn"], n["start_date"], n["need_rank"], n["need_type"]) for n in needs} == expected
    starts: dict[str, list[str]] = {}
    for r in any_trust.rows("sen_status"):
        starts.setdefault(r["upn"], []).append(r["start_date"])
    for n in needs:
        later = sorted(s for s in starts[n["upn"]] if s > n["start_date"])
        if later:
            end = date.fromisoformat(later[0]) - timedelta(days=1)
            assert n["end_date"] == end.isoformat(), n
        else:
            assert n["end_date"] == "", n


def test_one_schools_attendance_summary_adds_up_its_marks(any_trust: Any) -> None:
    summary = any_trust.rows("attendance_summary")
    (urn,) = {s["school_urn"] for s in summary}
    ((start, end),) = {(s["period_start"], s["period_end"]) for s in summary}
    marks: dict[str, list[str]] = {}
    for a in any_trust.rows("attendance"):
        if a["school_urn"] == urn and start <= a["date"] <= end:
            marks.setdefault(a["upn"], []).append(a["code"])
    assert {s["upn"] for s in summary} <= set(marks)
    for s in summary:
        codes = marks[s["upn"]]
        possible = int(s["possible"])
        # Every mark in the period is possible but the few not-possible codes (X, Y, Z, #).
        assert possible <= len(codes) and possible > 0
        assert possible == sum(int(s[c]) for c in ("present", "approved_activity",
                                                    "authorised", "unauthorised"))  # fmt: skip
        assert int(s["late"]) == codes.count("L")
        assert int(s["unauthorised"]) == sum(c in ("O", "N", "G", "U") for c in codes)


def test_upns_valid_unique_and_every_pupil_linked_row_references_a_pupil(
    any_trust: Any,
) -> None:
    pupils = any_trust.rows("pupils")
    upns = [p["upn"] for p in pupils]
    assert all(is_valid_upn(u) for u in upns)
    assert len(set(upns)) == len(upns)
    known = {(p["school_urn"], p["upn"]) for p in pupils}
    for entity, header in COLUMNS.items():
        if "upn" in header and entity != "pupils":
            bad = [r for r in any_trust.rows(entity) if (r["school_urn"], r["upn"]) not in known]
            assert not bad, f"{entity}: {bad[:3]}"


def test_identifiers_are_unique_and_references_resolve(any_trust: Any) -> None:
    for entity, key in (
        ("observations", "observation_id"),
        ("incidents", "incident_id"),
        ("strategy_uses", "use_id"),
        ("exclusions", "exclusion_id"),
        ("provision_enrolments", "enrolment_id"),
        ("plans", "plan_id"),
        ("plan_outcomes", "outcome_id"),
        ("plan_reviews", "review_id"),
        ("actions", "action_id"),
    ):
        ids = [r[key] for r in any_trust.rows(entity)]
        assert len(set(ids)) == len(ids), entity
    plans = {r["plan_id"] for r in any_trust.rows("plans")}
    outcomes = {r["outcome_id"]: r["plan_id"] for r in any_trust.rows("plan_outcomes")}
    assert set(outcomes.values()) <= plans
    for r in any_trust.rows("plan_reviews"):
        assert outcomes[r["outcome_id"]] == r["plan_id"]
    enrolments = {r["enrolment_id"] for r in any_trust.rows("provision_enrolments")}
    assert {r["enrolment_id"] for r in any_trust.rows("provision_sessions")} == enrolments
    strategies = {r["strategy_code"] for r in any_trust.rows("strategies")}
    assert {r["strategy_code"] for r in any_trust.rows("strategy_uses")} <= strategies
    interventions = {r["intervention_code"] for r in any_trust.rows("interventions")}
    used = {r["intervention_code"] for r in any_trust.rows("provision_enrolments")}
    assert used <= interventions
    staff = {(r["school_urn"], r["staff_id"]) for r in any_trust.rows("staff")}
    for entity in (
        "observations",
        "incidents",
        "strategy_uses",
        "staff_training",
        "groups",
        "provision_enrolments",
    ):
        refs = {(r["school_urn"], r["staff_id"]) for r in any_trust.rows(entity)}
        assert refs <= staff, entity


def school_days(trust: Any) -> dict[str, set[str]]:
    """Weekdays inside a term that are not closures, per school."""
    closed = {(r["school_urn"], r["date"]) for r in trust.rows("closures")}
    days: dict[str, set[str]] = {}
    for t in trust.rows("terms"):
        start, end = date.fromisoformat(t["start_date"]), date.fromisoformat(t["end_date"])
        for n in range(start.toordinal(), end.toordinal() + 1):
            d = date.fromordinal(n)
            if d.weekday() < 5 and (t["school_urn"], d.isoformat()) not in closed:
                days.setdefault(t["school_urn"], set()).add(d.isoformat())
    return days


def test_attendance_only_on_school_days_with_valid_codes(any_trust: Any) -> None:
    days = school_days(any_trust)
    rows = any_trust.rows("attendance")
    assert {r["code"] for r in rows} <= set(ATTENDANCE_CODES)
    assert {r["session"] for r in rows} == {"AM", "PM"}
    assert all(r["date"] in days[r["school_urn"]] for r in rows)
    # One mark per pupil per session, and only while the pupil is on roll.
    keys = {(r["upn"], r["date"], r["session"]) for r in rows}
    assert len(keys) == len(rows)
    roll = {
        p["upn"]: (p["entry_date"], p["leaving_date"] or "9999-12-31")
        for p in any_trust.rows("pupils")
    }
    assert all(roll[r["upn"]][0] <= r["date"] <= roll[r["upn"]][1] for r in rows)
    # Daily records are on school days too.
    for entity, col in (
        ("observations", "observed_on"),
        ("incidents", "occurred_on"),
        ("strategy_uses", "used_on"),
    ):
        assert all(r[col] in days[r["school_urn"]] for r in any_trust.rows(entity)), entity


def test_calendar_is_english_style(synth_trust: Any) -> None:
    days = school_days(synth_trust)
    terms = synth_trust.rows("terms")
    for urn, school_days_ in days.items():
        mine = [t for t in terms if t["school_urn"] == urn]
        assert [int(t["half_term"]) for t in mine] == [1, 2, 3, 4, 5, 6]
        assert [t["term"] for t in mine] == ["autumn"] * 2 + ["spring"] * 2 + ["summer"] * 2
        assert mine[0]["start_date"].startswith("2025-09-0")
        assert 188 <= len(school_days_) <= 192
        closures = [c for c in synth_trust.rows("closures") if c["school_urn"] == urn]
        assert sum(c["reason"] == "inset" for c in closures) == 5
        # The early May bank holiday (4 May 2026) always falls in the summer term.
        assert {"date": "2026-05-04", "reason": "bank holiday"} in [
            {"date": c["date"], "reason": c["reason"]} for c in closures
        ]


def test_codes_and_formats(any_trust: Any) -> None:
    for r in any_trust.rows("pupils"):
        assert r["sex"] in ("F", "M")
        assert r["ethnicity"] in {code for code, _ in ETHNICITY}
        assert re.fullmatch(r"[A-Z]{3}", r["first_language"])
        assert ISO_DATE.match(r["date_of_birth"]) and ISO_DATE.match(r["entry_date"])
    for r in any_trust.rows("sen_status"):
        assert r["sen_provision"] in ("E", "K", "N")
        if r["sen_provision"] == "N":
            assert r["primary_need"] == "" and r["secondary_need"] == ""
        else:
            assert r["primary_need"] in NEEDS
            assert r["secondary_need"] in (*NEEDS, "")
            assert r["secondary_need"] != r["primary_need"]
    for r in any_trust.rows("characteristics"):
        for flag in ("fsm", "pupil_premium", "looked_after", "service_child"):
            assert r[flag] in ("Y", "N")
        if r["fsm"] == "Y":
            assert r["pupil_premium"] == "Y"
        assert r["reg_group"].startswith(r["year_group"])
    assert {r["role"] for r in any_trust.rows("staff")} == set(STAFF_ROLES)
    for r in any_trust.rows("periods"):
        assert HH_MM.match(r["start_time"]) and HH_MM.match(r["end_time"])
        assert r["start_time"] < r["end_time"]
    for r in any_trust.rows("observations"):
        assert r["activity"] in ACTIVITIES and r["setting"] in SETTINGS
        assert HH_MM.match(r["observed_time"])
        assert {r["mood"], r["engagement"], r["regulation"]} <= set("12345")
    for r in any_trust.rows("incidents"):
        assert r["antecedent"] in ANTECEDENTS and r["behaviour"] in BEHAVIOURS
        assert r["consequence"] in CONSEQUENCES
        assert r["intensity"] in set("12345") and int(r["duration_minutes"]) >= 1
    assert {r["outcome"] for r in any_trust.rows("strategy_uses")} == {
        "helped",
        "partly",
        "not_helped",
    }
    for r in any_trust.rows("exclusions"):
        assert r["category"] in ("suspension", "permanent") and int(r["sessions"]) >= 1
        assert r["reason_1"]


def test_year_group_matches_date_of_birth(any_trust: Any) -> None:
    dob = {p["upn"]: date.fromisoformat(p["date_of_birth"]) for p in any_trust.rows("pupils")}
    for c in any_trust.rows("characteristics"):
        yg = 0 if c["year_group"] == "R" else int(c["year_group"])
        eff = date.fromisoformat(c["effective_date"])
        start_year = eff.year if eff.month >= 9 else eff.year - 1
        # Year R in 2025/26: born 1 September 2020 to 31 August 2021.
        assert date(start_year - 5 - yg, 9, 1) <= dob[c["upn"]] <= date(start_year - 4 - yg, 8, 31)


def test_phases_and_special_school(synth_trust: Any) -> None:
    schools = synth_trust.rows("schools")
    assert {s["phase"] for s in schools} == {"primary", "secondary", "special"}
    assert len({s["trust_name"] for s in schools}) == 1
    special = next(s for s in schools if s["phase"] == "special")
    assert special["estab"].startswith("7")
    pupils = [p for p in synth_trust.rows("pupils") if p["school_urn"] == special["school_urn"]]
    assert 20 <= len(pupils) <= 220
    status = {r["upn"]: r["sen_provision"] for r in synth_trust.rows("sen_status")}
    assert all(status[p["upn"]] in ("E", "K") for p in pupils)


@pytest.mark.parametrize("entity", ["observations", "strategy_uses", "plan_reviews", "actions"])
def test_free_text_never_names_a_pupil(synth_trust: Any, entity: str) -> None:
    names = {p["forename"] for p in synth_trust.rows("pupils")} | {
        p["surname"] for p in synth_trust.rows("pupils")
    }
    column = {
        "observations": "note",
        "strategy_uses": "note",
        "plan_reviews": "note",
        "actions": "description",
    }[entity]
    words = {w.strip(".,;") for r in synth_trust.rows(entity) for w in r[column].split()}
    assert not words & names
