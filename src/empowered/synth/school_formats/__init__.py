"""Writers that turn a canonical synthetic trust into the files schools really have:
MIS exports (SIMS-, Arbor- and Bromcom-like CSV/XLSX), the DfE Common Transfer File,
forms exports and provision trackers, each with some planted mess.

``write_school_formats`` lays a whole trust out as a trust's data lead would receive it,
in ``out/import/``: one folder per school, named by its URN, with that school's MIS
exports or CTF; one school's recent observations as a forms export (the school started
using the form at the last half term) and one school's provision as a tracker; and the
rest (calendar, staff, catalogues, plans, earlier observations...) in the canonical
format. Rows a school format carries leave the canonical remainder, so nothing is
imported twice. ``out/mess.json`` lists the planted mess and the reason import must give.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from empowered.sources.canonical import ENTITIES
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess
from empowered.synth.school_formats.ctf import write_ctf
from empowered.synth.school_formats.forms import write_forms_export
from empowered.synth.school_formats.mis import write_mis_exports
from empowered.synth.school_formats.registers import (
    write_attendance_summary,
    write_ranked_sen_register,
)
from empowered.synth.school_formats.tracker import write_provision_tracker

MESS_MANIFEST = "mess.json"
IMPORT_FOLDER = "import"
# What each kind of school export carries, so those rows leave the canonical remainder.
MIS_ENTITIES = ("pupils", "characteristics", "sen_status", "sen_needs", "attendance", "assessments")
CTF_ENTITIES = ("pupils", "characteristics", "sen_status", "sen_needs", "attendance")
FORMS_DATES = {
    "observations": "observed_on",
    "strategy_uses": "used_on",
    "incidents": "occurred_on",
}
MIS_ROTATION = ("sims", "arbor", "ctf", "bromcom")

Row = dict[str, str]


@dataclass
class SchoolFormats:
    folder: Path  # what to import
    sources: dict[str, str] = field(default_factory=dict)  # school URN -> MIS format
    mess: list[PlantedMess] = field(default_factory=list)
    forms_school: str = ""
    forms_since: str = ""
    tracker_school: str = ""
    summary_schools: list[str] = field(default_factory=list)


def _write_entity(folder: Path, entity: str, rows: list[Row]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(ENTITIES[entity].columns)
    with (folder / ENTITIES[entity].file_name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _at_school(
    urn: str, *, since_column: str | None = None, since: str = ""
) -> Callable[[Row], bool]:
    """A test for rows of one school (from a date on, when a date column is named)."""

    def test(row: Row) -> bool:
        if row.get("school_urn") != urn:
            return False
        return since_column is None or row[since_column] >= since

    return test


def _ctf_leavers(trust: CanonicalTrust, urn: str) -> dict[str, Callable[[Row], bool]]:
    """Tests for the records of a CTF school's leavers (a CTF written in a year in progress
    carries only the pupils on roll), and what hangs off them, so none is an orphan."""
    left = {p["upn"] for p in trust.for_school("pupils", urn) if p["leaving_date"]}
    plans = {r["plan_id"] for r in trust.for_school("plans", urn) if r["upn"] in left}
    enrolments = {
        r["enrolment_id"] for r in trust.for_school("provision_enrolments", urn) if r["upn"] in left
    }
    tests: dict[str, Callable[[Row], bool]] = {
        entity: lambda r: r.get("school_urn") == urn and r.get("upn") in left
        for entity, e in ENTITIES.items()
        if "upn" in e.columns and "school_urn" in e.columns
    }
    tests["plan_outcomes"] = tests["plan_reviews"] = lambda r: r["plan_id"] in plans
    tests["provision_sessions"] = lambda r: r["enrolment_id"] in enrolments
    return tests


def _forms_window(trust: CanonicalTrust, folder: Path, school: str, since: str) -> CanonicalTrust:
    """A copy of the trust whose daily records are one school's, from ``since`` on."""
    for entity in ENTITIES:
        rows = trust.rows(entity)
        if entity in FORMS_DATES:
            rows = [
                r for r in rows if r["school_urn"] == school and r[FORMS_DATES[entity]] >= since
            ]
        _write_entity(folder, entity, rows)
    return CanonicalTrust(folder)


def write_school_formats(canonical: Path, out: Path, *, seed: int) -> SchoolFormats:
    trust = CanonicalTrust(canonical)
    target = out / IMPORT_FOLDER
    result = SchoolFormats(target)
    drop: dict[str, list[Callable[[Row], bool]]] = {}

    def leaves(entity: str, test: Callable[[Row], bool]) -> None:
        drop.setdefault(entity, []).append(test)

    # Special schools first, so the school that records most observations (and so uses
    # the form) has a MIS export with classes: a CTF carries none to match names against.
    schools = sorted(trust.rows("schools"), key=lambda s: s["phase"] != "special")
    for index, school in enumerate(schools):
        urn = school["school_urn"]
        kind = MIS_ROTATION[index % len(MIS_ROTATION)]
        if kind == "ctf":
            _, mess = write_ctf(trust, target / urn, school_urn=urn, seed=seed + index)
        elif kind == "sims":
            # SIMS schools give their SEN register as real ones do: a row per need, ranked.
            _, mess = write_mis_exports(
                trust, target / urn, school_urn=urn, mis=kind, seed=seed + index, skip=("sen",)
            )
            _, register_mess = write_ranked_sen_register(
                trust, target / urn, school_urn=urn, seed=seed + index
            )
            mess = [*mess, *register_mess]
        else:
            _, mess = write_mis_exports(
                trust, target / urn, school_urn=urn, mis=kind, seed=seed + index
            )
        for entity in CTF_ENTITIES if kind == "ctf" else MIS_ENTITIES:
            leaves(entity, _at_school(urn))
        if kind == "ctf" and trust.through:
            for entity, test in _ctf_leavers(trust, urn).items():
                leaves(entity, test)
        result.sources[urn] = kind
        result.mess += mess

    # The school whose MIS also reports a per-pupil attendance summary (added up from the
    # same marks its register export carries) gives it in an Arbor-like layout.
    for urn in sorted({r["school_urn"] for r in trust.rows("attendance_summary")}):
        write_attendance_summary(trust, target / urn, school_urn=urn)
        leaves("attendance_summary", _at_school(urn))
        result.summary_schools.append(urn)

    forms_school = next(u for u, kind in result.sources.items() if kind != "ctf")
    # The half term in progress on the trust's last day (its published later ones aside).
    last_half_term = max(
        (
            t
            for t in trust.rows("terms")
            if t["school_urn"] == forms_school and t["start_date"] <= (trust.through or "9999")
        ),
        key=lambda t: t["start_date"],
    )
    since = last_half_term["start_date"]
    window = _forms_window(trust, out / "forms-window", forms_school, since)
    _, mess = write_forms_export(window, target / forms_school, school_urn=forms_school, seed=seed)
    for entity, column in FORMS_DATES.items():
        leaves(entity, _at_school(forms_school, since_column=column, since=since))
    result.mess += mess
    result.forms_school, result.forms_since = forms_school, since

    mainstream = [u for u, kind in result.sources.items() if kind != "ctf" and u != forms_school]
    tracker_school = mainstream[0] if mainstream else forms_school
    _, mess = write_provision_tracker(
        trust, target / tracker_school, school_urn=tracker_school, seed=seed
    )
    tracked = {r["enrolment_id"] for r in trust.for_school("provision_enrolments", tracker_school)}
    # A tracker has no per-session register, and its enrolments get ids of its own.
    leaves("provision_enrolments", lambda r: r["enrolment_id"] in tracked)
    leaves("provision_sessions", lambda r: r["enrolment_id"] in tracked)
    result.mess += mess
    result.tracker_school = tracker_school

    for entity in ENTITIES:
        tests = drop.get(entity, [])
        kept = [r for r in trust.rows(entity) if not any(test(r) for test in tests)]
        _write_entity(target / "canonical", entity, kept)
    (out / MESS_MANIFEST).write_text(
        json.dumps(
            {
                "sources": result.sources,
                "forms_school": forms_school,
                "forms_since": since,
                "tracker_school": tracker_school,
                "summary_schools": result.summary_schools,
                "mess": [asdict(m) for m in result.mess],
            },
            indent=2,
            sort_keys=True,
        ),
        encoding="utf-8",
    )
    return result
