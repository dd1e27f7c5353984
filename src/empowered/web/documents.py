"""Documents from the pupil and register pages (issue 16): the same services as the
command line (``documents.asking``, ``documents.registry``), the policy deciding who may
make which (``may_make_document``), every document an audited export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from empowered.access.documents import DOCUMENT_RULES, PUPIL_DOCUMENTS, DocumentKind
from empowered.access.policy import Scope, may_make_document
from empowered.documents.asking import NotAllowed, ask_for
from empowered.documents.made import Made
from empowered.documents.registry import NoSuchFormat, formats, make_document
from empowered.documents.terms import UnknownTerm
from empowered.views import OutOfScope
from empowered.web.deps import CurrentScope, Forbidden
from empowered.web.import_runs import settings_of
from empowered.web.render import audit

router = APIRouter()


@dataclass(frozen=True)
class Offer:
    """A document a page offers: its link and title."""

    kind: DocumentKind
    title: str
    audience: str
    links: tuple[tuple[str, str], ...]  # (href, "PDF" | "spreadsheet")
    school_urn: str | None = None  # a school's pack: which school


_FORMAT_WORDS = {"pdf": "PDF", "xlsx": "spreadsheet of the rows"}
_PACK_FORMAT_WORDS = {"pdf": "PDF", "xlsx": "spreadsheet of its tables"}


def pupil_offers(scope: Scope, school_urn: str, pupil_key: str) -> list[Offer]:
    """The documents about this pupil the policy lets this user make."""
    return [
        Offer(
            kind,
            DOCUMENT_RULES[kind].title,
            DOCUMENT_RULES[kind].audience,
            tuple(
                (f"/pupils/{pupil_key}/documents/{kind}.{fmt}", _FORMAT_WORDS[fmt])
                for fmt in formats(kind)
            ),
        )
        for kind in PUPIL_DOCUMENTS
        if may_make_document(scope, kind, school_urn=school_urn, pupil_key=pupil_key)
    ]


def school_offers(scope: Scope, schools: Iterable[str]) -> list[Offer]:
    """The review packs this user may make: each school's of ``schools`` (the register
    page's) that the policy allows (the SENCo's own; every one for the trust admin), and the
    trust's."""
    out = [
        _pack_offer(DocumentKind.REVIEW_PACK, f"school={urn}", urn)
        for urn in sorted(set(schools))
        if may_make_document(scope, DocumentKind.REVIEW_PACK, school_urn=urn)
    ]
    if may_make_document(scope, DocumentKind.TRUST_REVIEW_PACK, school_urn=None):
        out.append(_pack_offer(DocumentKind.TRUST_REVIEW_PACK, "trust=yes"))
    return out


def _pack_offer(kind: DocumentKind, query: str, school_urn: str | None = None) -> Offer:
    rule = DOCUMENT_RULES[kind]
    links = tuple(
        (f"/register/review-pack.{fmt}?{query}", _PACK_FORMAT_WORDS[fmt]) for fmt in formats(kind)
    )
    return Offer(kind, rule.title, rule.audience, links, school_urn)


def _download(request: Request, scope: Scope, made: Made) -> Response:
    audit(request, scope, made.audit_event("web"))
    return Response(
        made.body,
        media_type=made.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.file_name}"',
            "Cache-Control": "no-store",
        },
    )


def _make(
    request: Request,
    scope: Scope,
    kind: DocumentKind,
    fmt: str,
    *,
    pupil_key: str | None = None,
    school_urn: str | None = None,
    term: str | None = None,
) -> Response:
    try:
        with request.app.state.warehouse.reading() as con:
            ask = ask_for(
                con,
                kind,
                fmt,
                scope=scope,
                made_on=date.today(),
                pupil_key=pupil_key,
                school_urn=school_urn,
                term=term,
                keys=settings_of(request.app).keys(),
                cache=request.app.state.cache,
            )
            made = make_document(con, ask)
    except (NotAllowed, OutOfScope, NoSuchFormat) as err:
        raise Forbidden(scope.user, request.url.path, f"document: {err}", pupil_key) from err
    except UnknownTerm as err:
        return Response(
            f"Nothing was made: {err}.", status_code=400, media_type="text/plain; charset=utf-8"
        )
    return _download(request, scope, made)


# Synchronous routes: FastAPI runs them in its threadpool (a PDF takes tens of
# milliseconds of CPU, a trust's pack a few seconds).
@router.get("/pupils/{pupil_key}/documents/{kind}.{fmt}")
def pupil_document(
    request: Request, pupil_key: str, kind: str, fmt: str, scope: CurrentScope
) -> Response:
    try:
        which = DocumentKind(kind)
    except ValueError:
        raise Forbidden(scope.user, request.url.path, "no such document", pupil_key) from None
    if DOCUMENT_RULES[which].about != "pupil":
        raise Forbidden(scope.user, request.url.path, "not a pupil's document", pupil_key)
    return _make(request, scope, which, fmt, pupil_key=pupil_key)


@router.get("/register/review-pack.{fmt}")
def review_pack(
    request: Request,
    fmt: str,
    scope: CurrentScope,
    school: Annotated[str | None, Query()] = None,
    trust: Annotated[str | None, Query()] = None,
    term: Annotated[str | None, Query()] = None,
) -> Response:
    if trust == "yes":
        return _make(request, scope, DocumentKind.TRUST_REVIEW_PACK, fmt, term=term)
    urn = school or (scope.user.school_urn if scope.user.school_urn else None)
    return _make(request, scope, DocumentKind.REVIEW_PACK, fmt, school_urn=urn, term=term)
