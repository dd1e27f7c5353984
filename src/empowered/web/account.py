"""Your account: change your password, set up or turn off a second factor (TOTP).

Every signed-in user may open it (no permission beyond being signed in). Changing the
password ends every session of the account on the server (``users.change_password`` revokes
them in ``app.sessions``) and issues this browser a new one, so its holder stays signed in
here and nowhere else.
"""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered.access.audit import UserChanged
from empowered.access.passwords import MIN_LENGTH
from empowered.access.policy import Scope
from empowered.access.users import (
    AccessError,
    change_password,
    check_new_password,
    check_password,
    confirm_totp,
    get_user,
    pending_totp,
    reset_totp,
    start_totp,
    totp_uri,
)
from empowered.web.deps import CheckedForm, CurrentScope
from empowered.web.render import audit, render

router = APIRouter()

DONE = {
    "password": "Your password has been changed. Any other place you were signed in has "
    "been signed out.",
    "totp_on": "Your second factor is on: from now on signing in asks for a code.",
    "totp_off": "Your second factor is off: signing in asks only for your password.",
}


def qr_svg(uri: str) -> str:
    """The provisioning address as an inline SVG QR code (no image request, no script)."""
    code = segno.make(uri, error="m")
    svg: str = code.svg_inline(
        scale=5, title="QR code for your authenticator app", dark="#000", light="#fff"
    )
    return svg


def _page(
    request: Request, scope: Scope, extra: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        user = get_user(con, scope.user.user_id)
        secret = pending_totp(con, scope.user.user_id)
    assert user is not None
    setup = None
    if secret and not user.totp_enabled:
        setup = {"svg": qr_svg(totp_uri(user, secret)), "key": secret}
    context: dict[str, Any] = {
        "title": "Your account",
        "account": user,
        "setup": setup,
        "min_length": MIN_LENGTH,
        "errors": {},
        "done": DONE.get(str(request.query_params.get("done", ""))),
        **(extra or {}),
    }
    return render(request, scope, "account.html", context, status)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, scope: CurrentScope) -> HTMLResponse:
    return _page(request, scope)


def _reissue(request: Request, response: Response, user_id: int) -> None:
    """A new session for this browser, issued after the change (which ended every session
    of the account, this one too), so its holder stays signed in here only."""
    request.app.state.issue_session(response, user_id)


@router.post("/account/password", response_class=HTMLResponse)
def password(request: Request, scope: CurrentScope, form: CheckedForm) -> Response:
    current = str(form.get("current") or "")
    new = str(form.get("new") or "")
    repeated = str(form.get("repeat") or "")
    errors: dict[str, str] = {}
    user = scope.user
    with request.app.state.warehouse.recording() as con:
        if not check_password(con, user.user_id, current):
            errors["current"] = "The current password is not right."
        elif current == new:
            errors["new"] = "Choose a new password that differs from the current one."
        else:
            weak = check_new_password(user, new, repeated)
            if weak:
                errors["repeat" if new != repeated else "new"] = weak
        if not errors:
            try:
                change_password(con, user.user_id, current, new)
            except AccessError as err:
                errors["new"] = str(err)
    if errors:
        return _page(request, scope, {"errors": errors}, status=400)
    audit(request, scope, UserChanged(target_user_id=user.user_id, what="password changed"))
    response = RedirectResponse("/account?done=password", status_code=303)
    _reissue(request, response, user.user_id)
    return response


@router.post("/account/totp/start", response_class=HTMLResponse)
def totp_start(request: Request, scope: CurrentScope, form: CheckedForm) -> Response:
    with request.app.state.warehouse.recording() as con:
        start_totp(con, scope.user.user_id)
    return RedirectResponse("/account#second-factor", status_code=303)


@router.post("/account/totp/confirm", response_class=HTMLResponse)
def totp_confirm(request: Request, scope: CurrentScope, form: CheckedForm) -> Response:
    code = str(form.get("code") or "")
    with request.app.state.warehouse.recording() as con:
        ok = confirm_totp(con, scope.user.user_id, code)
    if not ok:
        error = "That code is not right or has expired: enter the 6 digits the app shows now."
        return _page(request, scope, {"errors": {"code": error}}, status=400)
    audit(request, scope, UserChanged(target_user_id=scope.user.user_id, what="second factor on"))
    return RedirectResponse("/account?done=totp_on", status_code=303)


@router.post("/account/totp/off", response_class=HTMLResponse)
def totp_off(request: Request, scope: CurrentScope, form: CheckedForm) -> Response:
    current = str(form.get("current") or "")
    with request.app.state.warehouse.recording() as con:
        ok = check_password(con, scope.user.user_id, current)
        if ok:
            reset_totp(con, scope.user.user_id)
    if not ok:
        errors = {"totp_current": "The current password is not right."}
        return _page(request, scope, {"errors": errors}, status=400)
    audit(request, scope, UserChanged(target_user_id=scope.user.user_id, what="second factor off"))
    return RedirectResponse("/account?done=totp_off", status_code=303)
