"""A SENCo's provision tracker (provision map) as an Excel workbook.

One school's canonical provision enrolments, with the catalogue details of each
intervention, become one row per pupil per intervention on a sheet "Provision": a title
row and a blank row above the header, dates as real Excel dates, a "Cost per session"
formula saved with its result (readers never calculate formulas) and a "Total" line at the
bottom. ``TrackerReader`` reads it back; give it the trust's catalogue so intervention
names become the catalogue's codes.

Planted mess:
- one enrolment's end date is written a fortnight before its start date (in place, so
  that canonical enrolment is quarantined);
- one added row names a pupil who matches nobody at the school.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from empowered.synth.rng import substream
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess
from empowered.synth.school_formats.forms import (
    NO_MATCH_REASON,
    latest_groups,
    pupil_names,
    roll_keys,
    stranger_name,
    unmatchable_pupils,
)

SHEET = "Provision"
HEADER = (
    "Pupil",
    "Class",
    "Intervention",
    "Area of need",
    "Start date",
    "End date",
    "Sessions per week",
    "Minutes per session",
    "Staff",
    "Group size",
    "Cost per hour",
    "Materials",
    "Cost per session",
    "Pre score",
    "Pre date",
    "Post score",
    "Post date",
    "Notes",
)
COL = {name: i for i, name in enumerate(HEADER)}
HEADER_ROW = 2  # 0-based: a title row and a blank row above it
END_BEFORE_START_REASON = "is before the start date"


def _letter(col: int) -> str:
    return chr(ord("A") + col)


def _academic_year(day: date) -> str:
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def _per_week(trust: CanonicalTrust, enrolment_ids: set[str]) -> dict[str, int]:
    """Sessions per week of each enrolment: the weekdays its planned sessions fall on."""
    days: dict[str, set[int]] = defaultdict(set)
    for row in trust.rows("provision_sessions"):
        if row["enrolment_id"] in enrolment_ids:
            days[row["enrolment_id"]].add(date.fromisoformat(row["session_date"]).weekday())
    return {e: len(d) for e, d in days.items()}


def write_provision_tracker(
    trust: CanonicalTrust, out_dir: Path, *, school_urn: str, seed: int
) -> tuple[Path, list[PlantedMess]]:
    """Write one school's provision tracker as .xlsx; return it and the planted mess."""
    enrolments = trust.for_school("provision_enrolments", school_urn)
    catalogue = {r["intervention_code"]: r for r in trust.rows("interventions")}
    names = pupil_names(trust, school_urn)
    groups = latest_groups(trust, school_urn)
    clash = unmatchable_pupils(names, groups)
    per_week = _per_week(trust, {e["enrolment_id"] for e in enrolments})
    rng = substream(
        seed, "provision-tracker", int("".join(c for c in school_urn if c.isdigit()) or 0)
    )

    rows: list[dict[str, Any]] = []
    for e in enrolments:
        info = catalogue.get(e["intervention_code"], {})
        forename, surname = names.get(e["upn"], ("", ""))
        rows.append(
            {
                "upn": e["upn"],
                "Pupil": f"{forename} {surname}".strip(),
                "Class": groups.get(e["upn"], ""),
                "Intervention": info.get("intervention_name") or e["intervention_code"],
                "Area of need": info.get("area_of_need", ""),
                "Start date": e["start_date"],
                "End date": e["end_date"],
                "Sessions per week": per_week.get(e["enrolment_id"]),
                "Minutes per session": info.get("minutes_per_session", ""),
                "Staff": e["staff_id"],
                "Group size": info.get("group_size", ""),
                "Cost per hour": info.get("hourly_staff_cost", ""),
                "Materials": info.get("materials_cost", ""),
                "Pre score": e["pre_score"],
                "Pre date": e["pre_date"],
                "Post score": e["post_score"],
                "Post date": e["post_date"],
                "Notes": "",
                "mess": None,
            }
        )

    # Mess goes on rows of pupils staging can otherwise match, so each planted row is
    # quarantined for the planted reason only.
    usable = [i for i, r in enumerate(rows) if r["upn"] not in clash and r["Start date"]]
    if len(usable) >= 2:
        late_i, nobody_i = (usable[p] for p in rng.choice(len(usable), 2, replace=False).tolist())
        late = rows[late_i]
        late["End date"] = (date.fromisoformat(late["Start date"]) - timedelta(days=14)).isoformat()
        late["mess"] = "end_before_start"
        nobody = dict(rows[nobody_i])
        nobody["Pupil"] = stranger_name(names, roll_keys(names), rng)
        nobody["upn"] = ""
        nobody["mess"] = "nobody"
        rows.insert(nobody_i + 1, nobody)

    starts = sorted(date.fromisoformat(r["Start date"]) for r in rows if r["Start date"])
    years = sorted({_academic_year(d) for d in starts}) or ["(no provision)"]
    title = f"Provision map {years[0]}" + (f" to {years[-1]}" if len(years) > 1 else "")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"provision-map-{school_urn}.xlsx"
    mess: list[PlantedMess] = []
    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet(SHEET)
        bold = workbook.add_format({"bold": True})
        title_format = workbook.add_format({"bold": True, "font_size": 14})
        uk_date = workbook.add_format({"num_format": "dd/mm/yyyy"})
        money = workbook.add_format({"num_format": "£#,##0.00"})
        sheet.write_string(0, 0, title, title_format)
        for c, name in enumerate(HEADER):
            sheet.write_string(HEADER_ROW, c, name, bold)
        sheet.freeze_panes(HEADER_ROW + 1, 1)
        sheet.set_column(0, 0, 22)
        sheet.set_column(2, 2, 34)
        sheet.set_column(3, 3, 34)

        for offset, r in enumerate(rows):
            x = HEADER_ROW + 1 + offset  # 0-based row index
            spreadsheet_row = x + 1
            for name in HEADER:
                c = COL[name]
                value = r.get(name)
                if name == "Cost per session":
                    minutes, hourly = r["Minutes per session"], r["Cost per hour"]
                    cached = float(minutes) * float(hourly) / 60 if minutes and hourly else 0.0
                    h, k = _letter(COL["Minutes per session"]), _letter(COL["Cost per hour"])
                    sheet.write_formula(
                        x,
                        c,
                        f"={h}{spreadsheet_row}*{k}{spreadsheet_row}/60",
                        money,
                        round(cached, 2),
                    )
                elif value in (None, ""):
                    continue
                elif name.endswith("date"):
                    sheet.write_datetime(x, c, date.fromisoformat(str(value)), uk_date)
                elif name in ("Cost per hour", "Materials"):
                    sheet.write_number(x, c, float(value), money)
                elif name in (
                    "Sessions per week",
                    "Minutes per session",
                    "Group size",
                    "Pre score",
                    "Post score",
                ):
                    sheet.write_number(x, c, float(value))
                else:
                    sheet.write_string(x, c, str(value))
            if r["mess"] == "end_before_start":
                mess.append(
                    PlantedMess(
                        path.name,
                        spreadsheet_row,
                        "end_date",
                        r["End date"],
                        END_BEFORE_START_REASON,
                    )
                )
            elif r["mess"] == "nobody":
                mess.append(
                    PlantedMess(
                        path.name, spreadsheet_row, "pupil_name", r["Pupil"], NO_MATCH_REASON
                    )
                )
            elif r["upn"] in clash:
                mess.append(
                    PlantedMess(
                        path.name, spreadsheet_row, "pupil_name", r["Pupil"], clash[r["upn"]]
                    )
                )
        if rows:
            # A summary line, as trackers have: readers skip it rather than read a pupil.
            x = HEADER_ROW + 1 + len(rows)
            first, last = HEADER_ROW + 2, HEADER_ROW + 1 + len(rows)
            m = _letter(COL["Cost per session"])
            total = 0.0
            for r in rows:
                if r["Minutes per session"] and r["Cost per hour"]:
                    total += round(
                        float(r["Minutes per session"]) * float(r["Cost per hour"]) / 60, 2
                    )
            sheet.write_string(x, 0, "Total", bold)
            sheet.write_formula(
                x, COL["Cost per session"], f"=SUM({m}{first}:{m}{last})", money, round(total, 2)
            )
    finally:
        workbook.close()
    return path, mess
