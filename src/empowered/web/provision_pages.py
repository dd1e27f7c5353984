"""Provision management pages under ``/provision/...`` (the provision map stays at
``/provision``): the intervention catalogue, groups and their members, enrolments (start,
end, move, entry and exit measures) and the session register a TA fills in on a phone.

Every save is checked by :mod:`empowered.provision` with the rules staging applies, landed
in raw as a source of its own and audited. The SENCo's saves build what they touched at
once (the page that follows shows them); a register is answered at once and the marts
catch up in the background, as captures do (``web.capture.rebuilder``). Who may do what
is the policy's (``may_manage_catalogue``, ``may_manage_groups``, ``may_record_sessions``,
``may_view_group``); a record the user may not reach answers "not found", audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered import provision as pv
from empowered.access.audit import ProvisionSaved, ViewedPage
from empowered.access.policy import (
    Permission,
    Scope,
    may_manage_catalogue,
    may_manage_groups,
    may_record_sessions,
    may_see_section,
    may_view_group,
)
from empowered.access.roles import Role
from empowered.access.sections import Section
from empowered.access.users import list_users
from empowered.sources.capture import KEY_SHAPE, new_key, staff_ref
from empowered.views import OutOfScope
from empowered.views import provision_manage as vm
from empowered.views.capture import capture_pupils, capture_target
from empowered.web import warming
from empowered.web.capture import _ensure_raw_tables, _keys, rebuilder
from empowered.web.deps import CheckedForm, Forbidden, needs, pupil_scope
from empowered.web.render import audit, render

router = APIRouter()
P = Permission
Manager = Annotated[Scope, Depends(needs(P.MANAGE_PROVISION))]
Provisioner = Annotated[Scope, Depends(needs(P.MANAGE_PROVISION, P.RECORD_SESSIONS))]
# Roles whose accounts may run a group (the group form offers them).
RUNNER_ROLES = frozenset({Role.SENCO, Role.TEACHER, Role.TEACHING_ASSISTANT})
BUILD_PROBLEM = (
    "Saved, but rebuilding the warehouse found a problem: tell your data lead (the command "
    "empowered build shows it)."
)


def _posted(form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def _form_key(posted: dict[str, str]) -> str | None:
    key = posted.get("form_key") or None
    return key if key and KEY_SHAPE.match(key) else None


def _staff_names(request: Request) -> dict[str, str]:
    with request.app.state.warehouse.reading() as con:
        return {staff_ref(u.user_id): u.username for u in list_users(con)}


def _not_found(request: Request, scope: Scope, reason: str) -> Forbidden:
    return Forbidden(scope.user, request.url.path, reason, not_found=True)


def _save_and_build(request: Request, land: Any) -> tuple[pv.Landed, bool]:
    """Land under the write lock and build what it touched; whether the build was fine."""
    with request.app.state.warehouse.writing() as con:
        landed: pv.Landed = land(con)
        result = pv.build(con, landed)
    if result is not None:
        warming.after_build(request.app, result)
    return landed, result is None or result.ok


def _audit_saved(
    request: Request,
    scope: Scope,
    what: str,
    landed: pv.Landed,
    school_urn: str | None,
    *,
    pupil_key: str | None = None,
    rows: int = 1,
) -> None:
    audit(
        request,
        scope,
        ProvisionSaved(
            what=what,
            school_urn=school_urn,
            record_id=landed.record_id,
            batch_ids=landed.batch_ids,
            pupil_key=pupil_key,
            rows=rows,
        ),
    )


# -- The intervention catalogue -----------------------------------------------------------


def _own_school(scope: Scope) -> str | None:
    """Where this user's new catalogue entries belong: None (trust-wide) for a trust-wide
    scope, else their school."""
    return None if scope.schools is None else scope.user.school_urn


def _catalogue_form(
    request: Request,
    scope: Scope,
    *,
    entry: vm.Intervention | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    school = entry.school_urn if entry else _own_school(scope)
    return render(
        request,
        scope,
        "provision_intervention_form.html",
        {
            "title": f"Change {entry.name}" if entry else "Add an intervention",
            "entry": entry,
            "trust_wide": school is None,
            "values": values if values is not None else (entry.form_values() if entry else {}),
            "errors": errors or {},
            "form_key": (values or {}).get("form_key") or new_key(),
            "areas": pv.AREAS_OF_NEED,
            "measures": pv.MEASURES,
            "roles": pv.STAFF_ROLES,
        },
        status=status,
    )


@router.get("/provision/interventions", response_class=HTMLResponse)
def interventions(
    request: Request,
    scope: Manager,
    saved: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        entries = vm.catalogue(con, scope.schools)
    audit(request, scope, ViewedPage(page="/provision/interventions"))
    return render(
        request,
        scope,
        "provision_interventions.html",
        {
            "title": "Intervention catalogue",
            "entries": entries,
            "editable": {e.code for e in entries if may_manage_catalogue(scope, e.school_urn)},
            "may_add": may_manage_catalogue(scope, _own_school(scope)),
            "trust_wide": scope.schools is None,
            "saved": next((e.name for e in entries if e.code == saved), None),
        },
    )


@router.get("/provision/interventions/new", response_class=HTMLResponse)
def new_intervention(request: Request, scope: Manager) -> HTMLResponse:
    if not may_manage_catalogue(scope, _own_school(scope)):
        raise Forbidden(scope.user, request.url.path, "may not add to the catalogue")
    audit(request, scope, ViewedPage(page="/provision/interventions/new"))
    return _catalogue_form(request, scope, entry=None)


def _entry(request: Request, scope: Scope, code: str) -> vm.Intervention:
    with request.app.state.warehouse.reading() as con:
        entry = next((e for e in vm.catalogue(con, scope.schools) if e.code == code), None)
    if entry is None or not may_manage_catalogue(scope, entry.school_urn):
        raise _not_found(request, scope, "catalogue entry outside the user's catalogue")
    return entry


@router.get("/provision/interventions/{code}", response_class=HTMLResponse)
def edit_intervention(request: Request, code: str, scope: Manager) -> HTMLResponse:
    entry = _entry(request, scope, code)
    audit(request, scope, ViewedPage(page="/provision/interventions/{code}"))
    return _catalogue_form(request, scope, entry=entry)


def _save_intervention(
    request: Request, scope: Scope, form: Any, entry: vm.Intervention | None
) -> Response:
    posted = _posted(form)
    school = entry.school_urn if entry else _own_school(scope)
    with request.app.state.warehouse.reading() as con:
        taken = vm.all_codes(con)
    checked = pv.check_intervention(
        posted, school_urn=school, code=entry.code if entry else None, taken=taken
    )
    if not checked.ok:
        return _catalogue_form(
            request, scope, entry=entry, values=posted, errors=checked.errors, status=422
        )
    staff = staff_ref(scope.user.user_id)
    landed, built = _save_and_build(
        request,
        lambda con: pv.land_intervention(
            con,
            checked,
            staff=staff,
            keys=_keys(request.app),
            now=datetime.now(),
            key=_form_key(posted),
        ),
    )
    _audit_saved(request, scope, "intervention", landed, school)
    if not built:
        return render(
            request, scope, "message.html", {"title": "Saved", "message": BUILD_PROBLEM}, status=500
        )
    return RedirectResponse(f"/provision/interventions?saved={landed.record_id}", status_code=303)


@router.post("/provision/interventions", response_class=HTMLResponse)
def add_intervention(request: Request, scope: Manager, form: CheckedForm) -> Response:
    if not may_manage_catalogue(scope, _own_school(scope)):
        raise Forbidden(scope.user, request.url.path, "may not add to the catalogue")
    return _save_intervention(request, scope, form, None)


@router.post("/provision/interventions/{code}", response_class=HTMLResponse)
def change_intervention(request: Request, code: str, scope: Manager, form: CheckedForm) -> Response:
    entry = _entry(request, scope, code)
    return _save_intervention(request, scope, form, entry)


# -- Groups --------------------------------------------------------------------------------


def _group(request: Request, scope: Scope, group_id: str) -> vm.Group:
    """The group, if this user may open it; else an audited "not found"."""
    with request.app.state.warehouse.reading() as con:
        found = vm.group(con, group_id, staff_names=_staff_names(request), today=date.today())
    if found is None or not may_view_group(scope, found.school_urn, found.runners):
        raise _not_found(request, scope, "group outside the user's groups")
    return found


def _school_choices(request: Request, school_urn: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The interventions a school's group may run (codes) and the staff who may run it."""
    with request.app.state.warehouse.reading() as con:
        codes = [e.code for e in vm.catalogue(con, frozenset({school_urn}))]
        staff = [
            (staff_ref(u.user_id), u.username)
            for u in list_users(con)
            if u.school_urn == school_urn and u.role in RUNNER_ROLES and not u.disabled
        ]
    return codes, list(vm.staff_choices(staff))


def _group_form(
    request: Request,
    scope: Scope,
    school_urn: str,
    *,
    group: vm.Group | None,
    values: dict[str, str] | None = None,
    chosen: list[str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        entries = vm.catalogue(con, frozenset({school_urn}))
    _, staff = _school_choices(request, school_urn)
    if chosen is None:
        chosen = list(group.staff_ids) if group else [staff_ref(scope.user.user_id)]
    return render(
        request,
        scope,
        "provision_group_form.html",
        {
            "title": f"Change {group.name}" if group else "Set up an intervention group",
            "group": group,
            "values": values if values is not None else (group.form_values() if group else {}),
            "chosen": chosen,
            "errors": errors or {},
            "form_key": (values or {}).get("form_key") or new_key(),
            "entries": entries,
            "intervention_choices": [(e.code, e.name) for e in entries],
            "staff": staff,
            "days": pv.DAYS,
            "today": date.today().isoformat(),
        },
        status=status,
    )


@router.get("/provision/groups", response_class=HTMLResponse)
def groups_page(
    request: Request,
    scope: Provisioner,
    saved: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        found = vm.groups(con, scope.schools, staff_names=_staff_names(request), today=date.today())
    shown = [g for g in found if may_view_group(scope, g.school_urn, g.runners)]
    audit(request, scope, ViewedPage(page="/provision/groups"))
    school = scope.user.school_urn
    return render(
        request,
        scope,
        "provision_groups.html",
        {
            "title": "Intervention groups",
            "groups": shown,
            "may_add": school is not None and may_manage_groups(scope, school),
            "may_record": {
                g.group_id for g in shown if may_record_sessions(scope, g.school_urn, g.runners)
            },
            "saved": saved,
            # The way to the catalogue and the map only for those who may open them (an
            # assistant who runs a group may not).
            "show_catalogue": may_see_section(scope, Section.PROVISION_CATALOGUE),
            "show_map": may_see_section(scope, Section.PROVISION_MAP),
        },
    )


@router.get("/provision/groups/new", response_class=HTMLResponse)
def new_group(request: Request, scope: Manager) -> HTMLResponse:
    school = scope.user.school_urn
    if school is None or not may_manage_groups(scope, school):
        raise Forbidden(scope.user, request.url.path, "may not set up groups")
    audit(request, scope, ViewedPage(page="/provision/groups/new"))
    return _group_form(request, scope, school, group=None)


def _save_group(
    request: Request, scope: Scope, form: Any, school: str, group: vm.Group | None
) -> Response:
    posted = _posted(form)
    chosen = [str(v) for v in form.getlist("staff")]
    codes, staff = _school_choices(request, school)
    checked = pv.check_group(
        posted, chosen, interventions=codes, staff={s for s, _ in staff}, today=date.today()
    )
    if not checked.ok:
        return _group_form(
            request,
            scope,
            school,
            group=group,
            values=posted,
            chosen=chosen,
            errors=checked.errors,
            status=422,
        )
    me = staff_ref(scope.user.user_id)
    landed, built = _save_and_build(
        request,
        lambda con: pv.land_group(
            con,
            checked,
            school_urn=school,
            group_id=group.group_id if group else None,
            staff=me,
            keys=_keys(request.app),
            now=datetime.now(),
            key=_form_key(posted),
        ),
    )
    _audit_saved(request, scope, "group", landed, school)
    if not built:
        return render(
            request, scope, "message.html", {"title": "Saved", "message": BUILD_PROBLEM}, status=500
        )
    return RedirectResponse(f"/provision/groups/{landed.record_id}?saved=group", status_code=303)


@router.post("/provision/groups", response_class=HTMLResponse)
def add_group(request: Request, scope: Manager, form: CheckedForm) -> Response:
    school = scope.user.school_urn
    if school is None or not may_manage_groups(scope, school):
        raise Forbidden(scope.user, request.url.path, "may not set up groups")
    return _save_group(request, scope, form, school, None)


def _managed_group(request: Request, scope: Scope, group_id: str) -> vm.Group:
    found = _group(request, scope, group_id)
    if not may_manage_groups(scope, found.school_urn):
        raise _not_found(request, scope, "group the user may not change")
    return found


@router.get("/provision/groups/{group_id}/edit", response_class=HTMLResponse)
def edit_group(request: Request, group_id: str, scope: Manager) -> HTMLResponse:
    found = _managed_group(request, scope, group_id)
    audit(request, scope, ViewedPage(page="/provision/groups/{group_id}/edit"))
    return _group_form(request, scope, found.school_urn, group=found)


@router.post("/provision/groups/{group_id}", response_class=HTMLResponse)
def change_group(request: Request, group_id: str, scope: Manager, form: CheckedForm) -> Response:
    found = _managed_group(request, scope, group_id)
    return _save_group(request, scope, form, found.school_urn, found)


SAVED_WORDS = {
    "group": "The group is saved.",
    "member": "The pupil is added to the group.",
    "register": "The session register is saved. The provision map includes it within a minute.",
    "ended": "The enrolment is ended.",
    "moved": "The pupil is moved: both enrolments are kept, with the reason.",
    "measures": "The entry and exit measures are saved.",
}


def _group_page(
    request: Request,
    scope: Scope,
    found: vm.Group,
    *,
    saved: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    manage = may_manage_groups(scope, found.school_urn)
    ps = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        people = vm.members(con, found.group_id, scope=ps, keys=_keys(request.app))
        registers = vm.sessions(con, found.group_id, staff_names=_staff_names(request))
        enrolled = {m.pupil_key for m in people if m.on(date.today())}
        pupils = (
            [
                p
                for p in capture_pupils(con, scope=ps)
                if p.school_urn == found.school_urn and p.pupil_key not in enrolled
            ]
            if manage
            else []
        )
    return render(
        request,
        scope,
        "provision_group.html",
        {
            "title": found.name,
            "g": found,
            "members": people,
            "registers": registers,
            "manage": manage,
            "may_record": may_record_sessions(scope, found.school_urn, found.runners),
            "pupils": pupils,
            "values": values or {"start_date": date.today().isoformat()},
            "errors": errors or {},
            "form_key": (values or {}).get("form_key") or new_key(),
            "saved": SAVED_WORDS.get(saved or ""),
            "today": date.today(),
        },
        status=status,
    )


@router.get("/provision/groups/{group_id}", response_class=HTMLResponse)
def group_page(
    request: Request,
    group_id: str,
    scope: Provisioner,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    found = _group(request, scope, group_id)
    audit(request, scope, ViewedPage(page="/provision/groups/{group_id}"))
    return _group_page(request, scope, found, saved=saved)


def _sessions_planned(request: Request, code: str) -> int | None:
    with request.app.state.warehouse.reading() as con:
        entry = next((e for e in vm.catalogue(con, None) if e.code == code), None)
    if entry and entry.sessions_per_week and entry.weeks:
        return entry.sessions_per_week * entry.weeks
    return None


@router.post("/provision/groups/{group_id}/members", response_class=HTMLResponse)
def add_member(request: Request, group_id: str, scope: Manager, form: CheckedForm) -> Response:
    found = _managed_group(request, scope, group_id)
    posted = _posted(form)
    pupil = posted.get("pupil") or ""
    target = None
    if pupil:
        try:
            with request.app.state.warehouse.reading() as con:
                target = capture_target(
                    con, pupil, scope=pupil_scope(scope), keys=_keys(request.app)
                )
        except OutOfScope:
            target = None
    checked = pv.check_start(
        posted,
        today=date.today(),
        entry_date=target.entry_date if target else None,
        leaving_date=target.leaving_date if target else None,
    )
    if target is None or target.school_urn != found.school_urn:
        checked.errors["pupil"] = "Choose a pupil of the school from the list."
    if not checked.ok or target is None:
        return _group_page(request, scope, found, values=posted, errors=checked.errors, status=422)
    enrolment = pv.started(
        checked,
        school_urn=found.school_urn,
        upn=target.upn,
        intervention_code=found.intervention_code,
        group_id=found.group_id,
        staff_id=found.staff_ids[0] if found.staff_ids else None,
        sessions_planned=_sessions_planned(request, found.intervention_code),
        now=datetime.now(),
    )
    me = staff_ref(scope.user.user_id)
    landed, built = _save_and_build(
        request,
        lambda con: pv.land_enrolments(
            con,
            [enrolment],
            staff=me,
            keys=_keys(request.app),
            now=datetime.now(),
            key=_form_key(posted),
        ),
    )
    _audit_saved(
        request, scope, "enrolment_started", landed, found.school_urn, pupil_key=target.pupil_key
    )
    if not built:
        return render(
            request, scope, "message.html", {"title": "Saved", "message": BUILD_PROBLEM}, status=500
        )
    return RedirectResponse(f"/provision/groups/{group_id}?saved=member", status_code=303)


# -- The session register ------------------------------------------------------------------


def _recordable(request: Request, scope: Scope, group_id: str) -> vm.Group:
    found = _group(request, scope, group_id)
    if not may_record_sessions(scope, found.school_urn, found.runners):
        # They may see the group (the trust admin reads every school's): "forbidden".
        raise Forbidden(scope.user, request.url.path, "may not record this group's sessions")
    return found


def _register_page(
    request: Request,
    scope: Scope,
    found: vm.Group,
    *,
    values: dict[str, str] | None = None,
    ticked: set[str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = date.today()
    values = values or {}
    try:
        day = date.fromisoformat(values.get("day") or today.isoformat())
    except ValueError:
        day = today
    with request.app.state.warehouse.reading() as con:
        people = vm.members_on(
            vm.members(con, found.group_id, scope=pupil_scope(scope), keys=_keys(request.app)),
            day,
        )
    return render(
        request,
        scope,
        "provision_register.html",
        {
            "title": f"Session register: {found.name}",
            "g": found,
            "members": people,
            "values": {
                "day": today.isoformat(),
                "delivered": "yes",
                "minutes": str(found.minutes_per_session or ""),
                **values,
            },
            # Everyone ticked by default: the TA unticks who was away.
            "ticked": {m.enrolment_id for m in people} if ticked is None else ticked,
            "errors": errors or {},
            "form_key": values.get("form_key") or new_key(),
            "reasons": pv.MISSED_REASONS,
            "today": today.isoformat(),
        },
        status=status,
    )


@router.get("/provision/groups/{group_id}/sessions/new", response_class=HTMLResponse)
def register_form(request: Request, group_id: str, scope: Provisioner) -> HTMLResponse:
    found = _recordable(request, scope, group_id)
    audit(request, scope, ViewedPage(page="/provision/groups/{group_id}/sessions/new"))
    return _register_page(request, scope, found)


@router.post("/provision/groups/{group_id}/sessions", response_class=HTMLResponse)
def save_register(
    request: Request, group_id: str, scope: Provisioner, form: CheckedForm
) -> Response:
    found = _recordable(request, scope, group_id)
    posted = _posted(form)
    ticked = [str(v) for v in form.getlist("attended")]
    today = date.today()
    try:
        day = date.fromisoformat(posted.get("day") or today.isoformat())
    except ValueError:
        day = today
    with request.app.state.warehouse.reading() as con:
        people = vm.members_on(
            vm.members(con, found.group_id, scope=pupil_scope(scope), keys=_keys(request.app)),
            day,
        )
    ids = [m.enrolment_id for m in people]
    register, errors = pv.check_register(
        posted,
        ticked,
        members=ids,
        default_minutes=found.minutes_per_session,
        today=today,
        first_day=found.start_date,
    )
    if register is None:
        return _register_page(
            request, scope, found, values=posted, ticked=set(ticked), errors=errors, status=422
        )
    _ensure_raw_tables(request.app)
    keys = _keys(request.app)
    # Raw only gains rows: the register lands under the short-write lock, not behind a
    # rebuild, and the rebuild follows in the background (as a capture's does).
    with request.app.state.warehouse.recording() as con:
        landed = pv.land_register(
            con,
            register,
            group_id=found.group_id,
            members=ids,
            recorded_by=staff_ref(scope.user.user_id),
            keys=keys,
            now=datetime.now(),
            key=_form_key(posted),
        )
    if not landed.repeated:
        rebuilder(request.app).schedule(landed.touched)
    _audit_saved(request, scope, "session_register", landed, found.school_urn, rows=len(ids))
    return RedirectResponse(f"/provision/groups/{group_id}?saved=register", status_code=303)


# -- Enrolments ----------------------------------------------------------------------------


def _enrolment(
    request: Request, scope: Scope, enrolment_id: str
) -> tuple[list[vm.EnrolmentVersion], vm.Group | None]:
    """The enrolment's versions (current first) and its group, for its school's SENCo."""
    with request.app.state.warehouse.reading() as con:
        try:
            versions = vm.enrolment_versions(con, enrolment_id)
        except duckdb.CatalogException:
            versions = []
    current = next((v for v in versions if v.is_current), None)
    if current is None or not may_manage_groups(scope, str(current.values["school_urn"])):
        raise _not_found(request, scope, "enrolment outside the user's school")
    group_id = current.values.get("group_id")
    found = None
    if group_id:
        with request.app.state.warehouse.reading() as con:
            found = vm.group(
                con, str(group_id), staff_names=_staff_names(request), today=date.today()
            )
    return versions, found


def _enrolment_page(
    request: Request,
    scope: Scope,
    enrolment_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: bool = False,
) -> HTMLResponse:
    versions, found = _enrolment(request, scope, enrolment_id)
    current = next(v for v in versions if v.is_current)
    school = str(current.values["school_urn"])
    with request.app.state.warehouse.reading() as con:
        others = [
            g
            for g in vm.groups(
                con, frozenset({school}), staff_names=_staff_names(request), today=date.today()
            )
            if not found or g.group_id != found.group_id
        ]
        target = capture_target(
            con,
            str(current.values["pupil_key"]),
            scope=pupil_scope(scope),
            keys=_keys(request.app),
        )
    v = current.values
    return render(
        request,
        scope,
        "provision_enrolment.html",
        {
            "title": f"{target.name}: {found.name if found else v['intervention_code']}",
            "pupil": target,
            "group": found,
            "current": current,
            "versions": versions,
            "others": others,
            "group_choices": [(g.group_id, f"{g.name} ({g.intervention_name})") for g in others],
            "saved": saved,
            "values": values
            or {
                "pre_date": v.get("pre_date") or "",
                "pre_score": v.get("pre_score") or "",
                "post_date": v.get("post_date") or "",
                "post_score": v.get("post_score") or "",
                "end_date": date.today().isoformat(),
            },
            "errors": errors or {},
            "form_key": (values or {}).get("form_key") or new_key(),
            "end_reasons": pv.END_REASONS,
            "enrolment_id": enrolment_id,
            "ended": bool(v.get("end_date")),
        },
        status=status,
    )


@router.get("/provision/enrolments/{enrolment_id}", response_class=HTMLResponse)
def enrolment_page(
    request: Request,
    enrolment_id: str,
    scope: Manager,
    saved: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    page = _enrolment_page(request, scope, enrolment_id, saved=bool(saved))
    audit(request, scope, ViewedPage(page="/provision/enrolments/{enrolment_id}"))
    return page


def _as_enrolment(current: vm.EnrolmentVersion, upn: str) -> pv.Enrolment:
    v = current.values

    def text(name: str) -> str | None:
        value = v.get(name)
        return None if value in (None, "") else str(value)

    return pv.Enrolment(
        enrolment_id=str(v["enrolment_id"]),
        school_urn=str(v["school_urn"]),
        upn=upn,
        intervention_code=str(v["intervention_code"]),
        staff_id=text("staff_id"),
        start_date=text("start_date"),
        end_date=text("end_date"),
        sessions_planned=text("sessions_planned"),
        pre_date=text("pre_date"),
        pre_score=text("pre_score"),
        post_date=text("post_date"),
        post_score=text("post_score"),
        group_id=text("group_id"),
        reason=text("reason"),
        end_reason=text("end_reason"),
    )


def _enrolment_change(
    request: Request, scope: Scope, enrolment_id: str, form: Any, what: str
) -> Response:
    versions, found = _enrolment(request, scope, enrolment_id)
    current = next(v for v in versions if v.is_current)
    posted = _posted(form)
    pupil_key = str(current.values["pupil_key"])
    with request.app.state.warehouse.reading() as con:
        target = capture_target(con, pupil_key, scope=pupil_scope(scope), keys=_keys(request.app))
    enrolment = _as_enrolment(current, target.upn)
    start = date.fromisoformat(enrolment.start_date) if enrolment.start_date else date.min
    now = datetime.now()
    landing: list[pv.Enrolment]
    if what == "measures":
        checked = pv.check_measures(posted)
        landing = [pv.measured(enrolment, checked)] if checked.ok else []
    else:
        if what == "moved":  # the reason the first enrolment ends is the move itself
            posted["end_reason"] = "moved"
        checked = pv.check_end(posted, start_date=start, today=date.today())
        if enrolment.end_date:
            checked.errors["end_date"] = "This enrolment has ended already."
        landing = [pv.ended(enrolment, checked)] if checked.ok else []
        if what == "moved":
            with request.app.state.warehouse.reading() as con:
                to = vm.group(con, posted.get("to_group") or "", staff_names={}, today=date.today())
            if to is None or to.school_urn != enrolment.school_urn:
                checked.errors["to_group"] = "Choose the group the pupil moves to."
            joined = pv.check_start(
                {"start_date": posted.get("end_date") or "", "reason": posted.get("reason") or ""},
                today=date.today(),
            )
            checked.errors.update(joined.errors)
            if checked.ok and to is not None:
                landing.append(
                    pv.started(
                        joined,
                        school_urn=enrolment.school_urn,
                        upn=target.upn,
                        intervention_code=to.intervention_code,
                        group_id=to.group_id,
                        staff_id=to.staff_ids[0] if to.staff_ids else None,
                        sessions_planned=_sessions_planned(request, to.intervention_code),
                        now=now,
                    )
                )
    if not checked.ok:
        return _enrolment_page(
            request, scope, enrolment_id, values=posted, errors=checked.errors, status=422
        )
    me = staff_ref(scope.user.user_id)
    landed, built = _save_and_build(
        request,
        lambda con: pv.land_enrolments(
            con, landing, staff=me, keys=_keys(request.app), now=now, key=_form_key(posted)
        ),
    )
    _audit_saved(
        request,
        scope,
        f"enrolment_{what}",
        landed,
        enrolment.school_urn,
        pupil_key=pupil_key,
        rows=len(landing),
    )
    if not built:
        return render(
            request, scope, "message.html", {"title": "Saved", "message": BUILD_PROBLEM}, status=500
        )
    if what == "measures":
        return RedirectResponse(f"/provision/enrolments/{enrolment_id}?saved=1", status_code=303)
    back = landing[-1].group_id if what == "moved" else enrolment.group_id
    where = f"/provision/groups/{back}" if back else "/provision/groups"
    return RedirectResponse(f"{where}?saved={what}", status_code=303)


@router.post("/provision/enrolments/{enrolment_id}/measures", response_class=HTMLResponse)
def save_measures(
    request: Request, enrolment_id: str, scope: Manager, form: CheckedForm
) -> Response:
    return _enrolment_change(request, scope, enrolment_id, form, "measures")


@router.post("/provision/enrolments/{enrolment_id}/end", response_class=HTMLResponse)
def end_enrolment(
    request: Request, enrolment_id: str, scope: Manager, form: CheckedForm
) -> Response:
    return _enrolment_change(request, scope, enrolment_id, form, "ended")


@router.post("/provision/enrolments/{enrolment_id}/move", response_class=HTMLResponse)
def move_enrolment(
    request: Request, enrolment_id: str, scope: Manager, form: CheckedForm
) -> Response:
    return _enrolment_change(request, scope, enrolment_id, form, "moved")
