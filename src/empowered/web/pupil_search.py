"""Finding a child (``/pupils``): the search every page's header offers, and a teacher's
or assistant's own class and group lists.

The pupils come from the user's scope only (``views.pupil_search`` reads nothing else),
and each one listed is one the policy lets this user open (``can_see_pupil``), so the page
never names or counts a pupil the user could not open. Every search is audited with how
many pupils it found, never with what was typed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from empowered.access.audit import PupilSearched, ViewedPage
from empowered.access.policy import Permission, Scope, can_see_pupil, has
from empowered.views.pupil_search import (
    FoundPupil,
    PupilGroup,
    SearchResult,
    my_groups,
    search_pupils,
)
from empowered.web.deps import needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, paginate, render
from empowered.web.search_box import upn_search_allowed

router = APIRouter()
RESULTS_PAGE_SIZE = 50


@router.get("/pupils", response_class=HTMLResponse)
def pupils(
    request: Request,
    scope: Annotated[Scope, Depends(needs(Permission.VIEW_PUPIL))],
    q: Annotated[str | None, Query()] = None,  # cut to 100 characters by the search
) -> HTMLResponse:
    keys = settings_of(request.app).keys()
    ps = pupil_scope(scope)
    result: SearchResult | None = None
    groups: tuple[PupilGroup, ...] = ()
    with request.app.state.warehouse.reading() as con:
        if q and q.strip():
            result = search_pupils(
                con, scope=ps, text=q, keys=keys, upn_allowed=upn_search_allowed(scope)
            )
        elif scope.pupils is not None and ps.identified:
            groups = my_groups(
                con,
                scope=ps,
                keys=keys,
                school_urn=scope.user.school_urn,
                groups=scope.user.groups,
                named=scope.user.pupils,
            )
    if result is not None:
        found = _openable(scope, result.pupils)
        by = "upn" if result.by_upn else "name"
        audit(request, scope, PupilSearched(page="/pupils", by=by, results=len(found)))
        shown, pager = paginate(request, found, RESULTS_PAGE_SIZE)
    else:
        audit(request, scope, ViewedPage(page="/pupils"))
        groups = tuple(PupilGroup(g.title, _openable(scope, g.pupils)) for g in groups)
        shown, pager = paginate(request, (), RESULTS_PAGE_SIZE)
    return render(
        request,
        scope,
        "pupils.html",
        {
            "title": "Find a pupil" if result is None else "Pupils found",
            "result": result,
            "found": shown,
            "pager": pager,
            "groups": groups,
            "whole_school": scope.pupils is None,
            "can_see_register": has(scope, Permission.VIEW_REGISTER),
            "upn_allowed": upn_search_allowed(scope),
        },
    )


def _openable(scope: Scope, found: tuple[FoundPupil, ...]) -> tuple[FoundPupil, ...]:
    # The view read the scope only; this asks the policy the pupil page asks, so a pupil
    # listed is always one whose page opens.
    return tuple(p for p in found if can_see_pupil(scope, p.pupil_key))
