"""Two reports schools hold in shapes no preset describes, written for some synthetic
schools so the demo reads them from their headings (sources/headers.yml) as it would a
real school's:

- a SIMS-like SEN register with one row per need and a Ranking column, in words
  ("K - SEN Support", "Social, Emotional and Mental Health"), with each status's history
  and each need's start and end dates;
- an Arbor-like per-pupil attendance summary over a stated period ("Date range: ..."),
  the canonical summary the generator added up from the marks.

One need in the register is spoiled on purpose ("ADHD", not a DfE type of need) and
returned as PlantedMess, as the other writers do.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path

from empowered.synth.rng import substream
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess

BAD_NEED = "ADHD"
# SIMS writes the status with its code in front; "No SEN" for a pupil taken off.
PROVISION_WORDS = {
    "K": "K - SEN Support",
    "E": "E - EHC Plan",
    "S": "S - Statement",
    "N": "No SEN",
    "A": "School Action",
    "P": "School Action Plus",
}
SEN_REGISTER_HEADER = (
    "Adno", "UPN", "Legal Surname", "Legal Forename", "Year", "Reg Group", "SEN Status",
    "SEN Status Start Date", "SEN Need Type", "Ranking", "Need Start Date", "Need End Date",
)  # fmt: skip
SUMMARY_HEADER = (
    "Student ID", "UPN", "First Name", "Last Name", "Registration Form", "Possible Sessions",
    "Attended", "Approved Educational Activity", "Authorised Absences",
    "Unauthorised Absences", "Late", "Attendance %",
)  # fmt: skip


@cache
def need_words() -> dict[str, str]:
    """Each DfE need code as a register writes it: the first of its words."""
    words: dict[str, str] = {}
    path = resources.files("empowered.reference").joinpath("words/sen_need.csv")
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            words.setdefault(row["code"], row["word"])
    return words


def _year(code: str) -> str:
    return f"Year {code}" if code else ""


def _uk(text: str) -> str:
    return f"{date.fromisoformat(text):%d/%m/%Y}" if text else ""


def _exported(trust: CanonicalTrust, urn: str) -> datetime:
    days = [r["date"] for r in trust.for_school("attendance", urn)] or ["2026-07-17"]
    return datetime.fromisoformat(max(days)).replace(hour=16, minute=20)


def _pupils(trust: CanonicalTrust, urn: str) -> dict[str, dict[str, str]]:
    """Each pupil's details and their latest year and registration group, by UPN."""
    details = {p["upn"]: dict(p) for p in trust.for_school("pupils", urn)}
    latest = sorted(trust.for_school("characteristics", urn), key=lambda r: r["effective_date"])
    for row in latest:
        details.setdefault(row["upn"], {}).update(
            year_group=row["year_group"], reg_group=row["reg_group"]
        )
    return details


def _write(path: Path, titles: list[str], header: tuple[str, ...], rows: list[list[str]],
           *, encoding: str, footer: str | None) -> int:  # fmt: skip
    """Write the report; return the spreadsheet row of its first data row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in titles:
        writer.writerow([line] if line else [])
    writer.writerow(header)
    writer.writerows(rows)
    if footer:
        writer.writerow([footer])
    path.parent.mkdir(parents=True, exist_ok=True)
    # A Windows-1252 export writes '?' for letters it cannot encode, as the real thing does.
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return len(titles) + 2


def write_ranked_sen_register(
    trust: CanonicalTrust, out_dir: Path, *, school_urn: str, seed: int
) -> tuple[Path, list[PlantedMess]]:
    """One row per need of each SEN status record (rank 1 primary, 2 secondary), the
    status repeated on each; a status with no need (No SEN) has a row of its own."""
    pupils = _pupils(trust, school_urn)
    needs: dict[tuple[str, str], list[dict[str, str]]] = {}
    for need in trust.for_school("sen_needs", school_urn):
        needs.setdefault((need["upn"], need["start_date"]), []).append(need)
    words = need_words()
    rows: list[list[str]] = []
    spoilable: list[int] = []
    for status in trust.for_school("sen_status", school_urn):
        pupil = pupils.get(status["upn"], {})
        front = [
            pupil.get("mis_id", ""), status["upn"], pupil.get("surname", ""),
            pupil.get("forename", ""), _year(pupil.get("year_group", "")),
            pupil.get("reg_group", ""),
            PROVISION_WORDS.get(status["sen_provision"], status["sen_provision"]),
            _uk(status["start_date"]),
        ]  # fmt: skip
        ranked = sorted(needs.get((status["upn"], status["start_date"]), []),
                        key=lambda n: int(n["need_rank"]))  # fmt: skip
        if not ranked:
            rows.append([*front, "", "", "", ""])
            continue
        for need in ranked:
            if need["need_rank"] == "1":
                spoilable.append(len(rows))
            rows.append([
                *front, words.get(need["need_type"], need["need_type"]), need["need_rank"],
                _uk(need["start_date"]), _uk(need["end_date"]),
            ])  # fmt: skip
    mess: list[tuple[int, str]] = []
    if spoilable:
        rng = substream(seed, "ranked-sen-register", int(school_urn))
        index = spoilable[int(rng.integers(len(spoilable)))]
        rows[index][SEN_REGISTER_HEADER.index("SEN Need Type")] = BAD_NEED
        mess.append((index, BAD_NEED))
    school = next(s for s in trust.rows("schools") if s["school_urn"] == school_urn)
    when = _exported(trust, school_urn)
    path = out_dir / f"sims-{school_urn}-sen-register.csv"
    titles = [f"SEN Register - {school['school_name']}", f"Report run: {when:%d-%b-%Y %H:%M}"]
    first = _write(path, titles, SEN_REGISTER_HEADER, rows, encoding="cp1252",
                   footer=f"Total: {len(rows)}")  # fmt: skip
    planted = [
        PlantedMess(path.name, first + i, "need_type", value, "not a DfE SEN type of need")
        for i, value in mess
    ]
    return path, planted


def write_attendance_summary(trust: CanonicalTrust, out_dir: Path, *, school_urn: str) -> Path:
    """The school's per-pupil attendance summary, with its period in a title line."""
    summary = trust.for_school("attendance_summary", school_urn)
    if not summary:
        raise ValueError(f"school {school_urn} has no attendance summary in the trust")
    pupils = _pupils(trust, school_urn)
    rows = []
    for s in summary:
        pupil = pupils.get(s["upn"], {})
        possible = int(s["possible"])
        attended = int(s["present"]) + int(s["approved_activity"])
        rate = f"{100 * attended / possible:.1f}" if possible else ""
        rows.append([
            pupil.get("mis_id", ""), s["upn"], pupil.get("forename", ""),
            pupil.get("surname", ""), pupil.get("reg_group", ""), s["possible"], s["present"],
            s["approved_activity"], s["authorised"], s["unauthorised"], s["late"], rate,
        ])  # fmt: skip
    periods = {(s["period_start"], s["period_end"]) for s in summary}
    if len(periods) != 1:
        raise ValueError("an attendance summary report covers one period")
    ((start, end),) = periods
    school = next(s for s in trust.rows("schools") if s["school_urn"] == school_urn)
    when = _exported(trust, school_urn)
    titles = [
        f"Attendance Summary - {school['school_name']}",
        f"Date range: {_uk(start)} to {_uk(end)}",
        f"Report run: {when:%d-%b-%Y %H:%M}",
        "",
    ]
    path = out_dir / f"arbor-{school_urn}-attendance-summary.csv"
    _write(path, titles, SUMMARY_HEADER, rows, encoding="utf-8-sig", footer=None)
    return path
