"""The scope a document is made with: the user's own, narrowed to what the document may
hold (``access.documents``). The view services read nothing outside it."""

from __future__ import annotations

from empowered.access.documents import DOCUMENT_RULES, DocumentKind
from empowered.access.policy import Scope, document_areas, document_sections, must_suppress
from empowered.views import PupilScope


def document_scope(
    scope: Scope | None, kind: DocumentKind, *, school_urn: str | None = None
) -> PupilScope:
    """``scope`` None is the command line's operator (who holds the warehouse and its
    keys): the document's rule alone, for ``school_urn`` (None: every school)."""
    rule = DOCUMENT_RULES[kind]
    sections = frozenset(str(s) for s in document_sections(scope, kind))
    areas = document_areas(scope, kind)
    if scope is None:
        return PupilScope(
            schools=None if school_urn is None else frozenset({school_urn}),
            pupils=None,
            identified=rule.names_pupils,
            sections=sections,
            areas=areas,
            suppress=rule.leaves_school,
        )
    schools = scope.schools
    if school_urn is not None:
        schools = frozenset({school_urn}) & (schools or frozenset({school_urn}))
    return PupilScope(
        schools=schools,
        pupils=scope.pupils,
        identified=scope.identified and rule.names_pupils,
        sections=sections,
        areas=areas,
        suppress=must_suppress(scope, leaves_school=rule.leaves_school),
    )
