"""What the header's "Find a pupil" form needs on every page (``_pupil_search.html``):
whether this user may search at all, whether by UPN too, and the words searched for."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from empowered.access.policy import Permission, Scope, has, may_see_section
from empowered.access.sections import Section


def upn_search_allowed(scope: Scope) -> bool:
    """A UPN is searched for only by those the policy shows a pupil's UPN to (the pupil
    page's identity section)."""
    return scope.identified and may_see_section(scope, Section.PUPIL_IDENTITY)


def search_box(request: Request, scope: Scope) -> dict[str, Any]:
    """Only roles that open pupil pages by name search (not the trust analyst)."""
    on_results = request.url.path == "/pupils"
    return {
        "can_search": scope.identified and has(scope, Permission.VIEW_PUPIL),
        "can_search_upn": upn_search_allowed(scope),
        "search_text": request.query_params.get("q") if on_results else None,
    }
