"""Contributions from visiting professionals: the form, and the report's download.

``GET/POST /pupils/{pupil_key}/contributions/new``: a visiting professional (or the SENCo)
writes a note in one of their areas, with the date of the visit, and may attach a report
(PDF). The form checks what staging checks, then :mod:`empowered.contributions` lands the
note (and the sealed report) and the warehouse is rebuilt for it before the answer, so the
pupil page shows it at once with its provenance.

``GET /pupils/{pupil_key}/contributions/{contribution_id}/report``: the report, decrypted,
for whoever may read that area for that pupil (``policy.may_see_contribution``); audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from empowered import contributions as contrib
from empowered.access.audit import ContributionAdded, ContributionFileOpened, ViewedPupil
from empowered.access.policy import (
    Permission,
    Scope,
    contribution_areas,
    may_contribute,
    may_see_contribution,
)
from empowered.identity import identity_reader
from empowered.sources.capture import staff_ref
from empowered.views import OutOfScope
from empowered.views.capture import CaptureTarget, capture_pupil_row, target_of
from empowered.views.contributions import AREA_WORDS, contribution_of
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render
from empowered.web.uploads import body_limit

router = APIRouter()

Contributor = Annotated[Scope, Depends(needs(Permission.CONTRIBUTE))]
Reader = Annotated[Scope, Depends(needs(Permission.VIEW_PUPIL))]


def _target(request: Request, scope: Scope, pupil_key: str) -> CaptureTarget:
    # Named pupils only, before the account's expiry (an expired scope is empty).
    if not may_contribute(scope, pupil_key):
        raise Forbidden(scope.user, request.url.path, "pupil outside the user's scope", pupil_key)
    ps = pupil_scope(scope)
    try:
        with request.app.state.warehouse.reading() as con:
            row = capture_pupil_row(con, pupil_key, scope=ps)
        return target_of(row, pupil_key, scope=ps, keys=settings_of(request.app).keys())
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err


def _organisation(scope: Scope) -> str | None:
    """The organisation the contribution is made for: the account's (a visitor's service);
    staff of the school have none of their own on their account (the school is on the row)."""
    return scope.user.organisation


def _form(
    request: Request,
    scope: Scope,
    target: CaptureTarget,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    areas = contribution_areas(scope)
    chosen = dict(values or {})
    if not chosen.get("area") and len(areas) == 1:
        chosen["area"] = areas[0]
    context: dict[str, Any] = {
        "title": f"Add a note about {target.name}",
        "pupil": target,
        "areas": [(a, AREA_WORDS.get(a, a.capitalize())) for a in areas],
        "values": chosen,
        "errors": errors or {},
        "today": date.today().isoformat(),
        "organisation": _organisation(scope),
        "role": scope.user.role.label,
        "title_max": contrib.TITLE_MAX,
        "note_max": contrib.NOTE_MAX,
        "max_mb": contrib.MAX_FILE_BYTES // (1024 * 1024),
    }
    return render(request, scope, "contribution_form.html", context, status)


@router.get("/pupils/{pupil_key}/contributions/new", response_class=HTMLResponse)
def new_contribution(request: Request, pupil_key: str, scope: Contributor) -> HTMLResponse:
    target = _target(request, scope, pupil_key)
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="contribution form"))
    return _form(request, scope, target)


async def _report(form: Any) -> contrib.Report | None:
    upload = form.get("report")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # Read one byte past the limit at most: enough to say "too big" without holding more.
    data = await upload.read(contrib.MAX_FILE_BYTES + 1)
    return contrib.Report(upload.filename, data)


@router.post("/pupils/{pupil_key}/contributions/new", response_class=HTMLResponse)
async def save_contribution(
    request: Request,
    pupil_key: str,
    scope: Contributor,
    _limit: Annotated[None, Depends(body_limit)],
    form: CheckedForm,
) -> Response:
    target = await run_in_threadpool(_target, request, scope, pupil_key)
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    report = await _report(form)
    checked = contrib.check_contribution(
        posted,
        areas=contribution_areas(scope),
        today=date.today(),
        report=report,
        entry_date=target.entry_date,
        leaving_date=target.leaving_date,
    )
    if checked.ok and not may_contribute(scope, pupil_key, checked.area):
        checked.errors["area"] = "Choose one of your areas from the list."
    if not checked.ok:
        return await run_in_threadpool(
            _form, request, scope, target, values=posted, errors=checked.errors, status=422
        )
    return await run_in_threadpool(_land, request, scope, target, checked)


def _land(
    request: Request, scope: Scope, target: CaptureTarget, checked: contrib.Checked
) -> Response:
    author = contrib.Author(
        staff=staff_ref(scope.user.user_id),
        role=scope.user.role.value,
        organisation=_organisation(scope),
    )
    with request.app.state.warehouse.writing() as con:
        landed = contrib.land_contribution(
            con,
            checked,
            school_urn=target.school_urn,
            upn=target.upn,
            author=author,
            keys=settings_of(request.app).keys(),
            now=datetime.now(),
        )
        built = contrib.build_contributions(con, landed.touched)
    warming.after_build(request.app, built)
    audit(
        request,
        scope,
        ContributionAdded(
            pupil_key=target.pupil_key,
            area=checked.area,
            batch_id=landed.batch_id,
            with_file=landed.file_sha256 is not None,
        ),
    )
    return RedirectResponse(
        f"/pupils/{target.pupil_key}?contributed=1#contributions", status_code=303
    )


@router.get("/pupils/{pupil_key}/contributions/{contribution_id}/report")
def contribution_report(
    request: Request, pupil_key: str, contribution_id: str, scope: Reader
) -> Response:
    ps = pupil_scope(scope)
    found = None
    if ps.identified:
        reader = identity_reader(ps, settings_of(request.app).keys())
        with request.app.state.warehouse.reading() as con:
            found = contribution_of(con, pupil_key, contribution_id, scope=ps, reader=reader)
            sealed = (
                contrib.sealed_report(con, found.file_sha256)
                if found is not None and found.file_sha256
                else None
            )
    if found is None or sealed is None or not may_see_contribution(scope, pupil_key, found.area):
        raise Forbidden(scope.user, request.url.path, "report not found", pupil_key)
    data = reader.report(sealed)
    audit(
        request,
        scope,
        ContributionFileOpened(pupil_key=pupil_key, contribution_id=contribution_id),
    )
    name = found.file_name or "report.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )
