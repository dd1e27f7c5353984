"""Asking for a document: the policy's answer, the document's scope, and who prepared it.
The web's routes, the command line and the schedule all come through here."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb

from empowered.access.documents import DOCUMENT_RULES, DocumentKind
from empowered.access.policy import Scope, may_make_document
from empowered.documents.registry import Ask, pupil_school
from empowered.documents.scope import document_scope

if TYPE_CHECKING:
    from empowered.keys import Keys
    from empowered.views.cache import SchoolAnalyticsCache


class NotAllowed(LookupError):
    """The user may not make this document (or the pupil or school is not theirs, or does
    not exist: the two are not told apart)."""


def prepared_by(scope: Scope | None) -> str:
    """'ms-green, SENCo (special educational needs co-ordinator)'; the command line's
    operator is the school's SEN team."""
    if scope is None:
        return "the school's special educational needs team"
    return f"{scope.user.username}, {scope.user.role.label}"


def ask_for(
    con: duckdb.DuckDBPyConnection,
    kind: DocumentKind,
    fmt: str,
    *,
    scope: Scope | None,
    made_on: date,
    pupil_key: str | None = None,
    school_urn: str | None = None,
    term: str | None = None,
    keys: Keys | None = None,
    cache: SchoolAnalyticsCache | None = None,
    by: str | None = None,
) -> Ask:
    """The document's :class:`Ask` for this user (``scope`` None: the command line's
    operator), or :class:`NotAllowed`. A pupil's document takes its school from the pupil."""
    rule = DOCUMENT_RULES[kind]
    if rule.about == "pupil":
        if not pupil_key:
            raise NotAllowed("a pupil's document needs the pupil's key")
        school_urn = pupil_school(con, pupil_key)
        if school_urn is None:
            raise NotAllowed("no such pupil")
    elif rule.trust_wide:
        school_urn = None
    elif not school_urn:
        raise NotAllowed("a school's document needs the school's URN")
    if scope is not None and not may_make_document(
        scope, kind, school_urn=school_urn, pupil_key=pupil_key
    ):
        raise NotAllowed(f"may not make a {kind} document here")
    return Ask(
        kind=kind,
        format=fmt,
        scope=document_scope(scope, kind, school_urn=school_urn),
        prepared_by=by or prepared_by(scope),
        made_on=made_on,
        pupil_key=pupil_key,
        school_urn=school_urn,
        term=term,
        keys=keys,
        cache=cache,
    )
