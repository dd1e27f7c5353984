"""The register spreadsheet is written once per build, scope and filters, and kept for the
downloads after (the whole trust's took a second to write): each download is still
audited, and a different scope or filter never gets another's workbook."""

from __future__ import annotations

import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.slow


def sheet_names(body: bytes) -> list[str]:
    return list(CalamineWorkbook.from_filelike(io.BytesIO(body)).sheet_names)


def exports(app: FastAPI) -> int:
    with app.state.warehouse.reading() as con:
        found = con.execute(
            "SELECT count(*) FROM app.audit_log WHERE event = 'exported'"
        ).fetchone()
    return int(found[0]) if found else 0


def test_a_second_download_is_the_same_workbook_and_is_audited_again(
    app_and_users: tuple[FastAPI, dict[str, str]], clients: dict[str, TestClient]
) -> None:
    app, _ = app_and_users
    senco = clients["senco"]
    before = exports(app)
    first = senco.get("/register.xlsx")
    kept = len(app.state.workbooks._values)
    second = senco.get("/register.xlsx")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(app.state.workbooks._values) == kept, "the second was served from memory"
    assert exports(app) == before + 2, "every download is in the audit log"


def test_another_scope_or_filter_gets_a_workbook_of_its_own(
    clients: dict[str, TestClient],
) -> None:
    senco = clients["senco"]
    own = senco.get("/register.xlsx").content
    shared = senco.get("/register.xlsx?share=yes").content
    assert "Pupils" in sheet_names(own)
    assert "Pupils" not in sheet_names(shared), "the shared copy names nobody"
    filtered = senco.get("/register.xlsx?year=7").content
    assert filtered != own
    trust = clients["trust_admin"].get("/register.xlsx").content
    assert trust != own
