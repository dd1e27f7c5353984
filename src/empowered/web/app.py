"""The application factory: ``create_app(warehouse)`` gives the FastAPI app ``serve`` runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from duckdb import DuckDBPyConnection
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from empowered.access import sessions as server_sessions
from empowered.access.audit import SessionRejected, SignedIn, SignedOut, SignInFailed, record
from empowered.access.auth_cache import AuthCache
from empowered.access.store import ensure_access_tables
from empowered.access.users import (
    SignInResult,
    check_sign_in,
    get_user,
    seal_totp_secrets,
    settle_sign_in,
)
from empowered.settings import Settings, get_settings
from empowered.upgrade_backup import backup_before_upgrade
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.stored_results import ResultStore
from empowered.web import (
    account,
    actions,
    admin,
    admin_backups,
    api_docs,
    audit_page,
    backup_schedule,
    capture,
    concerns,
    contributions,
    control,
    documents,
    inbox,
    lake_refresh,
    pages,
    plans,
    provision_pages,
    pupil_matches,
    pupil_search,
    review_pack_schedule,
    reviews,
    school_pages,
    strategies,
    triggers,
    uploads,
    warming,
)
from empowered.web.deps import BadCsrf, Forbidden, NotSignedIn, record_refusal
from empowered.web.headers import add_security_headers
from empowered.web.paper import install as install_paper
from empowered.web.recorder import recorder
from empowered.web.sessions import (
    COOKIE,
    RejectionThrottle,
    Session,
    SessionCodec,
    csrf_matches,
)
from empowered.web.warehouse import Warehouse
from empowered.web.words import install as install_words

HERE = Path(__file__).resolve().parent


def create_app(warehouse: Path, *, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = Warehouse(
        warehouse,
        threads=settings.duckdb_threads,
        memory_limit=settings.duckdb_memory_limit,
        backup=backup_before_upgrade(settings, warehouse),
    )
    keys = settings.keys()
    with store.writing() as con:
        ensure_access_tables(con)
        # Second-factor secrets written in clear by an older version are encrypted now.
        seal_totp_secrets(con, keys.identity_keys)
    # The secret from the settings or the private key file, never a published one.
    codec = SessionCodec(keys.session_secret)
    rejections = RejectionThrottle()
    # Sessions, accounts and scopes as last read, until the server itself changes them.
    auth = AuthCache()
    secure = settings.environment == "production"
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    install_words(templates)  # |day, |short_day, school_name(): one way of writing them
    install_paper(templates)  # |on_paper: which entries of a long list are printed

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warming.start(app)
        capture.start(app)
        inbox.start(app)
        backup_schedule.start(app)
        review_pack_schedule.start(app)
        await control.start(app)
        lake_refresh.start(app)
        yield
        lake_refresh.stop(app)
        await control.stop(app)
        backup_schedule.stop(app)
        review_pack_schedule.stop(app)
        inbox.stop(app)
        capture.stop(app)
        # Last: the imports and the rebuild finished above start warming runs of their own,
        # which must end before the warehouse is closed (a query cut off by the close
        # failed with ConnectionException).
        warming.stop(app)

    app = FastAPI(
        title="EmpowerED+",
        docs_url=None,
        redoc_url=None,
        # Served by web/api_docs.py, to signed-in users only.
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.warehouse = store
    app.state.auth_cache = auth
    app.state.codec = codec
    app.state.templates = templates
    app.middleware("http")(add_security_headers)
    # Requests in flight, so cache warming gives way to the pages being served.
    app.middleware("http")(warming.count_requests)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def reject(request: Request, reason: str, user_id: int | None) -> None:
        """Write a refused cookie to the audit log (throttled: ``RejectionThrottle``)."""
        ip = request.client.host if request.client else None
        repeats = rejections.due(ip or "", f"{reason} {user_id or ''}")
        if repeats is None:
            return
        with store.recording() as con:
            user = get_user(con, user_id) if user_id else None
            record(con, SessionRejected(reason=reason, repeats=repeats), user=user, ip=ip)

    def session_of(request: Request) -> Session | None:
        """The request's session, checked with the server (once per request): None when
        there is no cookie or it was refused; ``user_id`` 0 before sign-in."""
        if hasattr(request.state, "session"):
            cached: Session | None = request.state.session
            return cached
        session, problem = codec.decode(request.cookies.get(COOKIE))
        if problem:
            reject(request, problem, None)
        elif session is not None and session.session_id:
            checked, due = auth.check_session(store.reading, session.session_id)
            if not checked.ok or checked.user_id is None or checked.issued is None:
                reject(request, checked.refused or "refused", checked.user_id)
                session = None
            else:
                if due:
                    auth.touch(store.recording, session.session_id)
                session = Session(
                    session.csrf,
                    session.session_id,
                    checked.user_id,
                    checked.issued.timestamp(),
                )
        request.state.session = session
        return session

    def set_session(response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            codec.dumps(session),
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )

    def issue_session(response: Response, user_id: int) -> None:
        """A new server session (and CSRF token) for ``user_id``, set on ``response``."""
        with store.recording() as con:
            session_id = server_sessions.start(con, user_id)
        set_session(response, codec.new(session_id))

    def page(
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
        session: Session | None = None,
    ) -> HTMLResponse:
        # The cookie is set only when it changes (a new session, or none that checked
        # out): the browser holds the request's own already, and a session cookie has no
        # expiry to refresh. Signing it again for every page was 3% of a request's CPU.
        fresh = session is not None or session_of(request) is None
        session = session or session_of(request) or codec.new()
        response = templates.TemplateResponse(
            request,
            name,
            {"csrf": session.csrf, "user": None, "nav": [], **context},
            status_code=status,
        )
        if fresh:
            set_session(response, session)
        return response

    @app.exception_handler(NotSignedIn)
    async def _to_sign_in(request: Request, exc: NotSignedIn) -> Response:
        response: Response = RedirectResponse("/sign-in", status_code=303)
        if request.headers.get("HX-Request") == "true":
            # htmx would follow a redirect and swap the sign-in page into a fragment: a 401
            # with HX-Redirect sends the whole page to sign in instead.
            response = Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
        # A refused cookie is dropped, so the sign-in page does not present it again.
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.exception_handler(BadCsrf)
    async def _bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return page(
            request,
            "message.html",
            {
                "title": "That form had expired",
                "message": "Nothing was changed. Go back, reload the page and try again.",
            },
            status=400,
        )

    @app.get("/sign-in", response_class=HTMLResponse)
    def sign_in_form(request: Request) -> HTMLResponse:
        return page(request, "sign_in.html", {"title": "Sign in"})

    def attempt_sign_in(request: Request, form: FormData) -> tuple[SignInResult, str | None]:
        """A sign-in attempt: its result and, when it succeeded, the new session's id.

        The password check (argon2: a core for a good part of a second) runs on a reading
        cursor, outside the recording lock; only the attempt's writes (failure counts, the
        audit entry, the new session) take the lock, queued with the other short writes
        (``web.recorder``). Forty staff signing in at once no longer stall every capture."""
        session = session_of(request)
        if not csrf_matches(session, str(form.get("csrf") or "")):
            raise BadCsrf
        username = str(form.get("username") or "")
        ip = request.client.host if request.client else None
        with store.reading() as con:
            checked = check_sign_in(con, username, str(form.get("password") or ""), address=ip)
        totp = str(form.get("totp") or "") or None

        def settle(con: DuckDBPyConnection) -> tuple[SignInResult, str | None]:
            result = settle_sign_in(con, checked, totp)
            if result.user is None:
                record(
                    con, SignInFailed(username=username, outcome=result.outcome), user=None, ip=ip
                )
                return result, None
            record(con, SignedIn(), user=result.user, ip=ip)
            if session and session.session_id:
                # Signing in again over a live session: the old one ends, not left to idle.
                server_sessions.revoke(con, session.session_id, "signed in again")
            return result, server_sessions.start(con, result.user.user_id)

        return recorder(app).write(settle)

    @app.post("/sign-in", response_class=HTMLResponse)
    async def sign_in_submit(request: Request) -> Response:
        form = await request.form()
        # In a worker thread: on the event loop, the password check would hold up every
        # other request for its whole length.
        result, session_id = await run_in_threadpool(attempt_sign_in, request, form)
        if result.delay:
            # Past the per-username ceiling of failures: slowed, never refused (the
            # event loop waits, no worker thread is held).
            await asyncio.sleep(result.delay)
        if result.user is None or session_id is None:
            return page(
                request,
                "sign_in.html",
                {
                    "title": "Sign in",
                    "message": result.message,
                    "username": str(form.get("username") or ""),
                },
                status=401,
            )
        response = RedirectResponse("/", status_code=303)
        # A new session (and CSRF token) at sign-in, so a token seen before cannot be reused.
        set_session(response, codec.new(session_id))
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        form = await request.form()
        session = session_of(request)
        if not csrf_matches(session, str(form.get("csrf") or "")):
            raise BadCsrf
        if session and session.user_id:
            with store.recording() as con:
                # Ended on the server: the cookie, replayed, opens nothing from now on.
                server_sessions.revoke(con, session.session_id, server_sessions.SIGNED_OUT)
                user = get_user(con, session.user_id)
                record(con, SignedOut(), user=user)
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        record_refusal(request, exc)
        # The same answer whether the pupil exists or not, so ids cannot be probed.
        return page(
            request,
            "message.html",
            {
                "title": "Not available to you",
                "message": "This page is not part of what your role lets you see. "
                "The request has been recorded.",
                "user": exc.user,
            },
            status=404 if exc.not_found else 403,
        )

    app.state.page = page
    app.state.session_of = session_of
    app.state.issue_session = issue_session
    # Results kept in the warehouse: a restart reads them back instead of recomputing.
    app.state.cache = SchoolAnalyticsCache(ResultStore(store.recording))
    modules = (
        pages,
        capture,
        contributions,
        triggers,
        strategies,
        uploads,
        pupil_matches,
        admin,
        admin_backups,
        account,
        actions,
        provision_pages,
        reviews,
        plans,
        concerns,
        pupil_search,
        school_pages,
        documents,
    )
    for module in (*modules, audit_page):
        app.include_router(module.router)
    app.include_router(api_docs.router)
    return app
