"""The trust's schools side by side on the trust-wide roles' home, and each school's page
(``/schools/{urn}``): the school's row and what needs attention there (issue 15, item 1).

The policy decides who compares schools (``may_compare_schools``) and who opens a school
(``may_open_school``); another school's page is answered "not found", as a pupil's is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import duckdb
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from empowered.access.audit import ViewedPage
from empowered.access.policy import Scope, may_compare_schools, may_open_school, may_see_section
from empowered.access.sections import Section
from empowered.views.home import attention
from empowered.views.home_children import CHILDREN_PER_PAGE, described, home_children
from empowered.views.trust_schools import SchoolsSideBySide, schools_side_by_side
from empowered.web.deps import Forbidden, needs, pupil_scope
from empowered.web.render import HOME, audit, paginate, render

router = APIRouter()


def home_schools(
    request: Request, scope: Scope, con: duckdb.DuckDBPyConnection
) -> SchoolsSideBySide | None:
    """The home page's table of schools, for the roles that compare schools (else None)."""
    if not may_compare_schools(scope):
        return None
    return schools_side_by_side(con, scope=pupil_scope(scope), cache=request.app.state.cache)


@router.get("/schools/{school_urn}", response_class=HTMLResponse)
def school(
    request: Request,
    school_urn: str,
    scope: Annotated[Scope, Depends(needs(*HOME))],
    show: str = "",
) -> HTMLResponse:
    path = request.url.path
    if not may_see_section(scope, Section.HOME_SCHOOLS_SIDE_BY_SIDE):
        raise Forbidden(scope.user, path, "needs view_aggregates")
    if not may_open_school(scope, school_urn):
        raise Forbidden(scope.user, path, "school not in scope", not_found=True)
    ps = pupil_scope(scope)
    cache = request.app.state.cache
    with request.app.state.warehouse.reading() as con:
        # The whole scope's table, then the school's row: the same figures, hidden the
        # same way, as on the home page the reader came from.
        row = schools_side_by_side(con, scope=ps, cache=cache).row(school_urn)
        if row is None:
            raise Forbidden(scope.user, path, "no such school", not_found=True)
        items = attention(con, scope=replace(ps, schools=frozenset({school_urn})), cache=cache)
        if not ps.identified:
            # The analyst's per-school summary repeats the row's counts, suppressed apart.
            items = [i for i in items if i.kind != "school_summary"]
        # One card per child, as on a school member's home ("new" is the home page's).
        found = home_children(items, role=scope.user.role.value, since=None, show=show)
        shown, pager = paginate(request, found.children, CHILDREN_PER_PAGE)
        children = described(con, ps, shown)
    audit(request, scope, ViewedPage(page=path))
    name = row.rows[0].school_name
    return render(
        request,
        scope,
        "school.html",
        {
            "title": name,
            "schools_side_by_side": row,
            "home": found,
            "children": children,
            "pager": pager,
            "here": path,
            # A SENCo opening their own school's page came from elsewhere: no table to go
            # back to.
            "back_to_schools": may_compare_schools(scope),
        },
    )
