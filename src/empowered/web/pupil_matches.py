"""Settling a pupil match on the import report: for quarantined rows that name a pupil who
matches no pupil on roll, or several, a member of staff chooses the pupil (or says the
rows are not about one of the school's pupils); the choice lands in raw as a source of its
own (empowered.pupil_matches) and the rebuild that follows reads the rows again.

Who may choose, and for which school, is the policy's (``policy.may_choose_pupil``): only
whoever may import for the school the rows name, and only among that school's pupils.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

import duckdb
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered.access.audit import PupilMatchChosen
from empowered.access.policy import Scope, may_choose_pupil
from empowered.pupil_matches import NOT_OURS, Choice, choose
from empowered.sources.capture import staff_ref
from empowered.views.imports import BatchReport, batch_report
from empowered.views.pupil_match import MatchProblem, batch_problems, candidates, on_roll
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import IMPORT, audit, render

router = APIRouter()

Importer = Annotated[Scope, Depends(needs(*IMPORT))]

# Ways of naming a pupil settled on one page at most: each lists pupils (decrypted), and a
# file with hundreds of unknown names wants putting right in the school's system instead.
SHOWN = 20


@dataclass(frozen=True)
class MatchSection:
    """What the import report shows to settle its rows' pupil matches."""

    problems: tuple[MatchProblem, ...]
    searched: str | None  # the ref_id searched for, if any
    search: str
    more: int  # problems beyond the first SHOWN, offered once these are settled


def match_section(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    report: BatchReport,
    *,
    searched: str | None = None,
    search: str = "",
) -> MatchSection | None:
    """The problems this user may settle, each with the pupils to choose from: those of the
    name the rows give, or those a search found. None when there is nothing to settle or
    the policy does not let this user choose (the section is then left out)."""
    if not report.batch.quarantined:
        return None
    ps = pupil_scope(scope)
    allowed = [
        p
        for p in batch_problems(con, report.batch.batch_id, report.batch.entity)
        if may_choose_pupil(scope, p.school_urn)
    ]
    if not allowed:
        return None
    shown = [
        replace(
            p,
            candidates=candidates(
                con, p, scope=ps, search=search if searched == p.ref_id else None
            ),
        )
        for p in allowed[:SHOWN]
    ]
    return MatchSection(tuple(shown), searched, search, len(allowed) - len(shown))


def _report_page(
    request: Request,
    scope: Scope,
    batch_id: int,
    *,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        report = batch_report(con, batch_id, scope=pupil_scope(scope))
        assert report is not None
        section = match_section(con, scope, report)
    return render(
        request,
        scope,
        "imports_batch.html",
        {
            "title": f"Import report: {report.batch.file_name}",
            "r": report,
            "matches": section,
            "match_problem": problem,
        },
        status=status,
    )


@router.post("/imports/{batch_id}/pupils", response_class=HTMLResponse)
def choose_pupil(request: Request, batch_id: int, scope: Importer, form: CheckedForm) -> Response:
    """Land the pupil chosen for one way the batch's rows name a pupil, then rebuild."""
    chosen_ref = str(form.get("ref") or "")
    pupil = str(form.get("pupil") or "")
    with request.app.state.warehouse.reading() as con:
        report = batch_report(con, batch_id, scope=pupil_scope(scope))
        if report is None:
            raise Forbidden(
                scope.user, request.url.path, "batch outside the user's schools", not_found=True
            )
        problem = next(
            (
                p
                for p in batch_problems(con, batch_id, report.batch.entity)
                if p.ref_id == chosen_ref
            ),
            None,
        )
        if problem is not None and not may_choose_pupil(scope, problem.school_urn):
            raise Forbidden(scope.user, request.url.path, "pupil match outside the user's schools")
        known = problem is not None and (
            pupil == NOT_OURS or (bool(pupil) and on_roll(con, problem.school_urn, pupil))
        )
    if problem is None or not known:
        # A stale form (the rows were settled meanwhile), no choice made, or a pupil who is
        # not on this school's roll: nothing is landed.
        message = (
            "Choose one of the pupils listed, or say the rows are not about one of your pupils."
            if problem is not None
            else "These rows have been dealt with already; the report below is up to date."
        )
        return _report_page(request, scope, batch_id, problem=message, status=400)
    choice = Choice(
        problem.school_urn,
        problem.ref_key,
        None if pupil == NOT_OURS else pupil,
        staff_ref(scope.user.user_id),
    )
    with request.app.state.warehouse.writing() as con:
        saved = choose(con, choice, keys=settings_of(request.app).keys())
    warming.after_build(request.app)
    audit(
        request,
        scope,
        PupilMatchChosen(
            school_urn=problem.school_urn,
            batch_id=batch_id,
            choice_batch_id=saved.batch_id,
            pupil_key=choice.pupil_key,
            rows=problem.rows,
        ),
    )
    if not saved.build.ok:
        return _report_page(
            request,
            scope,
            batch_id,
            problem="Your choice was saved, but rebuilding the warehouse found a problem: "
            "tell your data lead (the command empowered build shows it).",
            status=500,
        )
    outcome = "not-ours" if choice.pupil_key is None else "pupil"
    return RedirectResponse(f"/imports/{batch_id}?chosen={outcome}", status_code=303)
