"""The staff pages. Each route asks the policy (through ``deps``), calls a view service
with the user's scope, records what was seen in the audit log and renders a template."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered.access.audit import Changed, Exported, ViewedPage, ViewedPupil
from empowered.access.policy import (
    Permission,
    Scope,
    has,
    may_agree_action,
    may_contribute,
    may_see_section,
)
from empowered.access.sections import MEASURE_AREA, Section
from empowered.analytics.wording import GLOSSARY
from empowered.identity import identity_reader
from empowered.schools import has_school
from empowered.views import OutOfScope, queries
from empowered.views.cache import Recent, build_id
from empowered.views.contributions import AREA_WORDS, pupil_contributions
from empowered.views.home import attention
from empowered.views.home_children import CHILDREN_PER_PAGE, described, home_children
from empowered.views.home_visits import mark_visit
from empowered.views.provision import provision_page
from empowered.views.pupil import pupil_charts, pupil_picture, shown_sections
from empowered.views.pupil_note import MAX_LENGTH, NoteRefused, complexity, latest_note, save_note
from empowered.views.register import RegisterFilters, register_page, register_xlsx
from empowered.views.school_words import need_choices, need_filter, year_code, year_groups
from empowered.web import admin_backups
from empowered.web import concerns as concern_pages
from empowered.web.actions import MY_ACTIONS_ON_HOME, my_actions
from empowered.web.deps import (
    CheckedForm,
    CurrentScope,
    Forbidden,
    check_pupil,
    needs,
    pupil_scope,
)
from empowered.web.documents import pupil_offers, school_offers
from empowered.web.import_runs import settings_of
from empowered.web.pupil_triggers import trigger_section
from empowered.web.recorder import recorder
from empowered.web.render import (
    HOME,
    PROVISION,
    REGISTER,
    audit,
    paginate,
    render,
)
from empowered.web.school_pages import home_schools

router = APIRouter()
REGISTER_PAGE_SIZE = 200
WORKBOOKS_KEPT = 16  # register workbooks kept in memory (the latest build's, per scope)


@router.get("/", response_class=HTMLResponse, response_model=None)
def home(
    request: Request,
    scope: Annotated[Scope, Depends(needs(*HOME))],
    show: str = "",
) -> HTMLResponse | RedirectResponse:
    with request.app.state.warehouse.reading() as con:
        first_run = not has_school(con)
    if first_run:
        # A new warehouse: the first step is setting up the school, which the trust
        # administrator does (the Schools page); everyone else is told who to ask.
        if has(scope, Permission.ADMIN_USERS):
            return RedirectResponse("/admin/schools", status_code=303)
        message = (
            "No school is set up in EmpowerED+ yet. Your trust administrator sets up the "
            "school and imports its files; this page then lists what needs attention."
        )
        return render(
            request, scope, "message.html", {"title": "Not set up yet", "message": message}
        )
    audit(request, scope, ViewedPage(page="/"))
    # The previous visit, for "New since your last visit" (written with the audit entry's
    # queue; UI state about the account, see views.home_visits).
    now = datetime.now(UTC).replace(tzinfo=None)
    since = recorder(request.app).write(lambda con: mark_visit(con, scope.user.user_id, now))
    views = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        # Trust-wide roles get the schools side by side instead of every pupil's items
        # (a school's name leads to its children): school_pages.home_schools.
        schools = home_schools(request, scope, con)
        items = (
            []
            if schools is not None
            else attention(con, scope=views, cache=request.app.state.cache)
        )
        found = home_children(items, role=scope.user.role.value, since=since, show=show)
        # One card per child, a page at a time; facts and names for the page shown only.
        shown, pager = paginate(request, found.children, CHILDREN_PER_PAGE)
        children = described(con, views, shown)
    safeguarding = concern_pages.home_sections(request, scope)
    backup_card = admin_backups.home_warning(request, scope)  # the trust admin's alone
    mine = my_actions(request, scope)  # "Your actions": until each is done or cancelled
    return render(
        request,
        scope,
        "home.html",
        {
            "title": "What needs attention",
            "home": found,
            "children": children,
            "pager": pager,
            "here": "/",
            "schools_side_by_side": schools,
            "my_actions": None if mine is None else mine[:MY_ACTIONS_ON_HOME],
            "more_actions": 0 if mine is None else max(0, len(mine) - MY_ACTIONS_ON_HOME),
            **safeguarding,
            **backup_card,
        },
    )


@router.get("/pupils/{pupil_key}", response_class=HTMLResponse)
def pupil(
    request: Request,
    pupil_key: str,
    scope: Annotated[Scope, Depends(needs(Permission.VIEW_PUPIL))],
) -> HTMLResponse:
    return pupil_page(request, scope, pupil_key)


@router.post("/pupils/{pupil_key}/note", response_class=HTMLResponse)
def pupil_note(
    request: Request,
    pupil_key: str,
    scope: Annotated[Scope, Depends(needs(Permission.WRITE_PUPIL_NOTE))],
    form: CheckedForm,
) -> Response:
    check_pupil(scope, pupil_key, request.url.path)
    text = str(form.get("note") or "")
    try:
        with request.app.state.warehouse.recording() as con:
            note = save_note(con, pupil_key, text, user_id=scope.user.user_id)
    except NoteRefused as err:
        return pupil_page(request, scope, pupil_key, note_error=str(err), draft=text, status=400)
    audit(
        request, scope, Changed(what="pupil_note", pupil_key=pupil_key, detail={"chars": len(note)})
    )
    return RedirectResponse(f"/pupils/{pupil_key}#note", status_code=303)


def pupil_page(
    request: Request,
    scope: Scope,
    pupil_key: str,
    *,
    note_error: str | None = None,
    draft: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    check_pupil(scope, pupil_key, request.url.path)
    ps = pupil_scope(scope)
    try:
        with request.app.state.warehouse.reading() as con:
            picture = pupil_picture(con, pupil_key, scope=ps, cache=request.app.state.cache)
            note = latest_note(con, pupil_key, scope=ps)
            contributions = pupil_contributions(
                con,
                pupil_key,
                scope=ps,
                reader=identity_reader(ps, settings_of(request.app).keys())
                if ps.identified
                else None,
            )
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="pupil"))
    title = picture.identity.name if picture.identity else f"Pupil {pupil_key}"
    # Each section is shown only if the policy allows it; the view service has already
    # left out the data of sections and areas the user may not see.
    show = shown_sections(ps, picture)
    timeline = list(picture.timeline)
    return render(
        request,
        scope,
        "pupil.html",
        {
            "title": title,
            "p": picture,
            "charts": pupil_charts(picture),
            "show": show,
            "timeline": timeline,
            "areas_of_measures": MEASURE_AREA,
            "note": note,
            "complexity": complexity(picture),
            "can_write_note": has(scope, Permission.WRITE_PUPIL_NOTE),
            "can_agree_action": may_agree_action(scope, picture.school_urn, pupil_key),
            "can_write_plans": has(scope, Permission.WRITE_PLANS),
            # Reviews (with the parents' words) stay in the register area.
            "show_reviews": may_see_section(scope, Section.REVIEWS_HELD),
            "note_error": note_error,
            "draft": draft,
            "note_max": MAX_LENGTH,
            # Notes from visiting professionals, each with its provenance (issue 13, item 6).
            "contributions": contributions,
            "show_contributions": ps.shows(Section.PUPIL_CONTRIBUTIONS),
            "can_contribute": may_contribute(scope, pupil_key),
            "contributed": request.query_params.get("contributed") == "1",
            "area_words": AREA_WORDS,
            # Safeguarding: the way to the concern form and to the DSL's chronology.
            "record_concern": may_see_section(scope, Section.PUPIL_RECORD_CONCERN),
            "chronology": may_see_section(scope, Section.PUPIL_CHRONOLOGY),
            # The child's triggers, decisions and agreed actions (issue 15, item 2).
            "triggers": trigger_section(request, scope, pupil_key, picture.school_urn),
            # The documents about this child the policy lets this user make (issue 16).
            "documents": pupil_offers(scope, picture.school_urn, pupil_key),
        },
        status,
    )


FilterParam = Annotated[str | None, Query()]


def register_filters(
    need: FilterParam = None,
    provision: FilterParam = None,
    year: FilterParam = None,
    pp: FilterParam = None,
    eal: FilterParam = None,
    attendance_below: FilterParam = None,
) -> RegisterFilters:
    """The register page's filters from its query string; a bad number is ignored."""

    def flag(v: str | None) -> bool | None:
        return None if v in (None, "") else v == "yes"

    below = None
    if attendance_below:
        try:
            below = float(attendance_below) / 100
        except ValueError:
            below = None
    need_code, area = need_filter(need)  # a choice or typed words, in any case
    return RegisterFilters(
        need=need_code,
        broad_area=area,
        provision_code=provision or None,
        year_group=year_code(year),  # "Reception", "reception", "R", "Year 3", "3"
        pupil_premium=flag(pp),
        eal=flag(eal),
        attendance_below=below,
    )


Filters = Annotated[RegisterFilters, Depends(register_filters)]


@router.get("/register", response_class=HTMLResponse)
def register(
    request: Request,
    scope: Annotated[Scope, Depends(needs(*REGISTER))],
    filters: Filters,
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        page = register_page(
            con, scope=pupil_scope(scope), filters=filters, cache=request.app.state.cache
        )
        # The review packs on offer: one per school in scope the policy allows, the trust's.
        schools = queries.rows(con, "scope_schools", scope=pupil_scope(scope))
        packs = school_offers(scope, (str(s["school_urn"]) for s in schools))
    audit(request, scope, ViewedPage(page="/register"))
    rows, pager = paginate(request, page.pupils, REGISTER_PAGE_SIZE)
    return render(
        request,
        scope,
        "register.html",
        {
            "title": "SEND register",
            "r": page,
            "rows": rows,
            "pager": pager,
            "query": pager.query,
            "need_choices": need_choices(),
            "year_choices": year_groups(),
            "can_export": has(scope, Permission.EXPORT),
            "can_agree_actions": has(scope, Permission.AGREE_ACTIONS),
            # The termly review packs this user may make (issue 16).
            "documents": packs,
        },
    )


@router.get("/register.xlsx")
def register_export(
    request: Request,
    scope: Annotated[Scope, Depends(needs(Permission.EXPORT))],
    filters: Filters,
    share: Annotated[str | None, Query()] = None,
) -> Response:
    if not has(scope, Permission.VIEW_REGISTER):
        raise Forbidden(scope.user, request.url.path, "needs view_register")
    # ``?share=yes``: a copy to send outside the school (to the trust, the local
    # authority): the policy then suppresses its counts whoever downloads it.
    leaves_school = share == "yes"
    ps = pupil_scope(scope, leaves_school=leaves_school)
    with request.app.state.warehouse.reading() as con:
        # The same scope and filters on the same build give the same workbook: the whole
        # trust's (3,000 rows, 36,000 cells) is written once per build, not per download.
        key = (build_id(con), ps, filters)
        made = _workbooks(request).get(key)
        if made is None:
            page = register_page(con, scope=ps, filters=filters, cache=request.app.state.cache)
            made = _workbooks(request).put(key, (register_xlsx(page), len(page.pupils)))
    body, rows = made
    audit(request, scope, Exported(page="/register", what="register.xlsx", rows=rows))
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="send-register-{date.today()}.xlsx"'
        },
    )


def _workbooks(request: Request) -> Recent[tuple[bytes, int]]:
    found: Recent[tuple[bytes, int]] | None = getattr(request.app.state, "workbooks", None)
    if found is None:
        found = request.app.state.workbooks = Recent(WORKBOOKS_KEPT)
    return found


@router.get("/provision", response_class=HTMLResponse)
def provision(
    request: Request, scope: Annotated[Scope, Depends(needs(*PROVISION))]
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        page = provision_page(con, scope=pupil_scope(scope), cache=request.app.state.cache)
    audit(request, scope, ViewedPage(page="/provision"))
    return render(request, scope, "provision.html", {"title": "Provision map", "pm": page})


@router.get("/glossary", response_class=HTMLResponse)
def glossary(request: Request, scope: CurrentScope) -> HTMLResponse:
    terms = sorted(GLOSSARY.items(), key=lambda kv: kv[0].lower())
    return render(request, scope, "glossary.html", {"title": "Glossary", "terms": terms})
