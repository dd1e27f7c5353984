"""Admin: backups (the trust admin: MANAGE_BACKUPS). The last backup and its age, whether
the schedule is on, the last failure, the backups kept, and "Back up now"; and the home
page's warning when the backups are missing, old or failing (``home_warning``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered.access.audit import ViewedPage
from empowered.access.policy import Permission, Scope, may_see_section
from empowered.access.sections import Section
from empowered.views.backups import BackupStatus, ago, backup_status, hours
from empowered.web.backup_schedule import ADMIN, backups
from empowered.web.deps import CheckedForm, needs
from empowered.web.import_runs import settings_of
from empowered.web.render import audit, render

router = APIRouter()
BackupScope = Annotated[Scope, Depends(needs(Permission.MANAGE_BACKUPS))]

NOTICES = {
    "started": "A backup has started. It takes a minute or more on a large warehouse: "
    "reload this page to see it finish.",
    "busy": "A backup is already being taken: reload this page to see it finish.",
    "no-folder": "No backup folder is set, so there is nowhere to put one. Set "
    "EMPOWERED_BACKUP_DIR to a folder on another disk and restart the server.",
}


def status_of(request: Request) -> BackupStatus:
    settings = settings_of(request.app)
    running = backups(request.app).running
    with request.app.state.warehouse.reading() as con:
        return backup_status(
            con,
            folder=settings.backup_dir,
            interval_hours=settings.backup_interval_hours,
            keep=settings.backup_keep,
            now=datetime.now(UTC),
            running_since=None if running is None else running.started_at,
        )


def home_warning(request: Request, scope: Scope) -> dict[str, Any]:
    """The home page's backup card, for whoever the policy shows it to, when needed."""
    if not may_see_section(scope, Section.HOME_BACKUPS):
        return {}
    status = status_of(request)
    if status.warning is None:
        return {}
    return {"backup_warning": status.warning, "backup_advice": status.advice}


@router.get("/admin/backups", response_class=HTMLResponse)
def backups_page(request: Request, scope: BackupScope, done: str | None = None) -> HTMLResponse:
    audit(request, scope, ViewedPage(page="/admin/backups"))
    return render(
        request,
        scope,
        "admin_backups.html",
        {
            "title": "Admin: backups",
            "status": status_of(request),
            "notice": NOTICES.get(done or ""),
            "ago": ago,
            "every": hours,
        },
    )


@router.post("/admin/backups/now")
def back_up_now(request: Request, scope: BackupScope, form: CheckedForm) -> Response:
    """Take a backup into the schedule's folder at once, in the background (the page
    shows it running, then its outcome); recorded and audited as every backup is."""
    folder = settings_of(request.app).backup_dir
    if folder is None:
        done = "no-folder"
    else:
        done = (
            "started" if backups(request.app).start(folder, via=ADMIN, user=scope.user) else "busy"
        )
    return RedirectResponse(f"/admin/backups?done={done}", status_code=303)
