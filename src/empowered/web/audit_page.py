"""The audit log page: search (who, which pupil, what, between which dates), a page at a
time, and the same search as a CSV file.

Which entries a person sees is ``access.audit_search``'s decision from their scope: the
whole trust for a trust admin; for a school's safeguarding lead, their school's staff and
trust-level accounts' dealings with their school's pupils. Downloading the CSV is itself
audited. Its cells go through ``exports.safe_cell``, like every spreadsheet we write.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from empowered.access.audit import EVENT_TYPES, Exported
from empowered.access.audit_search import Search, parse_search, search_log
from empowered.access.policy import Scope
from empowered.exports import safe_cell
from empowered.web.deps import needs
from empowered.web.render import AUDIT, Pager, audit, render

router = APIRouter()
PAGE_SIZE = 50
# A CSV holds at most this many entries: narrow the search for more.
CSV_LIMIT = 100_000
AuditScope = Annotated[Scope, Depends(needs(*AUDIT))]
FIELDS = ("user", "pupil", "event", "since", "until")
CSV_HEADER = (
    "when (universal time)",
    "user",
    "role",
    "event",
    "pupil",
    "page",
    "detail",
    "address",
)


def _params(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in FIELDS}


def _query(params: dict[str, str]) -> str:
    return urlencode([(k, v) for k, v in params.items() if v])


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, scope: AuditScope) -> HTMLResponse:
    params = _params(request)
    search, errors = parse_search(params)
    try:
        page = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        page = 1
    with request.app.state.warehouse.reading() as con:
        entries, total = search_log(
            con, search, schools=scope.schools, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    pages = max(1, -(-total // PAGE_SIZE))
    pager = Pager(min(page, pages), pages, total, PAGE_SIZE, _query(params))
    return render(
        request,
        scope,
        "audit.html",
        {
            "title": "Audit log",
            "entries": entries,
            "pager": pager,
            "search": params,
            "searching": search.active,
            "errors": errors,
            "events": sorted(EVENT_TYPES),
            "query": _query(params),
            "total": total,
        },
    )


def _csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in entries:
        row = (
            e["at"].strftime("%Y-%m-%d %H:%M:%S"),
            e["username"] or "command line",
            e["role"] or "",
            e["event"],
            e["pupil_key"] or "",
            e["page"] or "",
            "" if e["detail"] is None else json.dumps(e["detail"], sort_keys=True),
            e["ip"] or "",
        )
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


@router.get("/audit.csv")
def audit_csv(request: Request, scope: AuditScope) -> Response:
    search, _ = parse_search(_params(request))
    with request.app.state.warehouse.reading() as con:
        entries, _total = search_log(con, search, schools=scope.schools, limit=CSV_LIMIT)
    audit(request, scope, Exported(page="/audit", what="audit.csv", rows=len(entries)))
    return Response(
        # A byte-order mark so that Excel reads the file as UTF-8.
        "\ufeff" + _csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-log-{date.today()}.csv"'},
    )


__all__ = ["Search", "router"]
