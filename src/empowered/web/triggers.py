"""Triggers and early signs: the review queue; acknowledge, add an action, record a decision.

Adding an action agrees a real one (``web.actions.agree_action``, the actions entity):
linked to the trigger and the pupil, with an owner from the school's staff and a due
date, so it shows in its owner's actions and on the pupil page, where it is marked done.
The trigger's review log notes it too (its status and history come from the log).

Viewing needs VIEW_TRIGGERS (trust admin, SENCo, DSL); acting needs ACT_ON_TRIGGERS (the
DSL): anyone else posting is refused with an audited 403 by ``needs``. A trigger id that is
not in the user's scope (another school's, or none at all) is answered "not found" and
audited, the same either way. With HTMX a review swaps only its card; without JavaScript
the form posts, then redirects back to the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from empowered.access.audit import Changed, ViewedPage, ViewedPupil
from empowered.access.policy import Permission, Scope, can_see_pupil, has
from empowered.action_words import KINDS as ACTION_KINDS
from empowered.actions import new_action_id
from empowered.sources.capture import staff_ref
from empowered.views.trigger_queue import (
    SORTS,
    QueueCounts,
    child_queue,
    open_cards_of,
    school_counts,
)
from empowered.views.triggers import (
    ACKNOWLEDGED,
    ACTION_ADDED,
    DECISION_RECORDED,
    DECISIONS,
    STATUS_LABELS,
    ReviewError,
    ReviewInput,
    TriggerCard,
    TriggerFilters,
    add_review,
    find_card,
    parse_review,
    triggers_page,
)
from empowered.web.actions import action_owners, action_target, agree_action
from empowered.web.deps import CheckedForm, Forbidden, needs, pupil_scope
from empowered.web.render import TRIGGERS, audit, render

router = APIRouter()

ViewScope = Annotated[Scope, Depends(needs(*TRIGGERS))]
ActScope = Annotated[Scope, Depends(needs(Permission.ACT_ON_TRIGGERS))]
Param = Annotated[str | None, Query()]

# The URL word for each kind of review, and what the page says once it is done.
KINDS = {"acknowledge": ACKNOWLEDGED, "action": ACTION_ADDED, "decision": DECISION_RECORDED}
DONE = {
    ACKNOWLEDGED: "Trigger acknowledged.",
    ACTION_ADDED: "Action agreed: it is in its owner's actions and on the pupil's page.",
    DECISION_RECORDED: "Decision recorded. The trigger has left the open queue.",
}
BACK_KEYS = ("school", "status", "sort", "q", "pupil", "page")


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _back(values: dict[str, str]) -> str:
    """The queue's query string (only its own filters), to return to after a review."""
    return urlencode({k: values[k] for k in BACK_KEYS if values.get(k)})


def _context(
    scope: Scope, request: Request | None = None, school_urn: str | None = None
) -> dict[str, object]:
    can_act = has(scope, Permission.ACT_ON_TRIGGERS)
    # The card's "Agree an action" form: the school's staff to give it to (the DSL first
    # chosen), a kind, and a fresh id per form so a form posted twice is one action.
    owners = (
        list(action_owners(request, school_urn).values())
        if can_act and request is not None and school_urn
        else []
    )
    return {
        "can_act": can_act,
        "options": options,
        "hidden_inputs": _hidden_inputs_for_page(),
        "owner_choices": tuple((o.ref, f"{o.username} ({o.role})") for o in owners),
        # The "Agree an action" link (the action form checks the pupil's school again).
        "can_agree_actions": has(scope, Permission.AGREE_ACTIONS),
        "decisions": DECISIONS,
        "status_labels": STATUS_LABELS,
        "action_kinds": ACTION_KINDS,
        "me": staff_ref(scope.user.user_id),
        "new_action_id": lambda: new_action_id(date.today()),
        "today": date.today().isoformat(),
    }


# The parts of a card's forms that are the same on every card of the page: the queue by
# child shows seventy cards or so, each with three forms, and writing these out card by
# card in the template was a fifth of the page's time.
@lru_cache(maxsize=256)
def options(choices: tuple[tuple[str, str], ...], chosen: str | None) -> Markup:
    """``<option>`` elements for (value, words) pairs, ``chosen`` selected."""
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            value, Markup(" selected") if value == chosen else "", words
        )
        for value, words in choices
    )


def _hidden_inputs_for_page() -> Callable[[Sequence[tuple[str, str]], object], Markup]:
    """The queue's filters as hidden inputs (to return to after a review), and whether the
    card is shown under its child: written once per page, not card by card. Kept for one
    page only, never between requests: the filters may hold a search for a child's name."""
    written: dict[tuple[tuple[tuple[str, str], ...], bool], Markup] = {}

    def hidden_inputs(fields: Sequence[tuple[str, str]], grouped: object = False) -> Markup:
        key = (tuple(fields), bool(grouped))
        if key not in written:
            found = Markup("").join(
                Markup('<input type="hidden" name="{}" value="{}">').format(k, v) for k, v in fields
            )
            grouping = Markup('<input type="hidden" name="grouped" value="1">')
            written[key] = found + (grouping if grouped else "")
        return written[key]

    return hidden_inputs


def _not_found(request: Request, scope: Scope) -> Forbidden:
    """A trigger outside the scope and a made-up id get the same audited answer."""
    return Forbidden(
        scope.user, request.url.path, "trigger not in the user's scope", not_found=True
    )


@router.get("/triggers", response_class=HTMLResponse)
def queue(
    request: Request,
    scope: ViewScope,
    school: Param = None,
    status: Param = None,
    sort: Param = None,
    q: Param = None,
    pupil: Param = None,
    page: Param = None,
    done: Param = None,
    acknowledged: Param = None,
) -> HTMLResponse:
    if pupil and not can_see_pupil(scope, pupil):
        raise Forbidden(scope.user, request.url.path, "pupil outside the user's scope", pupil)
    filters = TriggerFilters.of(status, None, pupil)
    pscope = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        # The school choice and the early signs; its cards are not shown (one page of one).
        tp = triggers_page(
            con,
            scope=pscope,
            cache=request.app.state.cache,
            school_urn=school,
            filters=filters,
            per_page=1,
        )
        # Grouped by child, counted as the review log stands now (after any review).
        cq = (
            child_queue(
                con,
                tp.school_urn,
                scope=pscope,
                cache=request.app.state.cache,
                status=filters.status,
                sort=sort or "",
                q=(q or "") if not pupil else "",
                pupil=pupil,
                page=_page_number(page),
                cards=tp.queue,
            )
            if tp.school_urn
            else None
        )
    audit(request, scope, ViewedPage(page="/triggers"))
    if pupil:
        audit(request, scope, ViewedPupil(pupil_key=pupil, page="triggers"))
    back = _back(
        {
            "school": tp.school_urn or "",
            "status": filters.status,
            "sort": cq.sort if cq else "",
            "q": cq.q if cq else "",
            "pupil": filters.pupil or "",
            "page": str(cq.page if cq else 1),
        }
    )
    return render(
        request,
        scope,
        "triggers.html",
        {
            "title": "Triggers and early signs",
            "tp": tp,
            "cq": cq,
            "sorts": SORTS,
            "back": back,
            "back_fields": parse_qsl(back),
            "message": _bulk_message(acknowledged) or DONE.get(done or "", ""),
            **_context(scope, request, tp.school_urn),
        },
    )


def _bulk_message(acknowledged: str | None) -> str:
    """What a bulk acknowledgement did, in words (its counts come back in the URL)."""
    if acknowledged is None:
        return ""
    n = _page_number(acknowledged) if acknowledged != "0" else 0
    if n == 0:
        return "Nothing to acknowledge: the children chosen have no new triggers."
    return f"{n} trigger{'' if n == 1 else 's'} acknowledged."


@router.post("/triggers/acknowledge", response_model=None)
def acknowledge_children(request: Request, scope: ActScope, form: CheckedForm) -> Response:
    """Acknowledge every new trigger of the children ticked, in one post: one review event
    and one audit entry per trigger, exactly as the single acknowledgement writes them."""
    # "Every child on this page" takes the page's list; otherwise the children ticked.
    field = "on_page" if form.get("every") == "page" else "pupil"
    pupils = [str(p) for p in form.getlist(field) if isinstance(p, str) and p]
    for key in pupils:
        if not can_see_pupil(scope, key):
            raise Forbidden(scope.user, request.url.path, "pupil outside the user's scope", key)
    values = {
        k: str(v) for k, v in form.items() if isinstance(v, str) and k not in ("pupil", "on_page")
    }
    pscope = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        cards = open_cards_of(
            con,
            values.get("school", ""),
            pupils,
            scope=pscope,
            cache=request.app.state.cache,
        )
    entry = parse_review(ACKNOWLEDGED, {})
    user_id, username = scope.user.user_id, scope.user.username
    with request.app.state.warehouse.recording() as con:
        written = [
            c for c in cards if add_review(con, c, entry, user_id=user_id, username=username)
        ]
    for card in written:
        _audit_review(request, scope, card, ACKNOWLEDGED)
    back = _back(values)
    done = f"acknowledged={len(written)}"
    target = f"/triggers?{back}&{done}" if back else f"/triggers?{done}"
    return RedirectResponse(target + "#trigger-status", status_code=303)


def _audit_review(
    request: Request, scope: Scope, card: TriggerCard, kind: str, decision: str | None = None
) -> None:
    # Codes and ids only: the action's and the note's free text stay in the review log,
    # never in the audit log, which must not hold anything that could name a child.
    detail: dict[str, object] = {"trigger_id": card.trigger_id, "rule_id": card.item.rule_id}
    if decision:
        detail["decision"] = decision
    audit(
        request,
        scope,
        Changed(what=f"trigger {kind}", pupil_key=card.item.pupil_key, detail=detail),
    )


@router.get("/triggers/{trigger_id}", response_class=HTMLResponse)
def one(request: Request, trigger_id: str, scope: ViewScope) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        card = find_card(con, trigger_id, scope=pupil_scope(scope), cache=request.app.state.cache)
    if card is None:
        raise _not_found(request, scope)
    audit(request, scope, ViewedPupil(pupil_key=card.item.pupil_key, page="trigger"))
    return _one_page(request, scope, card)


def _one_page(
    request: Request,
    scope: Scope,
    card: TriggerCard,
    *,
    errors: dict[str, str] | None = None,
    error_kind: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        scope,
        "trigger.html",
        {
            "title": f"Trigger: {card.item.label}",
            "card": card,
            "back": _back({"school": card.item.school_urn}),
            "back_fields": parse_qsl(_back({"school": card.item.school_urn})),
            "errors": errors or {},
            "error_kind": error_kind,
            "values": values or {},
            "message": "",
            **_context(scope, request, card.item.school_urn),
        },
        status=status,
    )


@router.post("/triggers/{trigger_id}/{action}", response_model=None)
def review(
    request: Request, trigger_id: str, action: str, scope: ActScope, form: CheckedForm
) -> Response:
    kind = KINDS.get(action)
    pscope = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        card = (
            find_card(con, trigger_id, scope=pscope, cache=request.app.state.cache)
            if kind
            else None
        )
    if card is None or kind is None:
        raise _not_found(request, scope)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    htmx = request.headers.get("HX-Request") == "true"
    try:
        if kind == ACTION_ADDED:
            entry, written, message = _agree_on_trigger(request, scope, card, values)
        else:
            entry = parse_review(kind, values)
    except ReviewError as err:
        if htmx:
            return _card(request, scope, card, values, errors=err.errors, error_kind=kind)
        return _one_page(
            request, scope, card, errors=err.errors, error_kind=kind, values=values, status=400
        )
    if kind != ACTION_ADDED:
        with request.app.state.warehouse.recording() as con:
            written = add_review(
                con, card, entry, user_id=scope.user.user_id, username=scope.user.username
            )
        message = DONE[kind] if written else "This trigger was already acknowledged."
    if written:
        _audit_review(request, scope, card, kind, entry.decision)
    if htmx:
        with request.app.state.warehouse.reading() as con:
            card = find_card(con, trigger_id, scope=pscope, cache=request.app.state.cache) or card
            # The counts at the top of the queue, redrawn with the card (never stale).
            counts = school_counts(
                con, card.item.school_urn, scope=pscope, cache=request.app.state.cache
            )
        return _card(request, scope, card, values, message=message, counts=counts)
    back = _back(values)
    target = f"/triggers?{back}&done={kind}" if back else f"/triggers?done={kind}"
    return RedirectResponse(f"{target}#{trigger_id}", status_code=303)


def _agree_on_trigger(
    request: Request, scope: Scope, card: TriggerCard, values: dict[str, str]
) -> tuple[ReviewInput, bool, str]:
    """Agree the card's action as a real one (raise :class:`ReviewError` with the form's
    problems), and note it in the trigger's review log: (the log's entry, whether it was
    written, what the page says)."""
    target = action_target(request, scope, card.item.pupil_key)
    owners = action_owners(request, target.school_urn, target.pupil_key)
    posted = {**values, "source": "trigger", "ref": card.trigger_id}
    agreed = agree_action(request, scope, target, posted, owners)
    if agreed.errors:
        raise ReviewError(agreed.errors)
    owner = owners[posted["owner"].strip()]
    entry = ReviewInput(
        ACTION_ADDED,
        action_text=posted["description"].strip(),
        action_owner=owner.username,
        action_due=date.fromisoformat(posted["due_date"].strip()),
    )
    if not agreed.new:  # the same form posted twice: one action, one entry
        return entry, False, DONE[ACTION_ADDED]
    with request.app.state.warehouse.recording() as con:
        add_review(con, card, entry, user_id=scope.user.user_id, username=scope.user.username)
    if not agreed.built:
        return (
            entry,
            True,
            (
                "The action was saved, but rebuilding the warehouse found a problem, so it is "
                "not shown in the actions yet: tell your data lead (the command empowered build "
                "shows it)."
            ),
        )
    return entry, True, DONE[ACTION_ADDED]


def _card(
    request: Request,
    scope: Scope,
    card: TriggerCard,
    values: dict[str, str],
    *,
    message: str = "",
    errors: dict[str, str] | None = None,
    error_kind: str | None = None,
    counts: QueueCounts | None = None,
) -> HTMLResponse:
    """Just the card (and the page's status line and counts, out of band) for an HTMX
    swap."""
    return render(
        request,
        scope,
        "_trigger_swap.html",
        {
            "card": card,
            "back": _back(values),
            "back_fields": parse_qsl(_back(values)),
            "message": message,
            "errors": errors or {},
            "error_kind": error_kind,
            "values": values if errors else {},
            # From the queue by child: drawn as there, with the queue's counts redrawn.
            "grouped": values.get("grouped") == "1",
            "hl": 4 if values.get("grouped") == "1" else 3,
            "counts": counts if values.get("grouped") == "1" else None,
            **_context(scope, request, card.item.school_urn),
        },
    )
