"""Route protection as FastAPI dependencies: who is signed in, what they may see.

Every decision is delegated to ``empowered.access.policy``; this module only asks it and
turns a refusal into an audited 403 page. Pupil pages answer "not found" for a pupil the
user may not see and for one that does not exist alike, so changing an id in a URL
reveals nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from empowered.access.audit import AccessRefused, record
from empowered.access.policy import (
    SCOPE_TABLES,
    Permission,
    Scope,
    can_see_pupil,
    has,
    must_suppress,
    visible_areas,
    visible_sections,
)
from empowered.access.users import User
from empowered.views import PupilScope
from empowered.web.sessions import csrf_matches


class NotSignedIn(Exception):
    """Raised by the current-user dependency; answered with a redirect to sign in."""


# Pages a user whose password an administrator reset may still open: where they choose
# their own (the sign-out form posts to the app itself, not through here).
_WHILE_MUST_CHANGE = frozenset({"/account", "/account/password"})


def current_user(request: Request) -> User:
    """The signed-in user, or a redirect to sign in (expired sessions included).

    ``session_of`` has checked the session with the server (``access.sessions``: unknown,
    revoked, idle or too old are refused there). A session issued before the account's
    password last changed is refused here as well, a second line behind the revocation
    that a password change does. Both times are compared in UTC (``password_changed_at``
    comes back timezone-aware; ``issued`` is the server's, as a Unix time). An account
    whose password was reset is sent to ``/account`` until its holder chooses their own."""
    session = request.app.state.session_of(request)
    if session is None or not session.user_id:
        raise NotSignedIn
    store = request.app.state.warehouse
    user: User | None = request.app.state.auth_cache.user(store.reading, session.user_id)
    if user is None or user.disabled:
        raise NotSignedIn
    changed = user.password_changed_at
    if changed is not None and session.issued < changed.timestamp():
        raise NotSignedIn
    if user.must_change_password and request.url.path not in _WHILE_MUST_CHANGE:
        raise HTTPException(status_code=303, headers={"Location": "/account"})
    return user


class BadCsrf(Exception):
    """A form came back without this session's token: refused, nothing changed."""


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else ``BadCsrf``).

    Every state-changing route takes its form through this dependency."""
    form = await request.form()
    if not csrf_matches(request.app.state.session_of(request), str(form.get("csrf") or "")):
        raise BadCsrf
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


class Forbidden(Exception):
    """A request outside the user's role or scope: answered with an audited refusal."""

    def __init__(
        self,
        user: User,
        page: str,
        reason: str,
        pupil_key: str | None = None,
        *,
        not_found: bool = False,
    ) -> None:
        super().__init__(reason)
        self.user = user
        self.page = page
        self.reason = reason
        self.pupil_key = pupil_key
        # Answer "not found" (as for a pupil) when saying "forbidden" would confirm that a
        # record the user may not see exists: another school's import, trigger...
        self.not_found = not_found or pupil_key is not None


CurrentUser = Annotated[User, Depends(current_user)]


def current_scope(request: Request) -> Scope:
    """``policy.scope_for`` of the user today, as last worked out for the same account,
    day and marts (``access.auth_cache``). The user is looked up here, not as a dependency
    of its own: each synchronous dependency is a trip to a worker thread and back."""
    user = current_user(request)
    store = request.app.state.warehouse
    scope: Scope = request.app.state.auth_cache.scope(
        store.reading, user, today=date.today(), data_version=store.version_of(*SCOPE_TABLES)
    )
    return scope


CurrentScope = Annotated[Scope, Depends(current_scope)]


def pupil_scope(scope: Scope, *, leaves_school: bool = False) -> PupilScope:
    """The scope the view services filter by: pupils, and the sections, areas and
    suppression the policy decided (``leaves_school`` for a document that leaves it)."""
    return PupilScope(
        schools=scope.schools,
        pupils=scope.pupils,
        # A document that leaves the school carries counts only, never names.
        identified=scope.identified and not leaves_school,
        sections=frozenset(str(s) for s in visible_sections(scope)),
        areas=visible_areas(scope),
        suppress=must_suppress(scope, leaves_school=leaves_school),
    )


def needs(*permissions: Permission) -> Callable[..., Awaitable[Scope]]:
    """A dependency that lets the request through only with one of ``permissions``.

    Asynchronous because it does no I/O (the policy's answer from the scope in hand): a
    synchronous dependency is a trip to a worker thread and back on every request."""

    async def check(request: Request, scope: CurrentScope) -> Scope:
        if not any(has(scope, p) for p in permissions):
            wanted = " or ".join(p.value for p in permissions)
            raise Forbidden(scope.user, request.url.path, f"needs {wanted}")
        return scope

    return check


def record_refusal(request: Request, exc: Forbidden) -> None:
    ip = request.client.host if request.client else None
    with request.app.state.warehouse.recording() as con:
        record(
            con,
            AccessRefused(page=exc.page, pupil_key=exc.pupil_key, reason=exc.reason),
            user=exc.user,
            ip=ip,
        )


def check_pupil(scope: Scope, pupil_key: str, page: str) -> None:
    if not can_see_pupil(scope, pupil_key):
        raise Forbidden(scope.user, page, "pupil outside the user's scope", pupil_key)
