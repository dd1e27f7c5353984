"""What every page shares: the navigation a user may open, rendering a template with the
user and their navigation, and writing what was seen to the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from empowered.access.audit import AuditEvent, record
from empowered.access.policy import Permission, Scope, has
from empowered.web.recorder import recorder
from empowered.web.search_box import search_box

T = TypeVar("T")
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
ACTIONS = (P.OWN_ACTIONS, P.VIEW_SCHOOL_ACTIONS)
# (path, label, any of these permissions): the navigation offers only what may be opened.
NAV: tuple[tuple[str, str, tuple[Permission, ...]], ...] = (
    ("/", "What needs attention", HOME),
    ("/capture", "Capture", CAPTURE),
    ("/register", "SEND register", REGISTER),
    ("/provision", "Provision map", PROVISION),
    ("/provision/groups", "Intervention groups", (P.MANAGE_PROVISION, P.RECORD_SESSIONS)),
    ("/strategies", "Strategies and patterns", STRATEGIES),
    ("/triggers", "Triggers and early signs", TRIGGERS),
    ("/actions", "Actions", ACTIONS),
    ("/concerns", "Safeguarding concerns", (P.VIEW_CONCERNS,)),
    ("/concerns/new", "Record a concern", (P.RECORD_CONCERN,)),
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
        {
            "user": scope.user,
            "nav": nav_for(scope, request.url.path),
            **search_box(request, scope),
            **context,
        },
        status,
    )
    return response


def audit(request: Request, scope: Scope, event: AuditEvent) -> None:
    ip = request.client.host if request.client else None
    # Written with the other short writes queued at the same moment (``web.recorder``).
    recorder(request.app).write(lambda con: record(con, event, user=scope.user, ip=ip))


@dataclass(frozen=True)
class Pager:
    """One page of a long list, and the links to its neighbours (query kept)."""

    page: int
    pages: int
    total: int
    size: int
    query: str  # the request's query string without ``page``

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * self.size, self.total)

    def href(self, page: int) -> str:
        return "?" + "&".join(p for p in (self.query, f"page={page}") if p)


def paginate(request: Request, rows: Sequence[T], size: int) -> tuple[Sequence[T], Pager]:
    """The rows of the page asked for (``?page=N``, default 1; a bad value means 1)."""
    pages = max(1, -(-len(rows) // size))
    try:
        page = min(max(1, int(request.query_params.get("page") or 1)), pages)
    except ValueError:
        page = 1
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])
    start = (page - 1) * size
    return rows[start : start + size], Pager(page, pages, len(rows), size, query)
