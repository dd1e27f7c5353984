"""Admin: schools, staff accounts, classes and groups, trigger rules, retention, subject
access (trust admin only).

Every route needs ADMIN_USERS (the policy gives it to the trust administrator alone);
every change is a CSRF-checked POST and is written to the audit log, never with a secret
in it. A reset password is shown once to the administrator and never stored in clear or
logged; its holder must change it at their next sign-in.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import FormData

from empowered.access import retention, sessions
from empowered.access.audit import (
    Changed,
    PasswordReset,
    RetentionApplied,
    SchoolSetUp,
    SubjectAccessExported,
    UserAdded,
    UserChanged,
    ViewedPage,
)
from empowered.access.policy import Permission, Scope
from empowered.access.roles import AREAS, Role
from empowered.access.users import (
    AccessError,
    User,
    account_states,
    add_user,
    assign_group,
    disable_user,
    enable_user,
    get_user,
    issue_one_time_password,
    list_users,
    one_time_password,
    require_password_change,
    reset_totp,
    sign_out_everywhere,
    unassign_group,
    update_user,
)
from empowered.imports import stored_file_folders
from empowered.settings import get_settings
from empowered.warehouse.trigger_rules import (
    OVERRIDES_TABLE,
    TriggerRule,
    TriggerRulesError,
    load_trigger_rules,
    parse_rule,
    rule_document,
    saved_overrides,
    with_overrides,
)
from empowered.web import warming
from empowered.web.deps import CheckedForm, needs
from empowered.web.import_runs import settings_of
from empowered.web.render import ADMIN, audit, render

router = APIRouter()
AdminScope = Annotated[Scope, Depends(needs(*ADMIN))]


def _schools(request: Request) -> list[dict[str, Any]]:
    with request.app.state.warehouse.reading() as con:
        try:
            rows = con.execute(
                "SELECT school_urn, school_name FROM core.dim_school ORDER BY school_name"
            ).fetchall()
        except Exception:  # a warehouse not built yet has no schools to offer
            rows = []
    return [{"urn": str(u), "name": str(n)} for u, n in rows]


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


def _account_form(form: FormData) -> dict[str, Any]:
    expires = str(form.get("expires") or "").strip()
    return {
        "username": str(form.get("username") or "").strip(),
        "role": str(form.get("role") or ""),
        "school": str(form.get("school") or "").strip() or None,
        "groups": _list(str(form.get("groups") or "")),
        "pupils": _list(str(form.get("pupils") or "")),
        "areas": [str(a) for a in form.getlist("areas")],
        "expires": expires,
        "organisation": str(form.get("organisation") or "").strip(),
    }


def _expiry(values: dict[str, Any]) -> date | None:
    raw = values["expires"]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise AccessError("Enter the expiry date as a date, such as 2027-03-31.") from None


# --- Schools ----------------------------------------------------------------------------

# The set-up form's fields: (name, label, hint, required, numeric).
SCHOOL_FIELDS = (
    ("urn", "Unique reference number (URN)", "Six digits, as on GIAS.", True, True),
    ("name", "School name", None, True, False),
    ("phase", "Phase", None, True, False),
    ("la", "Local authority code (optional)", "Three digits, such as 886.", False, True),
    ("estab", "Establishment number (optional)", "Four digits: with the local authority "
     "code it makes the DfE number that transfer files use.", False, True),
    ("trust", "Multi-academy trust (optional)", None, False, False),
)  # fmt: skip


def _schools_page(
    request: Request,
    scope: Scope,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from empowered.schools import PHASES, list_schools

    with request.app.state.warehouse.reading() as con:
        schools = list_schools(con)
    fields = [
        {"name": n, "label": label, "hint": hint, "required": req, "numeric": num}
        for n, label, hint, req, num in SCHOOL_FIELDS
    ]
    return render(
        request,
        scope,
        "admin_schools.html",
        {
            "title": "Admin: schools",
            "schools": schools,
            "fields": fields,
            "phases": PHASES,
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status,
    )


@router.get("/admin/schools", response_class=HTMLResponse)
def schools_page(request: Request, scope: AdminScope, saved: str | None = None) -> HTMLResponse:
    audit(request, scope, ViewedPage(page="/admin/schools"))
    notice = f"School {saved} is set up. Next: import its files (Imports)." if saved else None
    return _schools_page(request, scope, notice=notice)


@router.post("/admin/schools", response_class=HTMLResponse)
def school_save(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    """Set up a school as ``empowered school add`` does: one ``schools`` row landed in raw
    as a batch of its own (source ``school-setup``), then the build."""
    from empowered.schools import SchoolError, add_school, details

    values = {n: str(form.get(n) or "").strip() for n, *_ in SCHOOL_FIELDS}
    try:
        school = details(
            values["urn"],
            name=values["name"] or None,
            phase=values["phase"] or None,
            la_code=values["la"] or None,
            estab=values["estab"] or None,
            trust_name=values["trust"] or None,
        )
    except SchoolError as err:
        errors = {err.field: str(err)}
        return _schools_page(request, scope, values=values, errors=errors, status=400)
    with request.app.state.warehouse.writing() as con:
        added = add_school(con, school, keys=settings_of(request.app).keys())
    warming.after_build(request.app)
    audit(request, scope, SchoolSetUp(school_urn=school.urn, batch_id=added.batch_id, via="web"))
    if not added.build.ok:
        return _schools_page(
            request,
            scope,
            notice="The school was saved, but rebuilding the warehouse found a problem: "
            "tell your data lead (the command empowered build shows it).",
            status=500,
        )
    return RedirectResponse(f"/admin/schools?saved={school.urn}", status_code=303)


# --- Accounts ---------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def users_page(request: Request, scope: AdminScope) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        users = list_users(con)
        states = account_states(con)
    audit(request, scope, ViewedPage(page="/admin"))
    return render(
        request,
        scope,
        "admin.html",
        {
            "title": "Admin: staff accounts",
            "users": users,
            "states": states,
            "today": date.today(),
        },
    )


def _user_form(
    request: Request,
    scope: Scope,
    *,
    target: User | None,
    values: dict[str, Any],
    error: str | None = None,
    status: int = 200,
    open_sessions: int | None = None,
) -> HTMLResponse:
    return render(
        request,
        scope,
        "admin_user.html",
        {
            "title": f"Admin: {target.username}" if target else "Admin: add a staff account",
            "target": target,
            "v": values,
            "error": error,
            "roles": list(Role),
            "areas": AREAS,
            "schools": _schools(request),
            "open_sessions": open_sessions,
        },
        status,
    )


def _values_of(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "school": user.school_urn,
        "groups": list(user.groups),
        "pupils": list(user.pupils),
        "areas": list(user.areas),
        "expires": user.expires_on.isoformat() if user.expires_on else "",
        "organisation": user.organisation or "",
    }


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user(request: Request, scope: AdminScope) -> HTMLResponse:
    empty: dict[str, Any] = {"username": "", "role": "", "school": None, "groups": [], "pupils": []}
    return _user_form(
        request,
        scope,
        target=None,
        values={**empty, "areas": [], "expires": "", "organisation": ""},
    )


def _one_time(request: Request, scope: Scope, user: User, password: str, added: bool) -> Response:
    return render(
        request,
        scope,
        "admin_password.html",
        {
            "title": "Admin: one-time password",
            "target": user,
            "password": password,
            "added": added,
        },
    )


@router.post("/admin/users", response_class=HTMLResponse)
def add(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    values = _account_form(form)
    password = one_time_password()
    try:
        with request.app.state.warehouse.recording() as con:
            user = add_user(
                con,
                values["username"],
                password,
                values["role"],
                school_urn=values["school"],
                groups=values["groups"],
                pupils=values["pupils"],
                areas=values["areas"],
                expires_on=_expiry(values),
                organisation=values["organisation"],
            )
            require_password_change(con, user.user_id)
    except AccessError as err:
        return _user_form(request, scope, target=None, values=values, error=str(err), status=400)
    audit(request, scope, UserAdded(target_user_id=user.user_id, role=user.role.value))
    return _one_time(request, scope, user, password, added=True)


def _target(request: Request, scope: Scope, user_id: int) -> User:
    with request.app.state.warehouse.reading() as con:
        user = get_user(con, user_id)
    if user is None:
        from empowered.web.deps import Forbidden

        raise Forbidden(scope.user, request.url.path, "no such account")
    return user


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def edit_user(request: Request, scope: AdminScope, user_id: int) -> HTMLResponse:
    user = _target(request, scope, user_id)
    # An account's page shows who it is, their school, groups, pupils and areas: recorded.
    audit(request, scope, ViewedPage(page=f"/admin/users/{user_id}"))
    with request.app.state.warehouse.reading() as con:
        open_sessions = sessions.live_count(con, user_id)
    return _user_form(
        request, scope, target=user, values=_values_of(user), open_sessions=open_sessions
    )


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def save_user(request: Request, scope: AdminScope, user_id: int, form: CheckedForm) -> Response:
    user = _target(request, scope, user_id)
    values = {**_account_form(form), "username": user.username}
    try:
        with request.app.state.warehouse.recording() as con:
            changed = update_user(
                con,
                user_id,
                role=values["role"],
                school_urn=values["school"],
                groups=values["groups"],
                pupils=values["pupils"],
                areas=values["areas"],
                expires_on=_expiry(values),
                organisation=values["organisation"],
            )
    except AccessError as err:
        return _user_form(request, scope, target=user, values=values, error=str(err), status=400)
    what = _differences(user, changed)
    if what:
        audit(request, scope, UserChanged(target_user_id=user_id, what=what))
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


def _differences(before: User, after: User) -> str:
    names = (
        ("role", "role"),
        ("school_urn", "school"),
        ("groups", "groups"),
        ("pupils", "named pupils"),
        ("areas", "areas"),
        ("expires_on", "expiry"),
        ("organisation", "organisation"),
    )
    return ", ".join(
        label for attr, label in names if getattr(before, attr) != getattr(after, attr)
    )


@router.post("/admin/users/{user_id}/disable")
def disable(request: Request, scope: AdminScope, user_id: int, form: CheckedForm) -> Response:
    _target(request, scope, user_id)
    if user_id == scope.user.user_id:
        return _message(
            request, scope, "Not switched off", "You cannot switch off your own account.", 400
        )
    with request.app.state.warehouse.recording() as con:
        disable_user(con, user_id)
    audit(request, scope, UserChanged(target_user_id=user_id, what="disabled"))
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


@router.post("/admin/users/{user_id}/enable")
def enable(request: Request, scope: AdminScope, user_id: int, form: CheckedForm) -> Response:
    _target(request, scope, user_id)
    with request.app.state.warehouse.recording() as con:
        enable_user(con, user_id)
    audit(request, scope, UserChanged(target_user_id=user_id, what="enabled"))
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


@router.post("/admin/users/{user_id}/reset-password", response_class=HTMLResponse)
def reset_password(
    request: Request, scope: AdminScope, user_id: int, form: CheckedForm
) -> Response:
    user = _target(request, scope, user_id)
    with request.app.state.warehouse.recording() as con:
        password = issue_one_time_password(con, user_id)
    audit(request, scope, PasswordReset(target_user_id=user_id))
    return _one_time(request, scope, user, password, added=False)


@router.post("/admin/users/{user_id}/sign-out-everywhere")
def sign_out_all(request: Request, scope: AdminScope, user_id: int, form: CheckedForm) -> Response:
    """End every session of the account at once (a lost laptop, a shared computer left
    signed in, a suspicion); the holder signs in again as usual."""
    _target(request, scope, user_id)
    with request.app.state.warehouse.recording() as con:
        ended = sign_out_everywhere(con, user_id)
    audit(
        request,
        scope,
        UserChanged(target_user_id=user_id, what=f"signed out everywhere ({ended} sessions)"),
    )
    return RedirectResponse(f"/admin/users/{user_id}?signed_out=1", status_code=303)


@router.post("/admin/users/{user_id}/reset-2fa")
def reset_2fa(request: Request, scope: AdminScope, user_id: int, form: CheckedForm) -> Response:
    _target(request, scope, user_id)
    with request.app.state.warehouse.recording() as con:
        reset_totp(con, user_id)
    audit(request, scope, UserChanged(target_user_id=user_id, what="second factor reset"))
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


def _message(
    request: Request, scope: Scope, title: str, message: str, status: int = 200
) -> HTMLResponse:
    return render(request, scope, "message.html", {"title": title, "message": message}, status)


# --- Classes and groups -----------------------------------------------------------------


@router.get("/admin/groups", response_class=HTMLResponse)
def groups_page(request: Request, scope: AdminScope, school: str | None = None) -> HTMLResponse:
    schools = _schools(request)
    chosen = school if school in {s["urn"] for s in schools} else None
    if chosen is None and schools:
        chosen = schools[0]["urn"]
    groups: list[dict[str, Any]] = []
    staff: list[User] = []
    if chosen:
        with request.app.state.warehouse.reading() as con:
            groups = [
                {"code": str(code), "members": int(n)}
                for code, n in con.execute(
                    retention.sql("admin_groups"), {"school": chosen}
                ).fetchall()
            ]
            staff = [
                u
                for u in list_users(con)
                if u.school_urn == chosen and u.role in (Role.TEACHER, Role.TEACHING_ASSISTANT)
            ]
    for g in groups:
        g["staff"] = [u for u in staff if g["code"] in u.groups]
    audit(request, scope, ViewedPage(page="/admin/groups"))
    return render(
        request,
        scope,
        "admin_groups.html",
        {
            "title": "Admin: classes and groups",
            "schools": schools,
            "school": chosen,
            "groups": groups,
            "staff": staff,
        },
    )


@router.post("/admin/groups/assign")
def group_assign(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    return _group_change(request, scope, form, assign=True)


@router.post("/admin/groups/unassign")
def group_unassign(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    return _group_change(request, scope, form, assign=False)


def _group_change(request: Request, scope: Scope, form: FormData, *, assign: bool) -> Response:
    school = str(form.get("school") or "")
    group = str(form.get("group") or "")
    try:
        user_id = int(str(form.get("user_id") or ""))
    except ValueError:
        return _message(request, scope, "Nothing changed", "Choose a member of staff.", 400)
    user = _target(request, scope, user_id)
    if user.school_urn != school:
        return _message(
            request, scope, "Nothing changed", "That account is at another school.", 400
        )
    try:
        with request.app.state.warehouse.recording() as con:
            (assign_group if assign else unassign_group)(con, user_id, group)
    except AccessError as err:
        return _message(request, scope, "Nothing changed", str(err), 400)
    what = f"group {group} {'assigned' if assign else 'unassigned'}"
    audit(request, scope, UserChanged(target_user_id=user_id, what=what))
    return RedirectResponse(f"/admin/groups?school={school}", status_code=303)


# --- Trigger rules ----------------------------------------------------------------------


def _rules(request: Request) -> tuple[list[TriggerRule], set[str]]:
    file_rules = load_trigger_rules(get_settings().trigger_rules)
    with request.app.state.warehouse.reading() as con:
        overrides = saved_overrides(con)
    return with_overrides(file_rules, overrides), set(overrides)


def _rules_page(
    request: Request,
    scope: Scope,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    rules, saved = _rules(request)
    return render(
        request,
        scope,
        "admin_rules.html",
        {
            "title": "Admin: trigger rules",
            "rules": [{"rule": r, "doc": rule_document(r), "saved": r.id in saved} for r in rules],
            "errors": errors or {},
            "notice": notice,
        },
        status,
    )


@router.get("/admin/rules", response_class=HTMLResponse)
def rules_page(request: Request, scope: AdminScope, saved: str | None = None) -> HTMLResponse:
    notice = (
        "Saved. The change takes effect at the next build or import, or rebuild now below."
        if saved
        else None
    )
    return _rules_page(request, scope, notice=notice)


_PARAMETERS = ("threshold", "window_school_weeks", "period", "min_possible_sessions")


@router.post("/admin/rules", response_class=HTMLResponse)
def save_rule(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    rule_id = str(form.get("rule_id") or "")
    rules, _ = _rules(request)
    current = next((r for r in rules if r.id == rule_id), None)
    if current is None:
        return _message(request, scope, "Nothing saved", "There is no such rule.", 400)
    doc = rule_document(current)
    doc["enabled"] = form.get("enabled") == "yes"
    params = dict(doc["parameters"])
    for name in _PARAMETERS:
        if name in params and name in form:
            raw = str(form.get(name) or "").strip()
            params[name] = raw if name == "period" else _number(raw)
    doc["parameters"] = params
    try:
        rule = parse_rule(doc)
    except TriggerRulesError as err:
        message = str(err).split(": ", 2)[-1]
        return _rules_page(request, scope, errors={rule_id: message}, status=400)
    body = json.dumps(rule_document(rule), sort_keys=True)
    with request.app.state.warehouse.recording() as con:
        con.execute(
            f"INSERT OR REPLACE INTO {OVERRIDES_TABLE} VALUES (?, ?, ?, ?)",
            [rule.id, body, datetime.now(UTC).replace(tzinfo=None), scope.user.user_id],
        )
    detail = {"rule_id": rule.id, "enabled": rule.enabled, "parameters": params}
    audit(request, scope, Changed(what="trigger rule", detail=detail))
    return RedirectResponse("/admin/rules?saved=1", status_code=303)


def _number(raw: str) -> int | float | str:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw  # the model's check words the problem


@router.post("/admin/rules/rebuild", response_class=HTMLResponse)
def rebuild(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    from empowered.warehouse.build import build_duckdb

    with request.app.state.warehouse.writing() as con:
        result = build_duckdb(con, touched=set())
    warming.after_build(request.app)
    audit(request, scope, Changed(what="rebuilt after trigger rules", detail={"ok": result.ok}))
    if result.ok:
        return _rules_page(
            request, scope, notice="Rebuilt: the review queue now follows the rules shown."
        )
    failures = "; ".join(f.message.splitlines()[0] for f in result.failures())[:500]
    return _rules_page(request, scope, notice=f"The rebuild found problems: {failures}", status=500)


# --- Retention --------------------------------------------------------------------------


def _retention_page(
    request: Request,
    scope: Scope,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        expired = retention.preview(con)
        whole = retention.pupils_past(con)
    return render(
        request,
        scope,
        "admin_retention.html",
        {
            "title": "Admin: how long records are kept",
            "expired": expired,
            "values": values or {e.category.key: e.years for e in expired},
            "errors": errors or {},
            "notice": notice,
            "source": retention.SOURCE,
            "total": sum(e.total for e in expired),
            "whole": whole,
            "whole_label": retention.WHOLE_RECORD,
            "whole_why": retention.WHOLE_RECORD_WHY,
        },
        status,
    )


@router.get("/admin/retention", response_class=HTMLResponse)
def retention_page(request: Request, scope: AdminScope, saved: str | None = None) -> HTMLResponse:
    audit(request, scope, ViewedPage(page="/admin/retention"))
    return _retention_page(request, scope, notice="Saved." if saved else None)


@router.post("/admin/retention", response_class=HTMLResponse)
def retention_save(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    values = {c.key: str(form.get(c.key) or "") for c in retention.CATEGORIES}
    years, errors = retention.check_years(values)
    if errors:
        return _retention_page(request, scope, errors=errors, values=values, status=400)
    with request.app.state.warehouse.recording() as con:
        retention.save_settings(con, years, user_id=scope.user.user_id)
    audit(request, scope, Changed(what="retention settings", detail={"years": years}))
    return RedirectResponse("/admin/retention?saved=1", status_code=303)


@router.post("/admin/retention/apply", response_class=HTMLResponse)
def retention_apply(request: Request, scope: AdminScope, form: CheckedForm) -> Response:
    if form.get("confirm") != "yes":
        errors = {"confirm": "Tick the box to confirm that these records will be deleted."}
        return _retention_page(request, scope, errors=errors, status=400)
    files = stored_file_folders(
        Path(request.app.state.warehouse.path), settings_of(request.app).inbox
    )
    with request.app.state.warehouse.writing() as con:
        applied = retention.apply(con, user=scope.user, files=files)
    if applied.rebuilt:
        warming.after_build(request.app)
    audit(
        request,
        scope,
        RetentionApplied(
            deleted=applied.deleted,
            years=applied.years,
            pupils_purged=applied.pupils_purged,
            files_deleted=applied.files_deleted,
        ),
    )
    total = sum(applied.deleted.values())
    notice = f"Deleted {total} records past their retention period."
    if applied.pupils_purged:
        notice += (
            f" Removed everything about {applied.pupils_purged} pupils who left long ago"
            f" ({applied.files_deleted} stored import files)."
        )
    if applied.rebuilt and not applied.build_ok:
        notice += " The rebuild afterwards found problems: run empowered build to see them."
    return _retention_page(request, scope, notice=notice)


# --- Subject access ---------------------------------------------------------------------

SubjectAccessScope = Annotated[Scope, Depends(needs(Permission.SUBJECT_ACCESS))]


def _subject_access_page(
    request: Request,
    scope: Scope,
    *,
    pupil_key: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        scope,
        "admin_subject_access.html",
        {
            "title": "Admin: everything held about a pupil",
            "pupil_key": pupil_key,
            "error": error,
        },
        status,
    )


@router.get("/admin/subject-access", response_class=HTMLResponse)
def subject_access_page(request: Request, scope: SubjectAccessScope) -> HTMLResponse:
    audit(request, scope, ViewedPage(page="/admin/subject-access"))
    return _subject_access_page(request, scope)


@router.post("/admin/subject-access", response_model=None)
def subject_access_download(
    request: Request, scope: SubjectAccessScope, form: CheckedForm
) -> Response:
    """The zip, streamed from a temporary folder that is removed once it has been sent."""
    from empowered.access.subject_access import NothingHeld, export
    from empowered.crypto import IdentityCipher

    pupil_key = str(form.get("pupil_key") or "").strip()
    if not pupil_key:
        return _subject_access_page(
            request, scope, error="Enter the pupil's key, such as P0123456789abcdef.", status=400
        )
    cipher = IdentityCipher(settings_of(request.app).keys().identity_keys)
    folder = Path(tempfile.mkdtemp(prefix="empowered-sar-"))
    try:
        with request.app.state.warehouse.reading() as con:
            done = export(con, pupil_key, folder, cipher=cipher)
    except NothingHeld:
        shutil.rmtree(folder, ignore_errors=True)
        return _subject_access_page(
            request,
            scope,
            pupil_key=pupil_key,
            error="Nothing is held about a pupil with that key. Check it against the address "
            "of the pupil's page (/pupils/<key>).",
            status=404,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    audit(
        request,
        scope,
        SubjectAccessExported(pupil_key=done.pupil_key, tables=len(done.tables), rows=done.rows),
    )
    return FileResponse(
        done.path,
        media_type="application/zip",
        filename=done.path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
