"""A pupil's plan: read it, write it, agree it (``/pupils/{pupil_key}/plan``).

Whoever may see the register area reads the plan (the policy's ``PLAN_DETAILS`` section,
as the pupil page's plans section); only a role with ``WRITE_PLANS`` (the SENCo) saves or
agrees one. A save checks the form with the rules staging applies
(:func:`empowered.plans.check_plan`), lands the plan and its outcomes as a new version
(one transaction, source ``app-plan``), builds what it touched and then says "Saved";
each save and agreement is audited (``PlanSaved``, ``PlanAgreed``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from empowered import plans
from empowered.access.audit import PlanAgreed, PlanSaved, ViewedPupil
from empowered.access.policy import Permission, Scope, has, may_see_section
from empowered.access.sections import Section
from empowered.sources.capture import KEY_SHAPE, staff_ref
from empowered.views import OutOfScope
from empowered.views.capture import capture_target, strategy_choices
from empowered.views.plan import PlanPage, blank_form, plan_page
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, check_pupil, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render

router = APIRouter()

Reader = Annotated[Scope, Depends(needs(Permission.VIEW_PUPIL))]
Writer = Annotated[Scope, Depends(needs(Permission.WRITE_PLANS))]


def _check_reader(request: Request, scope: Scope, pupil_key: str) -> None:
    check_pupil(scope, pupil_key, request.url.path)
    if not may_see_section(scope, Section.PLAN_DETAILS):
        raise Forbidden(scope.user, request.url.path, "plans need the register area")


def _load(request: Request, scope: Scope, pupil_key: str) -> PlanPage:
    try:
        with request.app.state.warehouse.reading() as con:
            return plan_page(
                con, pupil_key, scope=pupil_scope(scope), cache=request.app.state.cache
            )
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err


def _multi(form: FormData) -> dict[str, list[str]]:
    posted: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            posted.setdefault(name, []).append(value)
    return posted


def _outcome_rows(values: dict[str, list[str]]) -> int:
    return plans.outcome_count(values) if "outcome_count" in values else plans.NEW_PLAN_OUTCOMES


def _page(
    request: Request,
    scope: Scope,
    page: PlanPage,
    *,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    agree_values: dict[str, str] | None = None,
    agree_errors: dict[str, str] | None = None,
    saved: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = date.today()
    can_write = has(scope, Permission.WRITE_PLANS) and not scope.read_only
    if values is None:
        if page.current is not None:
            values = page.current.form()
            rows = len(page.current.outcomes) + plans.SPARE_OUTCOMES
        else:
            values = blank_form(today)
            rows = plans.NEW_PLAN_OUTCOMES
    else:
        rows = _outcome_rows(values)
    with request.app.state.warehouse.reading() as con:
        strategies = strategy_choices(con) if can_write else ()
        name = _pupil_name(con, scope, page.pupil_key)
    context: dict[str, Any] = {
        "title": f"Plan for {name}" if name else "Plan",
        "pupil_name": name,
        "page": page,
        "can_write": can_write,
        "values": values,
        "errors": errors or {},
        "agree_values": agree_values or {"agreed_on": today.isoformat()},
        "agree_errors": agree_errors or {},
        "saved": saved,
        "rows": rows,
        "today": today.isoformat(),
        "plan_key": plans.new_key(),
        "plan_types": plans.PLAN_TYPES,
        "areas": plans.AREAS,
        "texts": plans.TEXTS,
        "needs": dict(plans.NEEDS),
        "agreed_with": plans.AGREED_WITH,
        "strategies": strategies,
        "strategy_names": dict(strategies),
    }
    return render(request, scope, "plan.html", context, status)


def _pupil_name(con: Any, scope: Scope, pupil_key: str) -> str | None:
    if not scope.identified:
        return None
    try:
        return capture_target(con, pupil_key, scope=pupil_scope(scope)).name
    except OutOfScope:
        return None


@router.get("/pupils/{pupil_key}/plan", response_class=HTMLResponse)
def plan(
    request: Request,
    pupil_key: str,
    scope: Reader,
    saved: str | None = None,
) -> HTMLResponse:
    _check_reader(request, scope, pupil_key)
    page = _load(request, scope, pupil_key)
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="plan"))
    shown = {"saved": "Saved.", "agreed": "Saved: the plan is recorded as agreed."}
    return _page(request, scope, page, saved=shown.get(saved or ""))


def _save(
    request: Request,
    scope: Scope,
    pupil_key: str,
    checked: plans.CheckedPlan,
    key: str | None,
) -> plans.SavedPlan | None:
    keys = settings_of(request.app).keys()
    with request.app.state.warehouse.reading() as con:
        try:
            target = capture_target(con, pupil_key, scope=pupil_scope(scope), keys=keys)
        except OutOfScope as err:
            raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err
    with request.app.state.warehouse.writing() as con:
        saved = plans.land_plan(
            con,
            checked,
            school_urn=target.school_urn,
            upn=target.upn,
            staff=staff_ref(scope.user.user_id),
            keys=keys,
            now=datetime.now(),
            key=key,
        )
        if saved is not None:
            plans.build_plan(con, saved)
    if saved is not None:
        warming.after_build(request.app)
    return saved


CHANGED = (
    "Someone saved this plan after you opened it: your changes were not saved. "
    "Reload the page to see their version."
)


@router.post("/pupils/{pupil_key}/plan", response_class=HTMLResponse)
def save_plan(request: Request, pupil_key: str, scope: Writer, form: CheckedForm) -> Response:
    check_pupil(scope, pupil_key, request.url.path)
    page = _load(request, scope, pupil_key)
    posted = _multi(form)
    with request.app.state.warehouse.reading() as con:
        strategies = strategy_choices(con)
    checked = plans.check_plan(posted, strategies=strategies, today=date.today())
    # The form must be about this pupil's plan (or a new one), never another's.
    current_id = page.current.plan_id if page.current else None
    if checked.plan_id is not None and checked.plan_id != current_id:
        checked.errors["plan_id"] = CHANGED
    key = plans.one(posted, "plan_key") or None
    if key is not None and not KEY_SHAPE.match(key):
        checked.errors["plan_key"] = "This form could not be read: reload the page and try again."
    if not checked.ok:
        return _page(request, scope, page, values=posted, errors=checked.errors, status=422)
    try:
        saved = _save(request, scope, pupil_key, checked, key)
    except plans.PlanChanged:
        return _page(request, scope, page, values=posted, errors={"plan_id": CHANGED}, status=409)
    if saved is not None:
        audit(
            request,
            scope,
            PlanSaved(
                pupil_key=pupil_key,
                plan_id=saved.plan_id,
                version=saved.version,
                outcomes=len(saved.outcome_ids),
            ),
        )
    return RedirectResponse(f"/pupils/{pupil_key}/plan?saved=saved#plan-status", status_code=303)


@router.post("/pupils/{pupil_key}/plan/agree", response_class=HTMLResponse)
def agree_plan(request: Request, pupil_key: str, scope: Writer, form: CheckedForm) -> Response:
    check_pupil(scope, pupil_key, request.url.path)
    page = _load(request, scope, pupil_key)
    posted = _multi(form)
    if page.current is None:
        return _page(
            request,
            scope,
            page,
            agree_errors={"agreed_with": "There is no plan to agree yet: write it first."},
            status=422,
        )
    whole = page.current.form()
    whole["base_version"] = [plans.one(posted, "base_version")]
    for name in ("agreed_with", "agreed_on"):
        whole[name] = [plans.one(posted, name)]
    with request.app.state.warehouse.reading() as con:
        strategies = strategy_choices(con)
    checked = plans.check_plan(whole, strategies=strategies, today=date.today(), agree=True)
    agree_values = {n: plans.one(posted, n) for n in ("agreed_with", "agreed_on")}
    if not checked.ok:
        # Only the agreement's own fields can be wrong: the plan is the version shown.
        return _page(
            request,
            scope,
            page,
            agree_values=agree_values,
            agree_errors={k: v for k, v in checked.errors.items() if k.startswith("agreed")}
            or {"agreed_with": "This plan cannot be agreed as it stands: edit it first."},
            status=422,
        )
    key = plans.one(posted, "plan_key") or None
    if key is not None and not KEY_SHAPE.match(key):
        key = None
    try:
        saved = _save(request, scope, pupil_key, checked, key)
    except plans.PlanChanged:
        return _page(
            request,
            scope,
            page,
            agree_values=agree_values,
            agree_errors={"agreed_with": CHANGED},
            status=409,
        )
    if saved is not None:
        audit(
            request,
            scope,
            PlanAgreed(
                pupil_key=pupil_key,
                plan_id=saved.plan_id,
                version=saved.version,
                agreed_with=str(checked.values["agreed_with"]),
            ),
        )
    return RedirectResponse(f"/pupils/{pupil_key}/plan?saved=agreed#plan-status", status_code=303)
