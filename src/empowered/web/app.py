"""The application factory: ``create_app(warehouse)`` gives the FastAPI app ``serve`` runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from empowered.access.audit import SignedIn, SignedOut, SignInFailed, record
from empowered.access.store import ensure_access_tables
from empowered.access.users import get_user, sign_in
from empowered.settings import Settings, get_settings
from empowered.views.cache import SchoolAnalyticsCache
from empowered.web import (
    account,
    admin,
    audit_page,
    capture,
    inbox,
    pages,
    strategies,
    triggers,
    uploads,
    warming,
)
from empowered.web.deps import BadCsrf, Forbidden, NotSignedIn, record_refusal
from empowered.web.headers import add_security_headers
from empowered.web.sessions import COOKIE, Session, SessionCodec, csrf_matches
from empowered.web.warehouse import Warehouse

HERE = Path(__file__).resolve().parent


def create_app(warehouse: Path, *, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = Warehouse(
        warehouse, threads=settings.duckdb_threads, memory_limit=settings.duckdb_memory_limit
    )
    with store.writing() as con:
        ensure_access_tables(con)
    codec = SessionCodec(settings.keys().session_secret)
    secure = settings.environment == "production"
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warming.start(app)
        capture.start(app)
        inbox.start(app)
        yield
        inbox.stop(app)
        capture.stop(app)

    app = FastAPI(
        title="EmpowerED+",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.warehouse = store
    app.state.codec = codec
    app.state.templates = templates
    app.middleware("http")(add_security_headers)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def session_of(request: Request) -> Session | None:
        return codec.loads(request.cookies.get(COOKIE))

    def set_session(response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            codec.dumps(session),
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )

    def page(
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
        session: Session | None = None,
    ) -> HTMLResponse:
        session = session or session_of(request) or codec.new(0)
        response = templates.TemplateResponse(
            request,
            name,
            {"csrf": session.csrf, "user": None, "nav": [], **context},
            status_code=status,
        )
        set_session(response, codec.touch(session))
        return response

    @app.exception_handler(NotSignedIn)
    async def _to_sign_in(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

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

    @app.post("/sign-in", response_class=HTMLResponse)
    async def sign_in_submit(request: Request) -> Response:
        form = await request.form()
        session = session_of(request)
        if not csrf_matches(session, str(form.get("csrf") or "")):
            raise BadCsrf
        username = str(form.get("username") or "")
        ip = request.client.host if request.client else None
        with store.recording() as con:
            result = sign_in(
                con, username, str(form.get("password") or ""), str(form.get("totp") or "") or None
            )
            if result.user is None:
                record(
                    con, SignInFailed(username=username, outcome=result.outcome), user=None, ip=ip
                )
            else:
                record(con, SignedIn(), user=result.user, ip=ip)
        if result.user is None:
            return page(
                request,
                "sign_in.html",
                {
                    "title": "Sign in",
                    "message": result.message,
                    "username": username,
                },
                status=401,
            )
        response = RedirectResponse("/", status_code=303)
        # A new session (and CSRF token) at sign-in, so a token seen before cannot be reused.
        set_session(response, codec.new(result.user.user_id, time.time()))
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        form = await request.form()
        session = session_of(request)
        if not csrf_matches(session, str(form.get("csrf") or "")):
            raise BadCsrf
        if session and session.user_id:
            with store.recording() as con:
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
    app.state.cache = SchoolAnalyticsCache()
    for module in (pages, capture, triggers, strategies, uploads, admin, account, audit_page):
        app.include_router(module.router)
    return app
