"""Import through the server: upload files, follow the import, read its report and the
quarantined rows.

The server owns the warehouse file, so files a SENCo or the trust's data lead brings are
uploaded here rather than imported at the command line. They are kept in a folder beside
the warehouse and imported by the same service ``empowered import`` uses, in a thread of
their own (an import and its rebuild take seconds); the status page polls until it is done.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Message

from empowered.access.audit import MappingSaved, ViewedPage, record, transaction
from empowered.access.policy import Scope, import_schools, may_import_catalogues
from empowered.sources.mapping import Mapping
from empowered.sources.mapping_builder import IGNORE, LABELS, choices_for, make_mapping
from empowered.sources.registry import SOURCES
from empowered.sources.saved_mappings import SavedMapping, find_saved, save_mapping, saved_mappings
from empowered.sources.scope import ImportLimits
from empowered.views.imports import (
    batch_report,
    import_runs,
    recent_batches,
    school_names,
    schools_to_choose,
)
from empowered.web.deps import CheckedForm, Forbidden, needs, pupil_scope
from empowered.web.import_runs import run_upload, settings_of, start_run, uploads_root
from empowered.web.pupil_matches import match_section
from empowered.web.render import IMPORT, audit, render
from empowered.web.upload_mappings import Headings, Held, headings_to_ask, held, hold, release

router = APIRouter()

# What schools' systems export: CSV and text reports, spreadsheets, the CTF (XML), and
# the aggregators' APIs (JSON).
ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xml", ".json")
MAX_FILES = 30
SOURCE_LABELS = {
    "auto": "Recognise it from the file (usual)",
    "canonical": "EmpowerED+ canonical CSV",
    "ctf": "Common Transfer File (CTF)",
    "sims": "SIMS report",
    "arbor": "Arbor report",
    "bromcom": "Bromcom report",
    "json": "Students from Wonde or Assembly (JSON)",
    "observations": "Forms export of check-ins or incidents",
    "provision": "Provision tracker",
}
assert set(SOURCE_LABELS) == set(SOURCES)

TOO_BIG = "These files are too big to upload together; nothing was imported."

Importer = Annotated[Scope, Depends(needs(*IMPORT))]


async def body_limit(request: Request) -> None:
    """Refuse a request body bigger than the most files of the largest size before it is
    read (each file is then checked on its own, with a message beside the field).

    A declared length is refused at once; a body sent in chunks declares none, so its bytes
    are counted as they arrive and reading stops at the limit: the form parser would
    otherwise spool the whole body to disk before any file's size was looked at."""
    limit = MAX_FILES * settings_of(request.app).max_upload_bytes + (1 << 20)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, TOO_BIG)
    receive = request._receive  # the form is read through this Request's receive
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, TOO_BIG)
        return message

    request._receive = counted


@dataclass(frozen=True)
class Problem:
    field: str  # the form field the message sits next to
    message: str


def _safe_name(name: str) -> str:
    """The file's own name (readers recognise some formats by it), without any folders and
    with only plain characters."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")
    return base[:120]


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


def _form_page(
    request: Request,
    scope: Scope,
    *,
    problems: tuple[Problem, ...] = (),
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ps = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        schools = schools_to_choose(con, scope=ps)
        names = school_names(con, scope=ps)
        batches = recent_batches(con, scope=ps)
        runs = import_runs(con, scope=ps, user_id=scope.user.user_id, limit=10)
        mappings = _mappings(con, scope)
    chosen = chosen or {}
    default_school = schools[0] if scope.schools is not None and len(schools) == 1 else ""
    settings = settings_of(request.app)
    return render(
        request,
        scope,
        "imports.html",
        {
            "title": "Import",
            "sources": SOURCE_LABELS,
            "schools": schools,
            "school_names": names,
            "trust_wide": scope.schools is None,
            "chosen_source": chosen.get("source", "auto"),
            "chosen_school": chosen.get("school") or default_school,
            "mappings": mappings,
            "chosen_mapping": chosen.get("mapping", ""),
            "problems": problems,
            "errors": {
                f: " ".join(p.message for p in problems if p.field == f)
                for f in {p.field for p in problems}
            },
            "batches": batches,
            "runs": runs,
            "max_mb": settings.max_upload_bytes // (1024 * 1024),
            "suffixes": ", ".join(ALLOWED_SUFFIXES),
        },
        status=status,
    )


def _mappings(con: Any, scope: Scope) -> list[SavedMapping]:
    """The saved mappings of the schools this user may import for (the policy decides)."""
    return saved_mappings(con, import_schools(scope))


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, scope: Importer) -> HTMLResponse:
    audit(request, scope, ViewedPage(page="/imports"))
    return _form_page(request, scope)


def _check(
    form_files: list[Any], source: str, school: str, schools: list[str], limit: int
) -> tuple[list[tuple[str, UploadFile]], list[Problem]]:
    problems: list[Problem] = []
    files = [f for f in form_files if isinstance(f, UploadFile) and f.filename]
    if not files:
        problems.append(Problem("files", "Choose at least one file to import."))
    if len(files) > MAX_FILES:
        problems.append(Problem("files", f"Import at most {MAX_FILES} files at a time."))
    named: list[tuple[str, UploadFile]] = []
    for upload in files[:MAX_FILES]:
        name = _safe_name(upload.filename or "")
        if not name or Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
            problems.append(
                Problem(
                    "files",
                    f"{name or 'A file'} is not a kind of file EmpowerED+ imports "
                    f"(it takes {', '.join(ALLOWED_SUFFIXES)}).",
                )
            )
            continue
        size = _size(upload)
        if size > limit:
            problems.append(
                Problem(
                    "files",
                    f"{name} is {size / 1024 / 1024:.1f} MB, over the "
                    f"{limit / 1024 / 1024:.0f} MB limit for one upload. Split it, or ask "
                    "your data lead to use the inbox folder.",
                )
            )
            continue
        if any(n.lower() == name.lower() for n, _ in named):
            problems.append(Problem("files", f"{name} was chosen twice."))
            continue
        named.append((name, upload))
    if source not in SOURCE_LABELS:
        problems.append(Problem("source", "Choose what kind of file this is from the list."))
    if school and school not in schools:
        problems.append(Problem("school", "Choose one of your schools from the list."))
    return named, problems


@router.post("/imports", response_class=HTMLResponse)
def upload(
    request: Request,
    scope: Importer,
    _limit: Annotated[None, Depends(body_limit)],
    form: CheckedForm,
) -> Response:
    source = str(form.get("source") or "auto")
    school = str(form.get("school") or "")
    key = str(form.get("mapping") or "")
    with request.app.state.warehouse.reading() as con:
        schools = schools_to_choose(con, scope=pupil_scope(scope))
        saved = find_saved(con, key, import_schools(scope)) if key else None
    limit = settings_of(request.app).max_upload_bytes
    named, problems = _check(form.getlist("files"), source, school, schools, limit)
    if key and saved is None:
        problems.append(Problem("mapping", "Choose one of your saved mappings from the list."))
    elif saved is not None and school and school != saved.school_urn:
        problems.append(
            Problem(
                "mapping",
                f"This mapping was saved for school {saved.school_urn}: choose that school, "
                "or another mapping.",
            )
        )
    if problems:
        return _form_page(
            request,
            scope,
            problems=tuple(problems),
            chosen={"source": source, "school": school, "mapping": key},
            status=400,
        )
    # A school-bound user imports for their school: files that do not name one take it.
    if not school and scope.schools is not None and len(scope.schools) == 1:
        school = next(iter(scope.schools))
    if saved is not None:
        school = saved.school_urn
    elif source == "auto" and len(named) == 1:
        # One spreadsheet whose headings are not all known: ask what they hold first.
        name, upload_file = named[0]
        waiting = hold(request.app, scope.user.user_id, school, name, upload_file.file)
        headings = headings_to_ask(waiting.path, school)
        if headings is not None:
            return _mapping_page(request, scope, waiting, headings, schools)
        return begin_import(request, scope, [waiting.path], source, school, None, waiting)
    return begin_import(
        request, scope, named, source, school, saved.mapping if saved else None, None
    )


def begin_import(
    request: Request,
    scope: Scope,
    files: list[tuple[str, UploadFile]] | list[Path],
    source: str,
    school: str,
    mapping: Mapping | None,
    waiting: Held | None,
) -> Response:
    """Record the import, put its files in a folder of their own and import them in a
    thread; the browser goes to the status page."""
    with request.app.state.warehouse.recording() as con:
        import_id = start_run(
            con,
            via="upload",
            user=scope.user,
            school=school or None,
            source=f"mapping {mapping.name}" if mapping else source,
            files=len(files),
        )
    folder = uploads_root(request.app) / f"{import_id:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for item in files:
        if isinstance(item, Path):
            target = folder / item.name
            shutil.move(item, target)
        else:
            name, upload_file = item
            target = folder / name
            with target.open("wb") as out:
                shutil.copyfileobj(upload_file.file, out, 1 << 20)
        paths.append(target)
    if waiting is not None:
        release(waiting)
    threading.Thread(
        target=run_upload,
        args=(request.app, import_id, paths),
        kwargs={
            "user": scope.user,
            "ip": request.client.host if request.client else None,
            "source": source,
            "school": school or None,
            # Whose rows the import may write, checked on every landed row whatever the
            # file's format or header spelling (empowered.sources.scope).
            "limits": ImportLimits(import_schools(scope), may_import_catalogues(scope)),
            "mapping": mapping,
        },
        name=f"empowered-import-{import_id}",
        daemon=True,
    ).start()
    return RedirectResponse(f"/imports/runs/{import_id}", status_code=303)


def _mapping_page(
    request: Request,
    scope: Scope,
    waiting: Held,
    headings: Headings,
    schools: list[str],
    *,
    chosen: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Ask, for each heading nothing reads, what it holds (and a name for the mapping)."""
    chosen = chosen or {}
    problems = problems or {}
    rows = [
        {
            "field": f"column-{i}",
            "heading": heading,
            "chosen": chosen.get(f"column-{i}", IGNORE),
            "error": problems.get(heading, ""),
        }
        for i, heading in enumerate(headings.unread)
    ]
    summary = [{"field": r["field"], "message": r["error"]} for r in rows if r["error"]]
    for field in ("name", "school"):
        if field in problems:
            summary.insert(0, {"field": field, "message": problems[field]})
    with request.app.state.warehouse.reading() as con:
        names = school_names(con, scope=pupil_scope(scope))
    groups: dict[str, list[tuple[str, str]]] = {}
    for choice in choices_for(headings.layout):
        groups.setdefault(choice.group, []).append((choice.value, choice.label))
    return render(
        request,
        scope,
        "imports_mapping.html",
        {
            "title": "Say what the headings hold",
            "file_name": waiting.path.name,
            "token": waiting.token,
            "how": headings.how,
            "rows": rows,
            "groups": groups,
            "ignore": (IGNORE, LABELS[IGNORE]),
            "schools": schools,
            "school_names": names,
            "chosen_school": chosen.get("school", waiting.school),
            "name": chosen.get("name", ""),
            "problems": summary,
            "errors": problems,
        },
        status=status,
    )


@router.post("/imports/mapping", response_class=HTMLResponse)
def save_choices(request: Request, scope: Importer, form: CheckedForm) -> Response:
    """The uploader's choices for a waiting file: saved as the school's mapping, and the
    file imported with it (or imported as it is, or dropped)."""
    waiting = held(request.app, str(form.get("token") or ""), scope.user.user_id)
    if waiting is None:
        raise Forbidden(scope.user, request.url.path, "no such waiting upload", not_found=True)
    action = str(form.get("action") or "save")
    if action == "cancel":
        release(waiting)
        return RedirectResponse("/imports", status_code=303)
    with request.app.state.warehouse.reading() as con:
        schools = schools_to_choose(con, scope=pupil_scope(scope))
    school = str(form.get("school") or "")
    headings = headings_to_ask(waiting.path, school or waiting.school)
    if action == "as_is" or headings is None:
        # As it would have been imported: for the school checked on the upload page.
        return begin_import(request, scope, [waiting.path], "auto", waiting.school, None, waiting)
    fields = {
        f"column-{i}": str(form.get(f"column-{i}") or IGNORE) for i in range(len(headings.unread))
    }
    choices = {h: fields[f"column-{i}"] for i, h in enumerate(headings.unread)}
    typed = str(form.get("name") or "")
    made = make_mapping(typed, headings.base, choices, headings.layout)
    problems = dict(made.problems)
    # The mapping is the school's: a school the policy lets this user import for.
    if school not in schools:
        problems["school"] = "Choose which of your schools this mapping is for."
    if problems or made.mapping is None:
        return _mapping_page(
            request,
            scope,
            waiting,
            headings,
            schools,
            chosen={**fields, "name": typed, "school": school},
            problems=problems,
            status=400,
        )
    ip = request.client.host if request.client else None
    with request.app.state.warehouse.recording() as con, transaction(con):
        mapping = save_mapping(con, school, made.document, saved_by=scope.user.user_id)
        record(con, MappingSaved(school_urn=school, name=mapping.name), user=scope.user, ip=ip)
    return begin_import(request, scope, [waiting.path], "auto", school, mapping, waiting)


@router.get("/imports/runs/{import_id}", response_class=HTMLResponse)
def import_status(request: Request, import_id: int, scope: Importer) -> HTMLResponse:
    ps = pupil_scope(scope)
    with request.app.state.warehouse.reading() as con:
        found = import_runs(con, scope=ps, user_id=scope.user.user_id, import_id=import_id)
        batches = (
            recent_batches(con, scope=ps, import_id=import_id)
            if found and found[0].finished
            else []
        )
    if not found:
        raise Forbidden(
            scope.user, request.url.path, "import outside the user's schools", not_found=True
        )
    context: dict[str, Any] = {"title": "Import", "run": found[0], "batches": batches}
    htmx = bool(request.headers.get("HX-Request"))
    # A refused file's reason can quote a cell of it: the full page is recorded, and so is
    # the fragment the page polls for once it shows the outcome. While the import runs a
    # fragment says only "still importing", every 2 seconds: those are not recorded.
    if not htmx or found[0].finished:
        audit(request, scope, ViewedPage(page=request.url.path))
    if htmx:
        return render(request, scope, "_import_status.html", context)
    return render(request, scope, "imports_status.html", context)


@router.get("/imports/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    batch_id: int,
    scope: Importer,
    page: Annotated[int, Query(ge=1)] = 1,
    ref: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    chosen: str = "",
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        report = batch_report(con, batch_id, scope=pupil_scope(scope), page=page)
        # Rows quarantined because their pupil matched none or several: choose the pupil.
        matches = (
            match_section(con, scope, report, searched=ref or None, search=q.strip())
            if report is not None
            else None
        )
    if report is None:
        raise Forbidden(
            scope.user, request.url.path, "batch outside the user's schools", not_found=True
        )
    # Quarantined values are as the file held them and may be personal data.
    audit(request, scope, ViewedPage(page=f"/imports/{batch_id}"))
    return render(
        request,
        scope,
        "imports_batch.html",
        {
            "title": f"Import report: {report.batch.file_name}",
            "r": report,
            "matches": matches,
            "chosen": chosen if chosen in ("pupil", "not-ours") else "",
        },
    )
