"""Strategies and patterns: what helps whom, and the time-slot scatterplot.

Staff with VIEW_STRATEGIES (trust admin, SENCo, teacher, teaching assistant, a visiting
professional given the strategies area) see the results for the pupils in their scope,
named; a trust analyst (VIEW_AGGREGATES only) sees the same page as suppressed counts,
with no names and no pupil keys. The view service does the restricting and suppressing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from empowered.access.audit import ViewedPage
from empowered.access.policy import Scope
from empowered.views.strategies import strategies_page
from empowered.web.deps import needs, pupil_scope
from empowered.web.render import STRATEGIES, audit, render

router = APIRouter()


@router.get("/strategies", response_class=HTMLResponse)
def strategies(
    request: Request,
    scope: Annotated[Scope, Depends(needs(*STRATEGIES))],
    school: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        page = strategies_page(
            con, scope=pupil_scope(scope), cache=request.app.state.cache, school_urn=school
        )
    audit(request, scope, ViewedPage(page="/strategies"))
    return render(
        request, scope, "strategies.html", {"title": "Strategies and patterns", "sp": page}
    )
