"""The termly register review pack (issue 16, item 4), for a school and for the trust.

"Repeat this process at least prior to each new term": the register against national
figures, needs growing or shrinking, provision and training against need, attendance,
interventions to keep and to review, overdue reviews and open actions, and (the school's
pack only) the SENCo's notes on complex cases, for the term ahead (``ask.term``, or the
next term to start: ``documents.terms``). The school's pack (``review_pack_school``) names
children and stays in the school; the trust's (``review_pack_trust``) rolls the schools up
side by side, suppressed, naming no child. Both come as a PDF and as a workbook of the
same tables (``review_pack_xlsx``).
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from empowered.access.documents import DocumentKind
from empowered.documents.asking import prepared_by
from empowered.documents.made import Made
from empowered.documents.pdf import render_pdf
from empowered.documents.registry import Ask, heading, made
from empowered.documents.render import render_document
from empowered.documents.review_pack_school import SchoolPack, school_pack
from empowered.documents.review_pack_trust import TrustPack, trust_pack
from empowered.documents.review_pack_xlsx import school_sheets, trust_sheets
from empowered.documents.terms import Term, term_for
from empowered.exports import workbook

TRUST_TEAM = "the trust's special educational needs team"


def pack_for(con: duckdb.DuckDBPyConnection, ask: Ask) -> SchoolPack | TrustPack:
    """What the pack asked for holds (the term named, or the one ahead)."""
    term = term_for(con, ask.school_urn, ask.term, ask.made_on)
    if ask.kind == DocumentKind.TRUST_REVIEW_PACK:
        return trust_pack(con, ask, term)
    return school_pack(con, ask, term)


def _about(term: Term) -> str:
    return f"Before the {term.name}"


def make(con: duckdb.DuckDBPyConnection, ask: Ask) -> Made:
    if ask.kind == DocumentKind.TRUST_REVIEW_PACK and ask.prepared_by == prepared_by(None):
        # The command line's and the schedule's operator, for the trust: not "the school's".
        ask = replace(ask, prepared_by=TRUST_TEAM)
    pack = pack_for(con, ask)
    if ask.format == "xlsx":
        sheets = trust_sheets(pack) if isinstance(pack, TrustPack) else school_sheets(pack)
        body, pages = workbook(sheets), sum(len(s.rows) for s in sheets)
    else:
        template = "trust_review_pack.html" if isinstance(pack, TrustPack) else "review_pack.html"
        page = render_document(template, heading(con, ask, _about(pack.term)), {"p": pack})
        body, pages = render_pdf(page)
    return made(ask, body, pages)
