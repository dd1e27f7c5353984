"""Which module makes each document, in which formats, and the one function the command
line, the web and the schedule call to make one."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from empowered.access.documents import DOCUMENT_RULES, DocumentKind
from empowered.documents.letterhead import letterhead
from empowered.documents.made import Made, file_name
from empowered.documents.render import Heading
from empowered.views import PupilScope
from empowered.views.school_words import year_label

if TYPE_CHECKING:
    from empowered.keys import Keys
    from empowered.views.cache import SchoolAnalyticsCache
    from empowered.views.pupil import PupilPicture

K = DocumentKind
# kind: (module in empowered.documents, formats it comes in)
MODULES: dict[DocumentKind, tuple[str, tuple[str, ...]]] = {
    K.PARENT: ("parent_report", ("pdf",)),
    K.PROFILE: ("profile", ("pdf",)),
    K.EHC_EVIDENCE: ("ehc_evidence", ("pdf", "xlsx")),
    K.REVIEW_PACK: ("review_pack", ("pdf", "xlsx")),
    K.TRUST_REVIEW_PACK: ("review_pack", ("pdf", "xlsx")),
}


class NoSuchFormat(ValueError):
    pass


@dataclass(frozen=True)
class Ask:
    """One document asked for. ``scope`` is already the document's
    (:func:`empowered.documents.scope.document_scope`); ``pupil_key`` for a pupil's
    document, ``school_urn`` for a school's (None with the trust pack); ``term`` for the
    review pack ("spring 2027"; None: the term ahead of ``made_on``)."""

    kind: DocumentKind
    format: str
    scope: PupilScope
    prepared_by: str
    made_on: date
    pupil_key: str | None = None
    school_urn: str | None = None
    term: str | None = None
    keys: Keys | None = None
    cache: SchoolAnalyticsCache | None = None


def formats(kind: DocumentKind) -> tuple[str, ...]:
    return MODULES[kind][1]


def pupil_school(con: duckdb.DuckDBPyConnection, pupil_key: str) -> str | None:
    """The pupil's school (to ask the policy about it), or None for an unknown key."""
    row = con.execute(
        "SELECT school_urn FROM core.dim_pupil WHERE pupil_key = ?", [pupil_key]
    ).fetchone()
    return str(row[0]) if row else None


def child_line(picture: PupilPicture, unnamed: str) -> str:
    """ "Sam Smith, Year 4": what a pupil's document is about (``unnamed`` when its scope
    holds no name), the year as the pages write it."""
    name = picture.identity.name if picture.identity else unnamed
    year = year_label(picture.status.year_group)
    return f"{name}, {year}" if year else name


def heading(con: duckdb.DuckDBPyConnection, ask: Ask, about: str) -> Heading:
    """The head and foot of ``ask``'s document: its title, the letterhead of its school
    (the trust's for the trust pack), who prepared it and when."""
    return Heading(
        title=DOCUMENT_RULES[ask.kind].title,
        about=about,
        letterhead=letterhead(con, ask.school_urn),
        prepared_by=ask.prepared_by,
        made_on=ask.made_on,
    )


def made(ask: Ask, body: bytes, pages: int) -> Made:
    """The document made for ``ask``: named by its pupil's key or its school's URN."""
    return Made(
        kind=ask.kind,
        format=ask.format,
        body=body,
        file_name=file_name(ask.kind, ask.made_on, ask.format, key=ask.pupil_key or ask.school_urn),
        pupil_key=ask.pupil_key,
        school_urn=ask.school_urn,
        pages=pages,
    )


def make_document(con: duckdb.DuckDBPyConnection, ask: Ask) -> Made:
    """Make the document asked for. Who may ask is the policy's (``may_make_document``),
    checked by the caller before; what it holds is the scope's. Raises
    :class:`empowered.views.OutOfScope` for a pupil outside it."""
    module_name, kinds_formats = MODULES[ask.kind]
    if ask.format not in kinds_formats:
        raise NoSuchFormat(f"a {ask.kind} document comes as {' or '.join(kinds_formats)}")
    module = importlib.import_module(f"empowered.documents.{module_name}")
    make: Callable[[duckdb.DuckDBPyConnection, Ask], Made] = module.make
    return make(con, ask)
