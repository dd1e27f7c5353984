"""Write one school of a synthetic trust as a DfE Common Transfer File (CTF 25), with mess.

The file is what a school's MIS writes for a whole cohort: the header, then one ``<Pupil>``
per pupil on the school's canonical roll with basic details, looked-after status, FSM
history, SEN history and a year of attendance marks per academic year. It exists so the
CTF reader (``empowered.sources.ctf``) can be tested on a realistic file end to end.

Choices (see also docs/ctf-import.md):

- ``DateTime`` is the end of the school's last term (or its last attendance date), so the
  same trust and seed always give the same bytes.
- Year group and looked-after status are the pupil's latest characteristics row; the FSM
  history is rebuilt from the runs of ``fsm = Y`` in the characteristics (an instance ends
  the day before the first row where FSM is no longer Y; a run still going is left open).
- SEN needs are written inside each ``<SEN>`` entry (rank 1 primary, rank 2 secondary).
- ``AttendanceMarks`` has two characters per weekday that is not an England bank holiday,
  from the pupil's first canonical mark in an academic year to their last. A day with no
  canonical mark (INSET, school holidays) is ``##``; a single missing session is ``-``.
  A marks string has one character per session, so a multi-character code is written as
  its first character: C1 and C2 as ``C``, J1 as ``J``, Y1..Y7 as ``Y`` (what an MIS must
  do too). A mark on a weekend or bank holiday cannot be placed and is left out.
- ``StageAssessments`` is written empty: the canonical assessments are the school's own
  standardised scores, not Key Stage results.

Planted mess (chosen from ``seed``; three different pupils), returned as PlantedMess rows
with ``row`` = the pupil's ordinal in the file:

- one pupil's UPN has a digit changed, so its check letter fails ("not a valid UPN");
- one SEN entry has the need code ``XYZ`` ("not a DfE SEN type of need");
- one SEN support entry is written with the pre-2015 code ``A`` (School Action), which
  import must accept and read as K (reason "accepted").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from empowered.sources.ctf import is_ctf_school_day
from empowered.synth.rng import substream
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess

CTF_VERSION = "25.0"
UNKNOWN_NEED = "XYZ"
OLD_SEN_SUPPORT = "A"

# Session totals in YearData (the reader does not use them; an MIS writes them).
_ATTENDED = frozenset("/\\LKVPWB")
_AUTHORISED = frozenset({"C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T", "H", "F", "J"})
_UNAUTHORISED = frozenset({"G", "N", "O", "U"})
_NOT_POSSIBLE = frozenset({"D", "X", "Q", "Y", "Z", "#", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"})


def ctf_file_name(la: str, estab: str, to_la: str, to_estab: str, sequence: int = 1) -> str:
    """``LLLEEEE_CTF_lllleee_nnn.xml``: sender, receiver, sequence number."""
    return f"{la}{estab}_CTF_{to_la}{to_estab}_{sequence:03d}.xml"


def write_ctf(
    trust: CanonicalTrust,
    out_dir: Path,
    *,
    school_urn: str,
    seed: int,
    to_la: str = "999",
    to_estab: str = "9999",
) -> tuple[Path, list[PlantedMess]]:
    """Write one CTF 25 file for ``school_urn``'s pupils; return its path and the mess."""
    school = next((s for s in trust.rows("schools") if s["school_urn"] == school_urn), None)
    if school is None:
        raise ValueError(f"school {school_urn} is not in the trust")
    pupils = trust.for_school("pupils", school_urn)
    if trust.through:
        # A CTF has no leaving date: one written in a year in progress carries the pupils
        # on roll, not last July's leavers (write_school_formats leaves out their records).
        pupils = [p for p in pupils if not p["leaving_date"]]
    chars = _by_upn(trust.for_school("characteristics", school_urn))
    sen = _by_upn(trust.for_school("sen_status", school_urn))
    marks: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for row in trust.for_school("attendance", school_urn):
        marks[row["upn"]][(row["date"], row["session"])] = row["code"]

    name = ctf_file_name(school["la_code"], school["estab"], to_la, to_estab)
    file_date = _file_date(trust, school_urn, marks)
    mess = _plan_mess(seed, school_urn, pupils, sen, name)
    bad_upn = {m.row: m.value for m in mess if m.column == "upn"}
    bad_need = {m.row for m in mess if m.column == "primary_need"}
    old_code = {m.row for m in mess if m.column == "sen_provision"}

    root = ET.Element("CTfile")
    _header(root, school, file_date, to_la, to_estab)
    data = ET.SubElement(root, "CTFpupilData")
    for ordinal, p in enumerate(pupils, start=1):
        upn = p["upn"]
        pupil = ET.SubElement(data, "Pupil")
        _leaf(pupil, "UPN", bad_upn.get(ordinal, upn))
        _leaf(pupil, "Surname", p["surname"])
        _leaf(pupil, "Forename", p["forename"])
        _leaf(pupil, "DOB", p["date_of_birth"])
        _leaf(pupil, "Sex", p["sex"])
        history = sorted(chars.get(upn, []), key=lambda r: r["effective_date"])
        latest = history[-1] if history else {}
        basic = ET.SubElement(pupil, "BasicDetails")
        _leaf(basic, "NCyearActual", latest.get("year_group", ""))
        _leaf(basic, "Ethnicity", p["ethnicity"])
        if p["first_language"]:
            entry = ET.SubElement(ET.SubElement(basic, "Languages"), "Type")
            _leaf(entry, "LanguageType", "F")
            _leaf(entry, "Language", p["first_language"])
        _leaf(basic, "EnrolStatus", "C")
        looked_after = latest.get("looked_after", "")
        if looked_after in ("Y", "N"):
            _leaf(ET.SubElement(pupil, "LookedAfter"), "InCare", _boolean(looked_after))
        _fsm(pupil, history)
        _sen(
            pupil,
            sen.get(upn, []),
            bad_need=ordinal in bad_need,
            old_code=ordinal in old_code,
        )
        _attendance(pupil, school, marks.get(upn, {}))
        ET.SubElement(pupil, "StageAssessments")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path, mess


def _by_upn(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row["upn"]].append(row)
    return grouped


def _leaf(parent: ET.Element, tag: str, text: str | None) -> None:
    # An empty canonical cell means "not known": the element is left out, as an MIS does.
    if text:
        ET.SubElement(parent, tag).text = text


def _boolean(flag: str) -> str:
    return "true" if flag == "Y" else "false"


def _file_date(
    trust: CanonicalTrust, school_urn: str, marks: dict[str, dict[tuple[str, str], str]]
) -> str:
    ends = [t["end_date"] for t in trust.for_school("terms", school_urn) if t["end_date"]]
    days = [d for by_session in marks.values() for d, _ in by_session]
    candidates = ends or days
    latest = max(candidates) if candidates else "2000-01-01"
    if trust.through and days:
        # A trust cut off in a term still running: written after its last register.
        return min(latest, max(days))
    return latest


def _academic_start(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def _header(root: ET.Element, school: dict[str, str], file_date: str, la: str, estab: str) -> None:
    header = ET.SubElement(root, "Header")
    _leaf(header, "DocumentName", "Common Transfer File")
    _leaf(header, "CTFversion", CTF_VERSION)
    _leaf(header, "DateTime", f"{file_date}T16:00:00")
    _leaf(header, "DocumentQualifier", "full")
    _leaf(header, "SupplierID", "EmpowerED+ synthetic trust")
    source = ET.SubElement(header, "SourceSchool")
    _leaf(source, "LEA", school["la_code"])
    _leaf(source, "Estab", school["estab"])
    _leaf(source, "URN", school["school_urn"])
    _leaf(source, "SchoolName", school["school_name"])
    _leaf(source, "AcademicYear", str(_academic_start(date.fromisoformat(file_date))))
    dest = ET.SubElement(header, "DestSchool")
    _leaf(dest, "LEA", la)
    _leaf(dest, "Estab", estab)


def _fsm(pupil: ET.Element, history: list[dict[str, str]]) -> None:
    spans: list[tuple[str, str | None]] = []
    start: str | None = None
    for row in history:
        eligible = row["fsm"] == "Y"
        if eligible and start is None:
            start = row["effective_date"]
        elif not eligible and start is not None:
            day_before = date.fromisoformat(row["effective_date"]) - timedelta(days=1)
            spans.append((start, day_before.isoformat()))
            start = None
    if start is not None:
        spans.append((start, None))
    if not spans:
        return
    fsm = ET.SubElement(pupil, "FSMhistory")
    for first, end in spans:
        inst = ET.SubElement(fsm, "FSMinstance")
        _leaf(inst, "FSMstartDate", first)
        _leaf(inst, "FSMendDate", end)
        _leaf(inst, "UKcountry", "ENG")


def _sen(pupil: ET.Element, rows: list[dict[str, str]], *, bad_need: bool, old_code: bool) -> None:
    if not rows:
        return
    target = _mess_entry(rows, old_code=old_code) if bad_need or old_code else None
    history = ET.SubElement(pupil, "SENhistory")
    for i, row in enumerate(rows):
        provision = row["sen_provision"]
        primary = row["primary_need"]
        if i == target and bad_need:
            primary = UNKNOWN_NEED
        if i == target and old_code:
            provision = OLD_SEN_SUPPORT
        entry = ET.SubElement(history, "SEN")
        _leaf(entry, "StartDate", row["start_date"])
        _leaf(entry, "SENprovision", provision)
        ranked = ((primary, "1"), (row["secondary_need"], "2"))
        if any(need for need, _ in ranked):
            needs = ET.SubElement(entry, "SENneeds")
            for need, rank in ranked:
                if need:
                    item = ET.SubElement(needs, "SENneed")
                    _leaf(item, "SENtype", need)
                    _leaf(item, "SENtypeRank", rank)


def _mess_entry(rows: list[dict[str, str]], *, old_code: bool) -> int | None:
    """The SEN entry that carries a pupil's planted mess: the first SEN support entry for
    the old code, the first entry with a primary need for the unknown need."""
    for i, row in enumerate(rows):
        if old_code and row["sen_provision"] == "K":
            return i
        if not old_code and row["sen_provision"] in ("E", "K") and row["primary_need"]:
            return i
    return None


def _plan_mess(
    seed: int,
    school_urn: str,
    pupils: list[dict[str, str]],
    sen: dict[str, list[dict[str, str]]],
    file_name: str,
) -> list[PlantedMess]:
    rng = substream(seed, f"ctf-mess:{school_urn}")
    mess: list[PlantedMess] = []
    used: set[int] = set()

    def pick(ordinals: list[int]) -> int | None:
        free = [o for o in ordinals if o not in used]
        if not free:
            return None
        chosen = free[int(rng.integers(len(free)))]
        used.add(chosen)
        return chosen

    ordinal_of = dict(enumerate(pupils, start=1))
    bad = pick([o for o, p in ordinal_of.items() if len(p["upn"]) == 13])
    if bad is not None:
        upn = ordinal_of[bad]["upn"]
        position = 1 + int(rng.integers(12))  # one of the twelve digits after the letter
        digit = (int(upn[position]) + 1 + int(rng.integers(9))) % 10
        # Any one-digit change breaks the check: each weight (2..13) and each difference
        # (1..9) is below the modulus 23, which is prime.
        value = upn[:position] + str(digit) + upn[position + 1 :]
        mess.append(PlantedMess(file_name, bad, "upn", value, "not a valid UPN"))

    def has(o: int, *, old_code: bool) -> bool:
        return _mess_entry(sen.get(ordinal_of[o]["upn"], []), old_code=old_code) is not None

    need = pick([o for o in ordinal_of if has(o, old_code=False)])
    if need is not None:
        mess.append(
            PlantedMess(file_name, need, "primary_need", UNKNOWN_NEED, "not a DfE SEN type of need")
        )
    old = pick([o for o in ordinal_of if has(o, old_code=True)])
    if old is not None:
        mess.append(PlantedMess(file_name, old, "sen_provision", OLD_SEN_SUPPORT, "accepted"))
    return mess


def _attendance(
    pupil: ET.Element, school: dict[str, str], marks: dict[tuple[str, str], str]
) -> None:
    if not marks:
        return
    by_year: dict[int, list[date]] = defaultdict(list)
    for day_text in sorted({d for d, _ in marks}):
        day = date.fromisoformat(day_text)
        by_year[_academic_start(day)].append(day)
    attendance = ET.SubElement(pupil, "Attendance")
    for year in sorted(by_year):
        days = by_year[year]
        first = next((d for d in days if is_ctf_school_day(d)), None)
        if first is None:
            continue
        chars: list[str] = []
        codes: list[str] = []
        day = first
        while day <= days[-1]:
            if is_ctf_school_day(day):
                iso = day.isoformat()
                am, pm = marks.get((iso, "AM")), marks.get((iso, "PM"))
                if am is None and pm is None:
                    chars.append("##")  # the school was closed to this pupil: no mark
                    codes += ["#", "#"]
                else:
                    for code in (am, pm):
                        chars.append(code[0] if code else "-")
                        codes.append(code or "-")
            day += timedelta(days=1)
        year_data = ET.SubElement(attendance, "YearData")
        _leaf(year_data, "Year", str(year))
        _leaf(year_data, "LEA", school["la_code"])
        _leaf(year_data, "Estab", school["estab"])
        _leaf(year_data, "SchoolName", school["school_name"])
        possible = [c for c in codes if c != "-" and c not in _NOT_POSSIBLE]
        _leaf(year_data, "SessionsPossible", str(len(possible)))
        _leaf(year_data, "SessionsAuthorised", str(sum(c in _AUTHORISED for c in possible)))
        _leaf(year_data, "SessionsAttended", str(sum(c in _ATTENDED for c in possible)))
        _leaf(year_data, "SessionsUnauthorised", str(sum(c in _UNAUTHORISED for c in possible)))
        sessions = ET.SubElement(year_data, "AttendSessions")
        _leaf(sessions, "AttendanceStartDate", first.isoformat())
        _leaf(sessions, "AttendanceMarks", "".join(chars))
