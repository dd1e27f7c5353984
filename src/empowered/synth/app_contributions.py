"""The demo's notes from visiting professionals, landed through the app's own service.

The demo's visitor account (an educational psychologist, organisation on the account) adds
a few notes about their named pupil in their areas, one with a short report as a PDF made
here (a minimal valid PDF, written in code: no file from outside, no real data); the SENCo
files one piece of advice that came by letter. Each goes through
``contributions.check_contribution`` then ``land_contribution``, as the form does; the demo's
hook builds once afterwards.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb

from empowered import contributions as contrib
from empowered.access.policy import contribution_areas, scope_for
from empowered.access.roles import Role
from empowered.access.users import User
from empowered.identity import IdentityReader
from empowered.sources.capture import staff_ref

if TYPE_CHECKING:  # app_sources lists this writer: imported at run time, a cycle
    from empowered.synth.app_sources import DemoContext

# (area, title, note, days before the latest day on roll, with a report)
VISITOR_NOTES: tuple[tuple[str, str, str, int, bool], ...] = (
    (
        "wellbeing",
        "Educational psychology consultation",
        "Met the class teacher and the SENCo, then observed in class and at lunch. Anxiety "
        "rises before unstructured times and when the routine changes without warning. "
        "Advice: a visual timetable checked with an adult each morning, a named adult at "
        "lunch, and warning of changes the day before where possible. Review in six weeks.",
        70,
        True,
    ),
    (
        "strategies",
        "Follow-up: calm corner and movement breaks",
        "The calm corner is being used well, usually at the pupil's own request. Movement "
        "breaks before literacy help most on Mondays and after wet playtimes. Keep both; "
        "add a short check-in with the named adult after lunch.",
        28,
        False,
    ),
    (
        "wellbeing",
        "Short telephone review with parents",
        "Parents report better sleep and fewer worries about school in the mornings. They "
        "would like the visual timetable shared at home too; the SENCo will send a copy.",
        9,
        False,
    ),
)
SENCO_NOTE = (
    "learning",
    "Advice from the specialist teacher (received by letter)",
    "Reading age assessed about eighteen months below chronological age; phonic knowledge "
    "secure to phase 4. Advice: daily precision teaching of high-frequency words, ten "
    "minutes, and a reading buddy twice a week.",
    40,
)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF with ``lines`` of text (Helvetica), its cross-reference
    table worked out from the objects' real offsets."""
    stream = "BT /F1 12 Tf 72 770 Td 16 TL\n"
    stream += "".join(f"({_pdf_text(line)}) '\n" for line in lines) + "ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("latin-1")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("latin-1")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("latin-1")
    return bytes(out)


def _pupil(
    con: duckdb.DuckDBPyConnection, pupil_key: str, school_urn: str
) -> tuple[str, date | None, date | None] | None:
    row = con.execute(
        "SELECT i.upn, p.entry_date, p.leaving_date FROM core.pupil_identity AS i "
        "JOIN core.dim_pupil AS p USING (pupil_key) WHERE i.pupil_key = ? AND i.school_urn = ?",
        [pupil_key, school_urn],
    ).fetchone()
    return (str(row[0]), row[1], row[2]) if row else None


def _land(
    con: duckdb.DuckDBPyConnection,
    context: DemoContext,
    user: User,
    pupil_key: str,
    note: tuple[str, str, str, int],
    report: contrib.Report | None,
) -> int:
    found = _pupil(con, pupil_key, context.school_urn)
    if found is None:
        return 0
    upn, entry, leaving = found
    last = min(context.today, leaving) if leaving else context.today
    day = last - timedelta(days=note[3])
    if entry is not None and day < entry:
        day = entry
    area, title, text, _ = note
    scope = scope_for(con, user, today=context.today)
    checked = contrib.check_contribution(
        {"area": area, "title": title, "note": text, "visited_on": day.isoformat()},
        areas=contribution_areas(scope),
        today=context.today,
        report=report,
        entry_date=entry,
        leaving_date=leaving,
    )
    if not checked.ok:
        return 0
    contrib.land_contribution(
        con,
        checked,
        school_urn=context.school_urn,
        upn=str(IdentityReader(context.keys).upn(upn)),
        author=contrib.Author(staff_ref(user.user_id), user.role.value, user.organisation),
        keys=context.keys,
        now=datetime.combine(context.today, datetime.min.time()) + timedelta(hours=16),
    )
    return 1


def write_contributions(con: duckdb.DuckDBPyConnection, context: DemoContext) -> int:
    """Land the visitor's notes about their first named pupil and one of the SENCo's."""
    visitor = context.staff.get(Role.VISITING_PROFESSIONAL)
    if visitor is None or not visitor.pupils:
        return 0
    pupil = visitor.pupils[0]
    rng = random.Random(context.seed)
    landed = 0
    for area, title, text, days, with_report in VISITOR_NOTES:
        report = None
        if with_report:
            pdf = minimal_pdf(
                [
                    "Educational psychology service: consultation summary",
                    f"Date of consultation: {context.today - timedelta(days=days):%d %B %Y}",
                    "Strengths: curious, kind to peers, enjoys practical tasks.",
                    "Needs: support with anxiety at unstructured times and changes.",
                    "Advice: visual timetable, named adult at lunch, warning of changes.",
                    f"Reference {rng.randrange(10_000, 99_999)}",
                ]
            )
            report = contrib.Report("consultation-summary.pdf", pdf)
        landed += _land(con, context, visitor, pupil, (area, title, text, days), report)
    senco = context.staff.get(Role.SENCO)
    if senco is not None:
        landed += _land(con, context, senco, pupil, SENCO_NOTE, None)
    return landed
