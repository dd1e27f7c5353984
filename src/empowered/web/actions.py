"""Actions (issue 13, item 3): agree one for a pupil, give it to a member of staff, mark
it done or cancelled, see "My actions" and the school's open and overdue actions.

``GET /actions`` lists; ``GET /actions/new?pupil=&source=&ref=`` is the form (opened from
the pupil page, a trigger, the register or a review); ``POST /actions`` saves;
``GET /actions/{action_id}`` shows one action and its history; ``POST
/actions/{action_id}/status`` marks it done, cancelled or open again. (``action_id`` in a
URL is the action's key, its school and id, so imported ids never clash across schools.)

A save checks what staging checks (``empowered.actions``), lands ONE row as a batch of
its own, builds what it touched, and records the audit entry. The policy decides who may
agree, own, update and see actions (``access.policy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered import actions as act
from empowered.access.audit import ActionAgreed, ActionStatusChanged, ViewedPage, ViewedPupil
from empowered.access.policy import (
    SCOPE_TABLES,
    Permission,
    Scope,
    has,
    may_agree_action,
    may_own_action,
    may_see_section,
    may_update_action,
    sees_school_actions,
)
from empowered.access.sections import Section
from empowered.action_words import KINDS, SOURCE_LABELS, STATUSES
from empowered.sources.capture import staff_ref
from empowered.views import OutOfScope, PupilScope
from empowered.views.actions import (
    ActionItem,
    Filters,
    action_history,
    action_row,
    apply_filters,
    list_actions,
    one_action,
    school_staff,
)
from empowered.views.capture import CaptureTarget, capture_target
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, check_pupil, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render

router = APIRouter()
P = Permission
ActionsReader = Annotated[Scope, Depends(needs(P.OWN_ACTIONS, P.VIEW_SCHOOL_ACTIONS))]
Agreer = Annotated[Scope, Depends(needs(P.AGREE_ACTIONS))]
Updater = Annotated[Scope, Depends(needs(P.OWN_ACTIONS, P.AGREE_ACTIONS))]
MY_ACTIONS_ON_HOME = 10  # the home page lists the first few; /actions has them all


def my_actions(request: Request, scope: Scope) -> list[ActionItem] | None:
    """The open actions the signed-in account owns, overdue first (None: the section is
    not for this user). The home page and /actions show them."""
    if not may_see_section(scope, Section.HOME_MY_ACTIONS):
        return None
    with request.app.state.warehouse.reading() as con:
        items = list_actions(
            con,
            schools=scope.schools,
            owner=staff_ref(scope.user.user_id),
            reader_scope=pupil_scope(scope),
            today=date.today(),
            keys=settings_of(request.app).keys(),
        )
    return [a for a in items if a.is_open]


def _filters(request: Request) -> Filters:
    q = request.query_params

    def text(name: str) -> str | None:
        value = (q.get(name) or "").strip()
        return value[:80] or None

    status = text("status")
    return Filters(
        owner=text("owner"),
        status=status if status in {"open", "done", "cancelled", "all"} else None,
        kind=text("kind"),
        overdue=q.get("overdue") == "1",
        pupil=text("pupil"),
    )


@router.get("/actions", response_class=HTMLResponse)
def actions_page(request: Request, scope: ActionsReader) -> HTMLResponse:
    today = date.today()
    mine = my_actions(request, scope) if may_see_section(scope, Section.ACTIONS_MINE) else None
    school: list[ActionItem] | None = None
    shown: list[ActionItem] = []
    filters = _filters(request)
    if may_see_section(scope, Section.ACTIONS_SCHOOL):
        with request.app.state.warehouse.reading() as con:
            school = list_actions(
                con,
                schools=scope.schools,
                owner=None,
                reader_scope=pupil_scope(scope),
                today=today,
                keys=settings_of(request.app).keys(),
            )
        shown = apply_filters(school, filters)
    audit(request, scope, ViewedPage(page="/actions"))
    owners = sorted({(a.owner, a.owner_name) for a in school or () if a.owner}, key=lambda o: o[1])
    pupils = sorted(
        {(a.pupil_key, a.pupil_name or "a pupil") for a in school or ()}, key=lambda p: p[1]
    )
    return render(
        request,
        scope,
        "actions.html",
        {
            "title": "Actions",
            "mine": mine,
            "school": school,
            "shown": shown,
            "f": filters,
            "owners": owners,
            "pupils": pupils,
            "kinds": KINDS,
            "statuses": STATUSES,
            "open_count": sum(1 for a in school or () if a.is_open),
            "overdue_count": sum(1 for a in school or () if a.overdue),
        },
    )


def action_target(request: Request, scope: Scope, pupil_key: str) -> CaptureTarget:
    """The pupil an action is agreed for, if this user may agree one for them (else an
    audited refusal)."""
    check_pupil(scope, pupil_key, request.url.path)
    try:
        with request.app.state.warehouse.reading() as con:
            target = capture_target(
                con, pupil_key, scope=pupil_scope(scope), keys=settings_of(request.app).keys()
            )
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err
    if not may_agree_action(scope, target.school_urn, pupil_key):
        raise Forbidden(scope.user, request.url.path, "not the user's school", pupil_key)
    return target


def action_owners(
    request: Request, school_urn: str, pupil_key: str | None = None
) -> dict[str, act.Owner]:
    """The accounts an action may be given to: school staff who may see the pupil. Without
    a pupil (the trigger queue: one list for a page of children), every account at the
    school that may be given actions; saving checks the pupil."""
    today = date.today()
    found: dict[str, act.Owner] = {}
    store = request.app.state.warehouse
    auth = request.app.state.auth_cache
    # The accounts, and each one's scope, as the server keeps them for its own requests
    # (access.auth_cache): reading every account and working out its scope again read
    # each account's roll on every view of the queue.
    version = store.version_of(*SCOPE_TABLES)
    for user in school_staff(auth.accounts(store.reading), school_urn):
        owner = auth.scope(store.reading, user, today=today, data_version=version)
        if may_own_action(owner, pupil_key) if pupil_key else has(owner, P.OWN_ACTIONS):
            ref = staff_ref(user.user_id)
            found[ref] = act.Owner(ref, user.username, user.role.label)
    return found


def _owners(request: Request, target: CaptureTarget) -> dict[str, act.Owner]:
    return action_owners(request, target.school_urn, target.pupil_key)


def _form(
    request: Request,
    scope: Scope,
    target: CaptureTarget,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    owners: dict[str, act.Owner] | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = date.today()
    action_id = values.get("action_id") or ""
    source = values.get("source") or "pupil"
    return render(
        request,
        scope,
        "action_form.html",
        {
            "title": f"Agree an action for {target.name}",
            "pupil": target,
            "v": values,
            "errors": errors or {},
            "owners": list((owners if owners is not None else _owners(request, target)).values()),
            "kinds": KINDS,
            "action_id": action_id if act.ACTION_ID.match(action_id) else act.new_action_id(today),
            "source": source if source in act.FORM_SOURCES else "pupil",
            "source_label": SOURCE_LABELS.get(source, ""),
            "today": today.isoformat(),
            "back": _back_link(source, values.get("ref"), target.pupil_key),
        },
        status,
    )


def _back_link(source: str, ref: str | None, pupil_key: str) -> tuple[str, str]:
    if source == "trigger" and ref and act.REF_SHAPE.match(ref):
        return f"/triggers/{quote(ref)}", "Back to the trigger"
    if source == "register":
        return "/register", "Back to the SEND register"
    return f"/pupils/{pupil_key}", "Back to the pupil's page"


@router.get("/actions/new", response_class=HTMLResponse)
def new_action(
    request: Request,
    scope: Agreer,
    pupil: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str, Query(max_length=20)] = "pupil",
    ref: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    if not pupil:
        return render(
            request,
            scope,
            "message.html",
            {
                "title": "Agree an action",
                "message": "An action is about one pupil: open the pupil's page (from the "
                "SEND register, a trigger or a search) and choose “Agree an action”.",
            },
        )
    target = action_target(request, scope, pupil)
    audit(request, scope, ViewedPupil(pupil_key=pupil, page="actions/new"))
    return _form(request, scope, target, values={"source": source, "ref": ref or ""})


@router.post("/actions", response_class=HTMLResponse)
def save_action(request: Request, scope: Agreer, form: CheckedForm) -> Response:
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    target = action_target(request, scope, posted.get("pupil") or "")
    owners = _owners(request, target)
    agreed = agree_action(request, scope, target, posted, owners)
    if agreed.errors:
        return _form(
            request, scope, target, values=posted, errors=agreed.errors, owners=owners, status=422
        )
    if not agreed.built:
        return _problem(request, scope)
    return RedirectResponse(f"/actions/{quote(agreed.key)}?saved=1", status_code=303)


@dataclass(frozen=True)
class Agreed:
    """What saving an action form did: its errors (nothing saved), or its key."""

    errors: dict[str, str]
    key: str = ""
    new: bool = False  # False for a form posted twice: the first post saved it
    built: bool = True  # False: saved, but the rebuild that shows it found a problem


def agree_action(
    request: Request,
    scope: Scope,
    target: CaptureTarget,
    posted: dict[str, str],
    owners: dict[str, act.Owner],
) -> Agreed:
    """Check a posted action (the actions form's fields) and land it as a batch of its
    own, build what it touched and audit it: the one way the app agrees an action (the
    actions form and a trigger card both post here)."""
    now = datetime.now()
    checked = act.check_action(posted, owners=owners, today=now.date())
    action_id = posted.get("action_id") or ""
    if not act.ACTION_ID.match(action_id):
        checked.errors["description"] = (
            "This form could not be read: reload the page and try again."
        )
    if not checked.ok:
        return Agreed(checked.errors)
    me = staff_ref(scope.user.user_id)
    new = act.from_checked(
        checked, action_id=action_id, school_urn=target.school_urn, upn=target.upn, raised_by=me
    )
    key = f"{target.school_urn}:{action_id}"
    with request.app.state.warehouse.writing() as con:
        # A form posted twice (a double click, a resend) carries the same id: saved once.
        if act.already_landed(con, target.school_urn, action_id):
            return Agreed({}, key)
        batch_id = act.land_action(con, new, keys=settings_of(request.app).keys(), now=now)
        build = act.build_actions(con)
    warming.after_build(request.app)
    audit(
        request,
        scope,
        ActionAgreed(
            pupil_key=target.pupil_key,
            action_id=action_id,
            batch_id=batch_id,
            owner=new.owner,
            source=new.source,
        ),
    )
    return Agreed({}, key, new=True, built=build.ok)


def _problem(request: Request, scope: Scope) -> HTMLResponse:
    return render(
        request,
        scope,
        "message.html",
        {
            "title": "Saved, not yet shown",
            "message": "The action was saved, but rebuilding the warehouse found a problem, "
            "so it is not shown yet: tell your data lead (the command empowered build shows "
            "it).",
        },
        500,
    )


def _visible_action(request: Request, scope: Scope, action_key: str) -> ActionItem:
    """The action if this user may see it (theirs, or their school's for those who see
    every action), else an audited "not found" that says nothing of whether it exists."""
    with request.app.state.warehouse.reading() as con:
        item = one_action(
            con,
            action_key,
            schools=scope.schools,
            reader_scope=pupil_scope(scope),
            today=date.today(),
            keys=settings_of(request.app).keys(),
        )
    mine = item is not None and item.owner == staff_ref(scope.user.user_id)
    if item is None or not (mine or sees_school_actions(scope, item.school_urn)):
        raise Forbidden(scope.user, request.url.path, "not the user's action", not_found=True)
    return item


@router.get("/actions/{action_id}", response_class=HTMLResponse)
def action_page(request: Request, action_id: str, scope: ActionsReader) -> HTMLResponse:
    item = _visible_action(request, scope, action_id)
    with request.app.state.warehouse.reading() as con:
        history = action_history(con, item.action_key)
    audit(request, scope, ViewedPupil(pupil_key=item.pupil_key, page="action"))
    return render(
        request,
        scope,
        "action.html",
        {
            "title": f"{item.kind_label}: {item.pupil_name or 'a pupil'}",
            "a": item,
            "history": history,
            "can_update": may_update_action(scope, item.owner, item.school_urn),
            "can_open_pupil": item.pupil_name is not None and has(scope, P.VIEW_PUPIL),
            "saved": request.query_params.get("saved") == "1",
        },
    )


_BACK = {"home": "/", "actions": "/actions"}


@router.post("/actions/{action_id}/status", response_class=HTMLResponse)
def action_status(request: Request, action_id: str, scope: Updater, form: CheckedForm) -> Response:
    item = _visible_action(request, scope, action_id)
    if not may_update_action(scope, item.owner, item.school_urn):
        raise Forbidden(scope.user, request.url.path, "not the action's owner", not_found=True)
    status = str(form.get("status") or "")
    back = _BACK.get(str(form.get("back") or ""), f"/actions/{quote(item.action_key)}")
    if form.get("back") == "pupil":  # the pupil page's triggers section (issue 15)
        back = f"/pupils/{quote(item.pupil_key)}#triggers"
    if status not in act.STATUS_CHANGES or status == item.status:
        # A stale form (someone changed it meanwhile) or no change: nothing is landed.
        return RedirectResponse(back, status_code=303)
    keys = settings_of(request.app).keys()
    with request.app.state.warehouse.writing() as con:
        current: dict[str, Any] | None = action_row(con, item.action_key)
        assert current is not None
        # The pupil is named by UPN in the landed row as in any import; read here by the
        # server for the row alone, never shown.
        upn = capture_target(
            con, item.pupil_key, scope=PupilScope.school(item.school_urn), keys=keys
        ).upn
        batch_id = act.land_status(
            con,
            current,
            upn=upn,
            status=status,
            by=staff_ref(scope.user.user_id),
            keys=keys,
            now=datetime.now(),
        )
        build = act.build_actions(con)
    warming.after_build(request.app)
    audit(
        request,
        scope,
        ActionStatusChanged(
            pupil_key=item.pupil_key, action_id=item.action_id, batch_id=batch_id, status=status
        ),
    )
    if not build.ok:
        return _problem(request, scope)
    return RedirectResponse(back, status_code=303)
