"""The report for a child's parents or carers (issue 16; SEN Code of Practice 6.75).

Their child's strengths first, the plan's outcomes and how they are going, charts of
attendance, tests and mood with their data, the support from the provision map (what, how
often, who, and sessions delivered), what was agreed at the last review and what happens
next, and who to contact. Everything is read through the view services with the
document's scope (``access.documents``: no safeguarding, no staff-only notes, no
early-warning measures, no incidents, no other children), so what a parent must not see is
never fetched; :mod:`empowered.documents.parent_content` puts it into plain words.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from empowered.documents import made, registry
from empowered.documents.parent_content import parent_report
from empowered.documents.pdf import render_pdf
from empowered.documents.registry import Ask, heading
from empowered.documents.render import render_document
from empowered.views.plan import plan_page
from empowered.views.pupil import pupil_picture
from empowered.views.reviews import reviews_held

TEMPLATE = "parent_report.html"


def report_html(con: duckdb.DuckDBPyConnection, ask: Ask) -> str:
    """The report's HTML. Raises :class:`empowered.views.OutOfScope` for a pupil outside
    the document's scope."""
    assert ask.pupil_key is not None, "a parent report is about one pupil"
    picture = pupil_picture(con, ask.pupil_key, scope=ask.scope, cache=ask.cache)
    plan = plan_page(con, ask.pupil_key, scope=ask.scope, cache=ask.cache)
    reviews = reviews_held(con, ask.pupil_key, scope=ask.scope)
    head = heading(con, ask, "")
    report = parent_report(picture, plan, reviews, contact=head.letterhead.contact)
    return render_document(
        TEMPLATE, replace(head, about=report.about), {"r": report, "as_of": picture.as_of}
    )


def make(con: duckdb.DuckDBPyConnection, ask: Ask) -> made.Made:
    body, pages = render_pdf(report_html(con, ask))
    return registry.made(ask, body, pages)
