"""Safeguarding concerns: any member of staff records one; the designated safeguarding lead
(DSL) reads, acknowledges and shares them, sees each child's chronology, and records that a
leaver's child protection file reached the new school.

- ``GET /concerns/new`` (``?pupil=`` presets the pupil, from the pupil page or capture) and
  ``POST /concerns/new``: the form, then a receipt. The recorder cannot read the concern
  afterwards: the receipt says it was passed to the DSL, and nothing more is shown.
- ``GET /concerns``: the DSL's queue of the school's concerns (not ``/triggers``, which the
  SENCo and the trust admin open too: one page behind VIEW_CONCERNS keeps concerns out of
  every page anyone else can open).
- ``GET /concerns/{id}``: one concern, for the DSL or an account it was shared with; every
  opening is audited (ConcernOpened). ``POST .../acknowledge`` and ``.../share`` (the DSL).
- ``GET /pupils/{key}/chronology`` and ``POST /pupils/{key}/cp-file`` (the DSL).

Every record lands in raw as its own source (``empowered.concerns``) and is built at once,
under the write lock, so the DSL's home page and queue show it on their next load.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered import concerns as service
from empowered.access.audit import (
    ConcernOpened,
    ConcernRecorded,
    ConcernShared,
    CpFileRecorded,
    ViewedPage,
    ViewedPupil,
)
from empowered.access.policy import (
    Permission,
    Scope,
    has,
    may_act_on_concern,
    may_read_concern,
    may_receive_share,
    may_see_section,
)
from empowered.access.sections import Section
from empowered.access.users import list_users
from empowered.keys import Keys
from empowered.sources.capture import KEY_SHAPE, Checked, new_key, staff_ref
from empowered.views import OutOfScope, PupilScope
from empowered.views import concerns as view
from empowered.views.capture import CaptureTarget, capture_pupils, capture_target
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, check_pupil, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render
from empowered.web.words import day

router = APIRouter()
P = Permission
Recorder = Annotated[Scope, Depends(needs(P.RECORD_CONCERN))]
Dsl = Annotated[Scope, Depends(needs(P.VIEW_CONCERNS))]
Reader = Annotated[Scope, Depends(needs(P.VIEW_CONCERNS, P.RECORD_CONCERN))]


def _target(request: Request, scope: Scope, pupil_key: str) -> CaptureTarget:
    check_pupil(scope, pupil_key, request.url.path)
    try:
        with request.app.state.warehouse.reading() as con:
            return capture_target(
                con, pupil_key, scope=pupil_scope(scope), keys=settings_of(request.app).keys()
            )
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err


def _form(
    request: Request,
    scope: Scope,
    target: CaptureTarget,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    now = datetime.now()
    key = (values or {}).get("form_key") or ""
    return render(
        request,
        scope,
        "concern_form.html",
        {
            "title": f"Record a safeguarding concern about {target.name}",
            "pupil": target,
            "values": values or {},
            "errors": errors or {},
            "categories": service.CATEGORIES,
            "form_key": key if KEY_SHAPE.match(key) else new_key(),
            "today": now.date().isoformat(),
            "text_max": service.TEXT_MAX,
        },
        status=status,
    )


@router.get("/concerns/new", response_class=HTMLResponse)
def concern_form(
    request: Request,
    scope: Recorder,
    pupil: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    if pupil:
        target = _target(request, scope, pupil)
        audit(request, scope, ViewedPupil(pupil_key=pupil, page="concern form"))
        return _form(request, scope, target)
    with request.app.state.warehouse.reading() as con:
        pupils = capture_pupils(con, scope=pupil_scope(scope), groups=scope.user.groups, search=q)
    groups: dict[str, list[Any]] = {}
    for p in pupils:
        groups.setdefault(p.group, []).append(p)
    audit(request, scope, ViewedPage(page="/concerns/new"))
    return render(
        request,
        scope,
        "concern_choose.html",
        {"title": "Record a safeguarding concern", "q": q, "groups": groups, "count": len(pupils)},
    )


@router.post("/concerns/new", response_class=HTMLResponse)
def concern_save(request: Request, scope: Recorder, form: CheckedForm) -> Response:
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    pupil_key = posted.get("pupil", "")
    target = _target(request, scope, pupil_key)
    now = datetime.now()
    checked = service.check_concern(posted, now=now)
    key = posted.get("form_key") or None
    if key is not None and not KEY_SHAPE.match(key):
        checked.errors["form_key"] = "This form could not be read: reload the page and try again."
    if not checked.ok:
        return _form(request, scope, target, values=posted, errors=checked.errors, status=422)
    with request.app.state.warehouse.writing() as con:
        landed = service.land_concern(
            con,
            checked,
            school_urn=target.school_urn,
            upn=target.upn,
            staff=staff_ref(scope.user.user_id),
            keys=settings_of(request.app).keys(),
            now=now,
            key=key,
        )
        built = service.build(con, landed) if landed.batch_id is not None else None
    if built is not None:
        warming.after_build(request.app, built)
        audit(
            request,
            scope,
            ConcernRecorded(
                pupil_key=pupil_key,
                concern_id=landed.record_id,
                category=str(checked.values["category"]),
            ),
        )
    # The receipt: when, about whom, and that it went to the DSL. Never the words.
    return render(
        request,
        scope,
        "concern_saved.html",
        {
            "title": "Passed to the designated safeguarding lead",
            "pupil": target,
            "reference": landed.record_id,
            "at": now,
            "built": built is None or built.ok,
        },
    )


@router.get("/concerns", response_class=HTMLResponse)
def concern_list(request: Request, scope: Dsl) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        found = view.school_concerns(
            con, scope=pupil_scope(scope), keys=settings_of(request.app).keys()
        )
    audit(request, scope, ViewedPage(page="/concerns"))
    return render(
        request,
        scope,
        "concerns.html",
        {
            "title": "Safeguarding concerns",
            "concerns": found,
            "waiting": sum(1 for c in found if not c.acknowledged),
        },
    )


def _detail(request: Request, scope: Scope, concern_id: str) -> view.ConcernDetail:
    def may_read(school_urn: str, shared: frozenset[int]) -> bool:
        return may_read_concern(scope, school_urn, shared)

    with request.app.state.warehouse.reading() as con:
        found = view.concern_detail(
            con,
            concern_id,
            scope=pupil_scope(scope),
            may_read=may_read,
            keys=settings_of(request.app).keys(),
        )
    if found is None:
        raise Forbidden(scope.user, request.url.path, "concern not found", not_found=True)
    return found


def _share_choices(request: Request, school_urn: str, scope: Scope) -> list[tuple[int, str]]:
    today = date.today()
    with request.app.state.warehouse.reading() as con:
        users = list_users(con)
    return sorted(
        (
            (u.user_id, f"{u.username} ({u.role.label})")
            for u in users
            if may_receive_share(u, school_urn, today=today) and u.user_id != scope.user.user_id
        ),
        key=lambda c: c[1].casefold(),
    )


@router.get("/concerns/{concern_id}", response_class=HTMLResponse)
def concern_page(
    request: Request,
    concern_id: str,
    scope: Reader,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _concern_page(request, scope, concern_id, done=done)


def _concern_page(
    request: Request,
    scope: Scope,
    concern_id: str,
    *,
    done: str | None = None,
    share_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = _detail(request, scope, concern_id)
    c = found.summary
    audit(
        request,
        scope,
        ConcernOpened(pupil_key=c.pupil_key, concern_id=c.concern_id, page="concern"),
    )
    dsl = may_act_on_concern(scope, c.school_urn)
    return render(
        request,
        scope,
        "concern.html",
        {
            "title": f"Concern about {c.pupil_name}, {day(c.day)}",
            "c": found,
            "dsl": dsl,
            "staff": _share_choices(request, c.school_urn, scope) if dsl else [],
            "done": {"acknowledged": "Acknowledged.", "shared": "Shared."}.get(done or ""),
            "share_error": share_error,
        },
        status=status,
    )


def _act(
    request: Request, scope: Scope, concern_id: str, event: str, staff: int | None = None
) -> Response:
    found = _detail(request, scope, concern_id)
    c = found.summary
    if not may_act_on_concern(scope, c.school_urn):
        raise Forbidden(scope.user, request.url.path, "not the school's DSL", not_found=True)
    with request.app.state.warehouse.writing() as con:
        landed = service.land_event(
            con,
            school_urn=c.school_urn,
            concern_id=c.concern_id,
            event=event,
            staff=staff_ref(staff) if staff is not None else None,
            by=staff_ref(scope.user.user_id),
            keys=settings_of(request.app).keys(),
            now=datetime.now(),
        )
        service.build(con, landed)
    audit(
        request,
        scope,
        ConcernShared(
            pupil_key=c.pupil_key, concern_id=c.concern_id, act=event, target_user_id=staff
        ),
    )
    return RedirectResponse(f"/concerns/{c.concern_id}?done={event}", status_code=303)


@router.post("/concerns/{concern_id}/acknowledge", response_class=HTMLResponse)
def concern_acknowledge(
    request: Request, concern_id: str, scope: Dsl, form: CheckedForm
) -> Response:
    return _act(request, scope, concern_id, "acknowledged")


@router.post("/concerns/{concern_id}/share", response_class=HTMLResponse)
def concern_share(request: Request, concern_id: str, scope: Dsl, form: CheckedForm) -> Response:
    found = _detail(request, scope, concern_id)
    chosen = str(form.get("staff") or "")
    allowed = {str(i) for i, _ in _share_choices(request, found.summary.school_urn, scope)}
    if chosen not in allowed:
        return _concern_page(
            request,
            scope,
            concern_id,
            share_error="Choose a member of staff at the school from the list.",
            status=400,
        )
    return _act(request, scope, concern_id, "shared", int(chosen))


@router.get("/pupils/{pupil_key}/chronology", response_class=HTMLResponse)
def chronology_page(
    request: Request,
    pupil_key: str,
    scope: Dsl,
    kind: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    target = _target(request, scope, pupil_key)
    kinds = [k for k in (kind or []) if k in view.KINDS]
    with request.app.state.warehouse.reading() as con:
        found = view.chronology(
            con,
            pupil_key,
            scope=pupil_scope(scope),
            may_read=may_act_on_concern(scope, target.school_urn),
            kinds=kinds or None,
            keys=settings_of(request.app).keys(),
        )
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="chronology"))
    for concern_id in found.concern_ids:  # every concern whose words were shown
        audit(
            request,
            scope,
            ConcernOpened(pupil_key=pupil_key, concern_id=concern_id, page="chronology"),
        )
    return render(
        request,
        scope,
        "chronology.html",
        {
            "title": f"Chronology: {target.name}",
            "pupil": target,
            "chronology": found,
            "kinds": view.KINDS,
            "chosen": set(kinds),
        },
    )


@router.post("/pupils/{pupil_key}/cp-file", response_class=HTMLResponse)
def cp_file_save(request: Request, pupil_key: str, scope: Dsl, form: CheckedForm) -> Response:
    target = _target(request, scope, pupil_key)
    if not may_act_on_concern(scope, target.school_urn):
        raise Forbidden(scope.user, request.url.path, "not the school's DSL", pupil_key)
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    now = datetime.now()
    checked: Checked = service.check_cp_file(posted, now=now, leaving_date=target.leaving_date)
    if not checked.ok:
        return render(
            request,
            scope,
            "cp_file_form.html",
            {
                "title": f"Child protection file: {target.name}",
                "pupil": target,
                "values": posted,
                "errors": checked.errors,
                "today": now.date().isoformat(),
            },
            status=422,
        )
    with request.app.state.warehouse.writing() as con:
        landed = service.land_cp_file(
            con,
            checked,
            school_urn=target.school_urn,
            upn=target.upn,
            staff=staff_ref(scope.user.user_id),
            keys=settings_of(request.app).keys(),
            now=now,
        )
        service.build(con, landed)
    audit(request, scope, CpFileRecorded(pupil_key=pupil_key, transfer_id=landed.record_id))
    return RedirectResponse("/?cp_file=recorded#cp-files", status_code=303)


def home_sections(request: Request, scope: Scope) -> dict[str, Any]:
    """What the home page shows about concerns, by section the policy lets this user see:
    the DSL's concerns waiting and leavers' files due; concerns shared with this account."""
    ps = pupil_scope(scope)
    keys = settings_of(request.app).keys()
    found: dict[str, Any] = {}
    try:
        return _home_sections(request, scope, ps, keys, found)
    except duckdb.CatalogException:
        # A warehouse built before concerns existed: nothing to show until its next build.
        return {}


def _home_sections(
    request: Request, scope: Scope, ps: PupilScope, keys: Keys, found: dict[str, Any]
) -> dict[str, Any]:
    with request.app.state.warehouse.reading() as con:
        if may_see_section(scope, Section.HOME_CONCERNS):
            found["concerns_waiting"] = view.school_concerns(
                con, scope=ps, unacknowledged_only=True, keys=keys
            )
        if may_see_section(scope, Section.HOME_CP_FILES):
            found["cp_files_due"] = view.cp_files_due(
                con, scope=ps, today=date.today(), keys=keys, cache=request.app.state.cache
            )
            found["cp_today"] = date.today().isoformat()
        if may_see_section(scope, Section.HOME_SHARED_CONCERNS) and not has_view(scope):
            found["concerns_shared"] = view.shared_with(
                con, staff_ref(scope.user.user_id), scope=ps, keys=keys
            )
    return found


def has_view(scope: Scope) -> bool:
    """The DSL sees every concern in their queue: "shared with you" is for everyone else."""
    return has(scope, P.VIEW_CONCERNS)
