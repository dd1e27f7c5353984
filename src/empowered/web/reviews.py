"""Plan reviews: the reviews held of a pupil's plans, the review form, an EHC plan's
annual review steps.

``GET /pupils/{key}/reviews`` lists the reviews held, newest first, each in full, and an
EHC plan's statutory calendar; ``GET /pupils/{key}/reviews/new`` is the review form of the
pupil's running plan (imported or written in the app); ``POST /pupils/{key}/reviews``
checks it with staging's rules, lands the meeting and each outcome's progress in one
transaction (empowered.reviews), builds what it touched and audits ``ReviewHeld``;
``POST /pupils/{key}/reviews/steps`` records a step of the annual review as done.
Who may do what is the policy's: reading needs the register area, holding a review
``HOLD_REVIEWS`` (the SENCo).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered import reviews as rv
from empowered.access.audit import EhcReviewStepRecorded, ReviewHeld, ViewedPupil
from empowered.access.policy import Permission, Scope, has
from empowered.identity import identity_reader
from empowered.sources.capture import KEY_SHAPE, new_key, staff_ref
from empowered.views import OutOfScope, PupilScope, queries
from empowered.views.reviews import ehc_steps, plan_to_review, reviews_held
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, check_pupil, needs, pupil_scope
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render

router = APIRouter()

Reader = Annotated[Scope, Depends(needs(Permission.VIEW_REGISTER))]
Holder = Annotated[Scope, Depends(needs(Permission.HOLD_REVIEWS))]


def _name(con: Any, pupil_key: str, scope: PupilScope) -> str:
    if not scope.identified:
        return f"Pupil {pupil_key}"
    found = queries.rows(con, "home_pupil_names", pupil_keys=[pupil_key])
    return identity_reader(scope).name(found[0]) if found else f"Pupil {pupil_key}"


def _on_roll(con: Any, pupil_key: str, scope: PupilScope) -> bool:
    return bool(queries.rows(con, "review_pupil_on_roll", scope=scope, pupil_key=pupil_key))


def _staff_names(con: Any) -> dict[str, str]:
    """Account references (``app-user-N``) to usernames: records never hold a name."""
    from empowered.access.users import list_users

    return {staff_ref(u.user_id): u.username for u in list_users(con)}


def _checked_pupil(request: Request, scope: Scope, pupil_key: str) -> PupilScope:
    check_pupil(scope, pupil_key, request.url.path)
    ps = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        if not _on_roll(con, pupil_key, ps):
            raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key)
    return ps


@router.get("/pupils/{pupil_key}/reviews", response_class=HTMLResponse)
def reviews_page(
    request: Request, pupil_key: str, scope: Reader, saved: str | None = None
) -> HTMLResponse:
    ps = _checked_pupil(request, scope, pupil_key)
    try:
        with request.app.state.warehouse.reading() as con:
            name = _name(con, pupil_key, ps)
            held = reviews_held(con, pupil_key, scope=ps)
            plan = plan_to_review(con, pupil_key, scope=ps)
            steps = ehc_steps(con, pupil_key, scope=ps)
            staff = _staff_names(con)
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="reviews"))
    return render(
        request,
        scope,
        "reviews.html",
        _page_context(request, scope, pupil_key, name, held, plan, steps, staff, saved=saved),
    )


def _page_context(
    request: Request,
    scope: Scope,
    pupil_key: str,
    name: str,
    held: Any,
    plan: rv.PlanToReview | None,
    steps: Any,
    staff: dict[str, str],
    *,
    saved: str | None = None,
    step_errors: dict[str, str] | None = None,
    step_values: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "title": f"Plan reviews: {name}",
        "pupil_key": pupil_key,
        "name": name,
        "held": held,
        "plan": plan,
        "steps": steps,
        "staff": staff,
        "saved": saved,
        "can_hold": has(scope, Permission.HOLD_REVIEWS),
        "step_choices": rv.STEPS,
        "step_errors": step_errors or {},
        "step_values": step_values or {},
        "today": date.today().isoformat(),
        "today_date": date.today(),
    }


def _form_page(
    request: Request,
    scope: Scope,
    pupil_key: str,
    ps: PupilScope,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        name = _name(con, pupil_key, ps)
        plan = plan_to_review(con, pupil_key, scope=ps)
    key = (values or {}).get("form_key") or ""
    return render(
        request,
        scope,
        "review_form.html",
        {
            "title": f"Hold a review: {name}",
            "pupil_key": pupil_key,
            "name": name,
            "plan": plan,
            "ratings": rv.RATINGS,
            "values": values or {},
            "errors": errors or {},
            "form_key": key if KEY_SHAPE.match(key) else new_key(),
            "today": date.today().isoformat(),
            "text_max": rv.TEXT_MAX,
            "note_max": rv.NOTE_MAX,
        },
        status,
    )


@router.get("/pupils/{pupil_key}/reviews/new", response_class=HTMLResponse)
def review_form(request: Request, pupil_key: str, scope: Holder) -> HTMLResponse:
    ps = _checked_pupil(request, scope, pupil_key)
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="review form"))
    return _form_page(request, scope, pupil_key, ps)


@router.post("/pupils/{pupil_key}/reviews", response_class=HTMLResponse)
def review_save(request: Request, pupil_key: str, scope: Holder, form: CheckedForm) -> Response:
    ps = _checked_pupil(request, scope, pupil_key)
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    with request.app.state.warehouse.reading() as con:
        plan = plan_to_review(con, pupil_key, scope=ps)
    if plan is None:
        return _form_page(request, scope, pupil_key, ps, values=posted, status=400)
    now = datetime.now()
    checked = rv.check_review(plan, posted, today=now.date())
    key = posted.get("form_key") or None
    if key is not None and not KEY_SHAPE.match(key):
        checked.errors["form_key"] = "This form could not be read: reload the page and try again."
    if not checked.ok:
        return _form_page(
            request, scope, pupil_key, ps, values=posted, errors=checked.errors, status=422
        )
    with request.app.state.warehouse.writing() as con:
        landed = rv.land_review(
            con,
            plan,
            checked,
            held_by=staff_ref(scope.user.user_id),
            keys=settings_of(request.app).keys(),
            now=now,
            form_key=key,
        )
        if landed is not None:
            rv.build_after(con, landed.touched)
    if landed is None:  # a retried post: saved the first time
        return RedirectResponse(f"/pupils/{pupil_key}/reviews?saved=review", status_code=303)
    warming.after_build(request.app)
    audit(
        request,
        scope,
        ReviewHeld(
            pupil_key=pupil_key,
            plan_id=plan.plan_id,
            meeting_id=landed.meeting_id,
            batch_id=landed.batch_id,
            outcomes=landed.outcomes,
        ),
    )
    return RedirectResponse(f"/pupils/{pupil_key}/reviews?saved=review", status_code=303)


@router.post("/pupils/{pupil_key}/reviews/steps", response_class=HTMLResponse)
def step_save(request: Request, pupil_key: str, scope: Holder, form: CheckedForm) -> Response:
    ps = _checked_pupil(request, scope, pupil_key)
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    now = datetime.now()
    with request.app.state.warehouse.reading() as con:
        plan = plan_to_review(con, pupil_key, scope=ps)
    checked = (
        rv.check_step(plan, posted, today=now.date())
        if plan is not None
        else rv.CheckedStep(errors={"step": "This pupil has no running plan."})
    )
    if plan is None or not checked.ok:
        with request.app.state.warehouse.reading() as con:
            context = _page_context(
                request,
                scope,
                pupil_key,
                _name(con, pupil_key, ps),
                reviews_held(con, pupil_key, scope=ps),
                plan,
                ehc_steps(con, pupil_key, scope=ps),
                _staff_names(con),
                step_errors=checked.errors,
                step_values=posted,
            )
        return render(request, scope, "reviews.html", context, 422)
    with request.app.state.warehouse.writing() as con:
        landed = rv.land_step(
            con,
            plan,
            checked,
            recorded_by=staff_ref(scope.user.user_id),
            keys=settings_of(request.app).keys(),
            now=now,
        )
        rv.build_after(con, landed.touched)
    warming.after_build(request.app)
    assert checked.step is not None and checked.done_on is not None
    audit(
        request,
        scope,
        EhcReviewStepRecorded(
            pupil_key=pupil_key,
            plan_id=plan.plan_id,
            step=checked.step,
            done_on=checked.done_on.isoformat(),
            batch_id=landed.batch_id,
        ),
    )
    return RedirectResponse(f"/pupils/{pupil_key}/reviews?saved=step#calendar", status_code=303)
