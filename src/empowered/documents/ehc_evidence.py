"""The EHC needs-assessment evidence pack (SEN Code of Practice 6.73), PDF or XLSX.

For a local authority considering an assessment of a child's needs, or, for a child who
has an EHC plan, for its annual review. Its sections follow the order authorities' request
forms use: who completes it; the child and the setting; the graduated approach and its
impact; need across the four broad areas with progress over time; a costed provision map;
professional reports; the child's and the parents' views; the outcomes sought. Near the
top, the completeness check (:mod:`empowered.documents.ehc_completeness`) says what an
authority will find missing. The workbook holds the rows under each section
(:mod:`empowered.documents.ehc_evidence_sheets`); its figures are the PDF's.

What it reads is in :mod:`empowered.documents.ehc_evidence_pack`; what it may read is the
document's rule in :mod:`empowered.access.documents`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb

from empowered.analytics.wording import percent
from empowered.documents.ehc_completeness import NOTHING_MISSING, PackFacts, gaps
from empowered.documents.ehc_evidence_pack import NOTIONAL_BUDGET, EhcPack, area_words, gather
from empowered.documents.made import Made
from empowered.documents.pdf import render_pdf
from empowered.documents.registry import Ask, child_line, heading, made
from empowered.documents.render import render_document
from empowered.exports import workbook
from empowered.views.school_words import year_label

ANNUAL_REVIEW_TITLE = "Evidence for the annual review of an EHC plan"


def facts(pack: EhcPack, made_on: date) -> PackFacts:
    """What the completeness check needs, from the pack."""
    reports = [c.visited_on for c in pack.contributions]
    return PackFacts(
        made_on=made_on,
        reviewed_cycles=len(pack.cycles),
        outcomes=len(pack.outcomes),
        outcomes_without_baseline=tuple(
            o.text or "an outcome without words"
            for o in pack.outcomes
            if pack.baseline(o.area_of_need) is None
        ),
        latest_report_on=max(reports) if reports else None,
        has_pupil_views=any(c.review.pupil_views for c in pack.cycles),
        has_parent_views=any(c.review.parent_views for c in pack.cycles),
        uncosted_provision=tuple(
            line.enrolment.intervention_name
            for line in pack.provision
            if not line.enrolment.cost_per_pupil
        ),
    )


def _about(pack: EhcPack) -> str:
    return child_line(pack.picture, pack.picture.pupil_key)


def make(con: duckdb.DuckDBPyConnection, ask: Ask) -> Made:
    assert ask.pupil_key is not None
    pack = gather(con, ask.pupil_key, ask.scope, cache=ask.cache, keys=ask.keys)
    found = gaps(facts(pack, ask.made_on))
    if ask.format == "xlsx":
        from empowered.documents.ehc_evidence_sheets import sheets

        book = sheets(pack, found)
        body, pages = workbook(book), sum(len(s.rows) for s in book)
    else:
        head = heading(con, ask, _about(pack))
        if pack.is_ehc:
            head = replace(head, title=ANNUAL_REVIEW_TITLE)
        page = render_document(
            "ehc_evidence.html",
            head,
            {
                "pack": pack,
                "p": pack.picture,
                "gaps": found,
                "nothing_missing": NOTHING_MISSING,
                "budget": NOTIONAL_BUDGET,
                "budget_share": percent(pack.cost_this_year / NOTIONAL_BUDGET),
                "area_words": area_words,
                "year_label": year_label,
                "percent": percent,
            },
        )
        body, pages = render_pdf(page)
    return made(ask, body, pages)
