"""Shared helpers of the browser tests (a module of its own: test folders share the name
``conftest``, so tests cannot import from it).

Playwright is imported only inside functions, so a machine without it (or without
Chromium) still collects the rest of the suite; the fixtures skip or fail with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Debian's Chromium (apt-get install chromium); EMPOWERED_CHROMIUM points elsewhere.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Headless, no sandbox (CI runs as root), and none of the background connections Chromium
# makes at start (refused on a machine without the internet, and slow to be refused).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CI sets this (.ci/run): a missing browser fails there instead of skipping.
REQUIRE_BROWSER = "EMPOWERED_REQUIRE_BROWSER"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the issue asks for.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})

# The roles, and the areas the demo's visiting professional is given
# (empowered.demo.create_demo_accounts); the navigation test checks they still agree.
ROLES = (
    "trust_admin",
    "senco",
    "dsl",
    "teacher",
    "teaching_assistant",
    "visiting_professional",
    "trust_analyst",
)
VISITOR_AREAS = ("wellbeing", "strategies")

# Placeholders in page paths, filled in from the Site at run time.
PUPIL = "{pupil}"
OUTSIDE_PUPIL = "{outside_pupil}"


def chromium_path() -> str | None:
    """Where Chromium is, or None."""
    wanted = os.environ.get("EMPOWERED_CHROMIUM", DEFAULT_CHROMIUM)
    if Path(wanted).is_file() and os.access(wanted, os.X_OK):
        return wanted
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER, "") not in ("", "0")


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@dataclass
class Site:
    """The app served on loopback over a copy of the small trust, with an account per role."""

    base_url: str
    app: Any  # the FastAPI app the server runs (its warehouse connection: app.state.warehouse)
    accounts: dict[str, Account]
    school: str
    group: str  # the teacher's group
    pupil: str  # a pupil in every pupil-seeing role's scope (the visitor's named pupil)
    outside_pupil: str  # at the school, outside the teacher's group
    states: dict[str, Any] = field(default_factory=dict)  # signed-in storage state per role

    def fill(self, path: str) -> str:
        return path.replace(PUPIL, self.pupil).replace(OUTSIDE_PUPIL, self.outside_pupil)

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
        """Read the warehouse through the server's own connection (it owns the file)."""
        with self.app.state.warehouse.reading() as con:
            rows: list[tuple[Any, ...]] = con.execute(sql, params or []).fetchall()
        return rows


def expected_nav(role: str) -> list[str]:
    """The navigation ``role`` should be offered, asked of the policy and the app's NAV
    (so a page added to NAV is covered by the page tests without touching them)."""
    import duckdb

    from empowered.access.policy import scope_for
    from empowered.access.roles import Role
    from empowered.access.users import User
    from empowered.web.render import nav_for

    trust_wide = role in ("trust_admin", "trust_analyst")
    user = User(
        user_id=0,
        username=role,
        role=Role(role),
        school_urn=None if trust_wide else "100000",
        groups=(),
        pupils=(),
        areas=VISITOR_AREAS if role == "visiting_professional" else (),
        expires_on=None,
        totp_enabled=False,
        disabled=False,
    )
    con = duckdb.connect()
    try:
        scope = scope_for(con, user, today=date.today())
    finally:
        con.close()
    return [str(item["href"]) for item in nav_for(scope, "")]


def sees_pupils(role: str) -> bool:
    from empowered.access.policy import ROLE_PERMISSIONS, Permission
    from empowered.access.roles import Role

    return Permission.VIEW_PUPIL in ROLE_PERMISSIONS[Role(role)]


@dataclass(frozen=True)
class PageCase:
    role: str | None  # None: signed out
    path: str
    status: int = 200  # what the page answers when it is built

    @property
    def id(self) -> str:
        who = self.role or "signed-out"
        return f"{who}:{self.path}"


def page_cases() -> list[PageCase]:
    """Every page each role can reach: the sign-in page, each role's navigation, a pupil
    page for each role that sees pupils, the register with a filter applied, and the
    refusal a teacher gets for a pupil outside their groups."""
    cases = [PageCase(None, "/sign-in")]
    for role in ROLES:
        nav = expected_nav(role)
        cases.extend(PageCase(role, path) for path in nav)
        if "/register" in nav:
            cases.append(PageCase(role, "/register?attendance_below=90"))
        if sees_pupils(role):
            cases.append(PageCase(role, f"/pupils/{PUPIL}"))
    cases.append(PageCase("teacher", f"/pupils/{OUTSIDE_PUPIL}", status=404))
    # Pages reached from those rather than from the navigation.
    for kind in ("check_in", "strategy", "incident"):
        cases.append(PageCase("teacher", f"/capture/{PUPIL}?kind={kind}"))
    for path in (
        "/admin/users/new",
        "/admin/groups",
        "/admin/rules",
        "/admin/retention",
        "/admin/schools",
    ):
        cases.append(PageCase("trust_admin", path))
    cases.append(PageCase("dsl", "/triggers?status=all"))
    # Actions (issue 13, item 3): the school's list with every status, and the form.
    cases.append(PageCase("senco", "/actions?status=all"))
    cases.append(PageCase("senco", f"/actions/new?pupil={PUPIL}&source=pupil"))
    # Provision management (a group's own pages: test_session_register.py, with a group).
    for role in ("senco", "trust_admin"):
        cases.append(PageCase(role, "/provision/interventions"))
        cases.append(PageCase(role, "/provision/interventions/new"))
    cases.append(PageCase("senco", "/provision/groups/new"))
    # A visiting professional's note about their named pupil (issue 13, item 6).
    cases.append(PageCase("visiting_professional", f"/pupils/{PUPIL}/contributions/new"))
    # Plan reviews (issue 13): the reviews held and the form, from the pupil's page.
    cases.append(PageCase("senco", f"/pupils/{PUPIL}/reviews"))
    cases.append(PageCase("senco", f"/pupils/{PUPIL}/reviews/new"))
    cases.append(PageCase("trust_admin", f"/pupils/{PUPIL}/reviews"))
    # Safeguarding concerns: the form with its pupil chosen, and the DSL's chronology (a
    # concern's own page is checked in test_concern_journey.py, which records one).
    cases.append(PageCase("teacher", f"/concerns/new?pupil={PUPIL}"))
    cases.append(PageCase("dsl", f"/pupils/{PUPIL}/chronology"))
    return cases


def open_page(page: Page, site: Site, case: PageCase) -> None:
    """Go to the case's page; fail on anything unexpected (a server error, a redirect to
    sign in)."""
    path = site.fill(case.path)
    response = page.goto(path)
    assert response is not None
    assert response.status == case.status, f"{path} answered {response.status}"
    if case.role is not None:
        assert "/sign-in" not in page.url, f"{case.role} was sent to sign in from {path}"


def sign_in_through_form(page: Page, account: Account) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now, serious or worse."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} - {v['helpUrl']}")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    {target}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def axe_version() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    first = AXE_SCRIPT[:40]
    return first.split("axe v", 1)[1].split()[0] if "axe v" in first else "unknown"


def page_widths(page: Page) -> tuple[int, int]:
    """(the document's scroll width, the viewport's width)."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(widths[0]), int(widths[1])


def too_wide(page: Page) -> list[str]:
    """Elements reaching past the viewport's right edge (outside any scrolling box), to
    say what makes a page scroll sideways."""
    found: list[str] = page.evaluate(
        """() => {
          const out = [];
          const w = window.innerWidth;
          for (const el of document.querySelectorAll('body *')) {
            if (el.closest('.table-wrap')) continue;
            const r = el.getBoundingClientRect();
            if (r.right > w + 0.5 && r.width > 0) {
              const id = el.id ? '#' + el.id : '';
              const cls = el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
              out.push(el.tagName.toLowerCase() + id + cls + ' (right edge ' +
                       Math.round(r.right) + 'px)');
            }
          }
          return out.slice(0, 10);
        }"""
    )
    return found


def nav_links(page: Page) -> list[str]:
    links: list[str] = page.locator('nav[aria-label="Main"] a').evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    return links


def focused(page: Page) -> dict[str, Any]:
    """What has the keyboard focus: tag, id, text, href and its computed outline."""
    info: dict[str, Any] = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return {};
          const s = getComputedStyle(el);
          return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || '').trim(),
                  href: el.getAttribute('href'), cls: el.className,
                  outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
                  boxShadow: s.boxShadow};
        }"""
    )
    return info


def focus_visible(info: dict[str, Any]) -> bool:
    outline = info.get("outlineStyle") not in (None, "none") and info.get("outlineWidth", 0) > 0
    shadow = info.get("boxShadow") not in (None, "", "none")
    return bool(outline or shadow)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread: its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.warehouse.close()
