"""What every page shares: the navigation a user may open, rendering a template with the
user and their navigation, and writing what was seen to the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from empowered.access.audit import AuditEvent, record
from empowered.access.policy import Permission, Scope, has

P = Permission
# Pages a trust analyst opens with pseudonymised, suppressed figures (VIEW_AGGREGATES) as
# well as the staff who see pupils; the view services do the suppressing.
HOME = (P.VIEW_HOME, P.VIEW_AGGREGATES)
REGISTER = (P.VIEW_REGISTER, P.VIEW_AGGREGATES)
PROVISION = (P.VIEW_PROVISION, P.VIEW_AGGREGATES)
STRATEGIES = (P.VIEW_STRATEGIES, P.VIEW_AGGREGATES)
TRIGGERS = (P.VIEW_TRIGGERS,)
CAPTURE = (P.CAPTURE,)
IMPORT = (P.IMPORT,)
ADMIN = (P.ADMIN_USERS,)
AUDIT = (P.VIEW_AUDIT,)
# (path, label, any of these permissions): the navigation offers only what may be opened.
NAV: tuple[tuple[str, str, tuple[Permission, ...]], ...] = (
    ("/", "What needs attention", HOME),
    ("/capture", "Capture", CAPTURE),
    ("/register", "SEND register", REGISTER),
    ("/provision", "Provision map", PROVISION),
    ("/strategies", "Strategies and patterns", STRATEGIES),
    ("/triggers", "Triggers and early signs", TRIGGERS),
    ("/imports", "Import", IMPORT),
    ("/admin", "Admin", ADMIN),
    ("/audit", "Audit log", AUDIT),
    ("/account", "Your account", ()),
    ("/glossary", "Glossary", ()),
)


def nav_for(scope: Scope, path: str) -> list[dict[str, Any]]:
    return [
        {"href": href, "label": label, "current": href == path}
        for href, label, permissions in NAV
        if not permissions or any(has(scope, p) for p in permissions)
    ]


def render(
    request: Request, scope: Scope, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A page for a signed-in user (``context`` may override ``nav``, for instance)."""
    page = request.app.state.page
    response: HTMLResponse = page(
        request,
        template,
        {"user": scope.user, "nav": nav_for(scope, request.url.path), **context},
        status,
    )
    return response


def audit(request: Request, scope: Scope, event: AuditEvent) -> None:
    ip = request.client.host if request.client else None
    with request.app.state.warehouse.recording() as con:
        record(con, event, user=scope.user, ip=ip)
