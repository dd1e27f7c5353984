"""The web app served on loopback over a copy of the built small trust, one account per
role (the demo's), and one headless Chromium per module with a fresh context per test.

Chromium is Debian's (``apt-get install chromium``; ``scripts/test.sh`` installs it as
root): Playwright cannot download its own browser here. Without it the browser tests
skip, except where ``EMPOWERED_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    REQUIRE_BROWSER,
    Account,
    Site,
    browser_required,
    chromium_path,
    serving,
    sign_in_through_form,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


def _missing(reason: str) -> None:
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_BROWSER} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError:
        _missing("playwright and axe-playwright-python are not installed: pip install -e '.[test]'")
    path = chromium_path()
    if path is None:
        _missing(
            "Chromium is not installed: apt-get install chromium "
            "(or set EMPOWERED_CHROMIUM to a Chromium binary)"
        )
    assert path is not None
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One Chromium per test module (about a second to start). Not per session: while
    Playwright's sync API runs, the main thread counts as inside an event loop, so any
    later test elsewhere calling ``asyncio.run`` would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site(
    chromium: str, built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """``create_app`` on a copy of the small trust, served by uvicorn on 127.0.0.1 in a
    background thread, with the demo's account for each role."""
    from empowered.access.users import list_users
    from empowered.demo import create_demo_accounts
    from empowered.web.app import create_app

    path = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    try:
        demo = create_demo_accounts(con)
        users = {u.username: u for u in list_users(con)}
        accounts = {a.role: Account(a.username, a.password) for a in demo}
        teacher = users[accounts["teacher"].username]
        visitor = users[accounts["visiting_professional"].username]
        assert teacher.school_urn and teacher.groups and visitor.pupils
        outside = con.execute(
            "SELECT e.pupil_key FROM core.fct_enrolment AS e WHERE e.school_urn = ? "
            "AND e.pupil_key NOT IN (SELECT pupil_key FROM core.bridge_group_member "
            "WHERE school_urn = ? AND list_contains(?, group_code)) ORDER BY 1 LIMIT 1",
            [teacher.school_urn, teacher.school_urn, list(teacher.groups)],
        ).fetchone()
        assert outside is not None
    finally:
        con.close()

    app = create_app(path)
    with serving(app) as base_url:
        yield Site(
            base_url=base_url,
            app=app,
            accounts=accounts,
            school=teacher.school_urn,
            group=teacher.groups[0],
            pupil=visitor.pupils[0],
            outside_pupil=str(outside[0]),
        )


OpenAs = Callable[..., "Page"]


@pytest.fixture
def open_as(browser: Browser, site: Site) -> Iterator[OpenAs]:
    """``open_as(role, width=..., height=...)``: a page in a fresh browser context, signed
    in as ``role`` (None: signed out). Each role signs in through the form once a session;
    later contexts reuse its cookies (``storage_state``)."""
    contexts: list[BrowserContext] = []

    def new_context(state: Any, width: int, height: int, **options: Any) -> BrowserContext:
        context = browser.new_context(
            base_url=site.base_url,
            storage_state=state,
            viewport={"width": width, "height": height},
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    def open_page(
        role: str | None, *, width: int = 1280, height: int = 900, **options: Any
    ) -> Page:
        state = None
        if role is not None:
            if role not in site.states:
                signing_in = new_context(None, 1280, 900)
                sign_in_through_form(signing_in.new_page(), site.accounts[role])
                site.states[role] = signing_in.storage_state()
            state = site.states[role]
        return new_context(state, width, height, **options).new_page()

    yield open_page
    for context in contexts:
        context.close()
