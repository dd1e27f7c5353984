"""The upload page: files imported through the running server, the import report and the
quarantined rows, each kept to the user's schools."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ROLES, Trust, csrf_of, finished_import, observations_csv, one_value

from empowered.settings import Settings
from empowered.web.import_runs import uploads_root

# The secret the small trust was built with (tests/conftest.py), so uploaded rows key to
# the same pupils.
SECRET = "test-pseudonym-key"


@pytest.fixture(scope="module", autouse=True)
def _settings(app_and_users: tuple[Any, dict[str, str]]) -> Iterator[None]:
    app = app_and_users[0]
    app.state.settings = Settings(pseudonym_key=SECRET)  # type: ignore[arg-type]
    yield
    app.state.settings = None


def _upload(
    client: TestClient,
    files: list[tuple[str, bytes]],
    *,
    source: str = "auto",
    school: str = "",
    csrf: str | None = None,
) -> Any:
    token = csrf if csrf is not None else csrf_of(client.get("/imports").text)
    return client.post(
        "/imports",
        data={"csrf": token, "source": source, "school": school},
        files=[("files", (name, body, "text/csv")) for name, body in files],
        follow_redirects=False,
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_importers_open_the_import_pages(clients: dict[str, TestClient], role: str) -> None:
    allowed = role in ("trust_admin", "senco")
    page = clients[role].get("/imports")
    assert page.status_code == (200 if allowed else 403)
    if allowed:
        assert 'enctype="multipart/form-data"' in page.text
        assert '<label for="files">' in page.text and '<option value="ctf"' in page.text
    else:
        assert clients[role].get("/imports/1").status_code == 403
        assert clients[role].get("/imports/runs/1").status_code == 403


def test_a_senco_chooses_only_their_school(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"].get("/imports").text
    assert f'<option value="{web_trust.school}" selected>' in senco
    assert f'<option value="{web_trust.other_school}"' not in senco
    admin = clients["trust_admin"].get("/imports").text
    assert f'<option value="{web_trust.other_school}"' in admin


def test_an_upload_lands_rows_and_reports_its_quarantined_ones(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    body = observations_csv(small_trust, web_trust.school, "UPA", rows=12, bad=2)
    before = one_value(app, "SELECT count(*) FROM core.fct_observation")
    response = _upload(client, [("observations.csv", body)], school=web_trust.school)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/imports/runs/")
    # While it runs (or once done) htmx polls a partial of the status, not a whole page.
    partial = client.get(location, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert 'id="import-status"' in partial.text
    done = finished_import(client, location)
    assert "10 rows accepted, 2 quarantined" in done, done
    assert 'hx-trigger="every 2s"' not in done  # finished: polling stops
    # The accepted rows are in the warehouse, built.
    after = one_value(app, "SELECT count(*) FROM core.fct_observation")
    assert after == before + 10
    assert (
        one_value(app, "SELECT count(*) FROM core.fct_observation WHERE observation_id LIKE 'UPA%'")
        == 10
    )
    # The batch report shows each quarantined row with its file, row, column, value, reason.
    batch = one_value(
        app,
        "SELECT max(batch_id) FROM meta.batches WHERE file_name = 'observations.csv'",
    )
    report = client.get(f"/imports/{batch}")
    assert report.status_code == 200
    text = report.text
    assert "is not a whole number from 1 to 5" in text
    assert "<td>observations.csv</td>" in text and "<td>mood</td>" in text
    assert "<td>banana</td>" in text
    assert '<td class="num">2</td>' in text  # the first bad row: row 2 (the header is row 1)
    # Listed on the import page for this school, with who imported it.
    listing = client.get("/imports").text
    assert f'href="/imports/{batch}"' in listing and "<td>senco</td>" in listing
    # Audited as counts, never the file's name or contents.
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        detail = con.execute(
            "SELECT detail FROM app.audit_log WHERE event = 'imported' ORDER BY event_id DESC"
        ).fetchone()
        viewed = con.execute(
            "SELECT count(*) FROM app.audit_log WHERE event = 'viewed_page' AND page = ?",
            [f"/imports/{batch}"],
        ).fetchone()
    assert detail is not None
    assert json.loads(detail[0]) == {
        "files": 1,
        "rows_accepted": 10,
        "rows_quarantined": 2,
        "via": "upload",
    }
    assert viewed == (1,)

    # The same file again changes nothing.
    raw = one_value(app, "SELECT count(*) FROM raw.canonical_observations")
    again = _upload(client, [("observations.csv", body)], school=web_trust.school)
    assert again.status_code == 303
    text = finished_import(client, again.headers["location"])
    assert "Already imported, so nothing changed: observations.csv." in text
    assert one_value(app, "SELECT count(*) FROM raw.canonical_observations") == raw
    assert one_value(app, "SELECT count(*) FROM core.fct_observation") == after


def test_another_schools_batch_is_not_found(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    admin, senco = clients["trust_admin"], clients["senco"]
    app = admin.app
    body = observations_csv(small_trust, web_trust.other_school, "UPB", rows=5)
    response = _upload(admin, [("observations.csv", body)], school=web_trust.other_school)
    assert response.status_code == 303
    assert "5 rows accepted" in finished_import(admin, response.headers["location"])
    batch = one_value(app, "SELECT max(batch_id) FROM meta.batches")
    assert admin.get(f"/imports/{batch}").status_code == 200
    refused = senco.get(f"/imports/{batch}")
    assert refused.status_code == 404
    assert "The request has been recorded" in refused.text
    # The same answer for a batch that does not exist, and for the trust's first import
    # (its files hold every school's rows, so no one school sees them whole).
    assert senco.get("/imports/999999").status_code == 404
    assert senco.get("/imports/1").status_code == 404
    assert admin.get("/imports/1").status_code == 200
    # Nor is the other school's batch listed, or its upload's status page open.
    assert f'href="/imports/{batch}"' not in senco.get("/imports").text
    assert senco.get(response.headers["location"]).status_code == 404
    refusals = one_value(
        app,
        "SELECT count(*) FROM app.audit_log WHERE event = 'access_refused' AND page = ?",
        [f"/imports/{batch}"],
    )
    assert refusals == 1


def test_a_senco_cannot_import_another_schools_rows(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    raw = one_value(app, "SELECT count(*) FROM raw.canonical_observations")
    body = observations_csv(small_trust, web_trust.other_school, "UPC", rows=5)
    response = _upload(client, [("observations.csv", body)])
    assert response.status_code == 303
    text = finished_import(client, response.headers["location"])
    assert "Not imported." in text and "not one of yours" in text
    assert web_trust.other_school in text
    assert one_value(app, "SELECT count(*) FROM raw.canonical_observations") == raw


def test_unknown_kinds_of_file_and_oversize_files_are_refused(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    client = clients["senco"]
    app = client.app
    runs = one_value(app, "SELECT count(*) FROM app.imports")
    refused = _upload(client, [("setup.exe", b"MZ\x90\x00")])
    assert refused.status_code == 400
    assert "setup.exe is not a kind of file EmpowerED+ imports" in refused.text
    assert 'class="error-summary"' in refused.text and 'id="files-error"' in refused.text
    nothing = _upload(client, [])
    assert nothing.status_code == 400 and "Choose at least one file" in nothing.text
    saved = app.state.settings
    app.state.settings = Settings(pseudonym_key=SECRET, max_upload_bytes=1024)
    try:
        big = _upload(client, [("pupils.csv", b"school_urn,upn\n" + b"x" * 2048)])
    finally:
        app.state.settings = saved
    assert big.status_code == 400
    assert "over the" in big.text and "limit for one upload" in big.text
    # A body bigger than the most files of the largest size is refused before it is read.
    app.state.settings = Settings(pseudonym_key=SECRET, max_upload_bytes=1024)
    try:
        huge = _upload(client, [("pupils.csv", b"x" * (31 * 1024 + (1 << 20)))])
    finally:
        app.state.settings = saved
    assert huge.status_code == 413
    wrong_school = _upload(
        client, [("pupils.csv", b"school_urn,upn\n")], school=web_trust.other_school
    )
    assert wrong_school.status_code == 400 and "Choose one of your schools" in wrong_school.text
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs


def test_an_upload_needs_the_forms_token(clients: dict[str, TestClient]) -> None:
    client = clients["trust_admin"]
    runs = one_value(client.app, "SELECT count(*) FROM app.imports")
    response = _upload(client, [("pupils.csv", b"school_urn,upn\n")], csrf="forged")
    assert response.status_code == 400
    assert "That form had expired" in response.text
    assert one_value(client.app, "SELECT count(*) FROM app.imports") == runs


def test_an_mis_export_takes_the_school_chosen_for_it(
    clients: dict[str, TestClient], small_trust: Path, tmp_path: Path
) -> None:
    """A SEN register report as Arbor or Bromcom exports it (no URN in the file): the school
    chosen on the form is its school, and its planted unknown need is quarantined. (The
    synthetic SIMS schools write a ranked register instead, read from its headings.)"""
    from empowered.synth.school_formats import write_school_formats

    formats = write_school_formats(small_trust, tmp_path / "formats", seed=11)
    urn, mis = next((u, m) for u, m in sorted(formats.sources.items()) if m in ("arbor", "bromcom"))
    export = formats.folder / urn / f"{mis}-{urn}-sen.csv"
    planted = next(m for m in formats.mess if m.file == export.name and m.column == "primary_need")
    client = clients["trust_admin"]
    app = client.app
    response = _upload(client, [(export.name, export.read_bytes())], school=urn)
    assert response.status_code == 303
    text = finished_import(client, response.headers["location"])
    assert "rows accepted" in text and "Not imported" not in text
    batch = one_value(
        app, "SELECT max(batch_id) FROM meta.batches WHERE file_name = ?", [export.name]
    )
    assert (
        one_value(app, "SELECT source FROM meta.batches WHERE batch_id = ?", [batch])
        == f"{mis}-sen"
    )
    assert (
        one_value(
            app,
            "SELECT count(*) FROM raw.canonical_sen_status WHERE _batch_id = ? AND school_urn <> ?",
            [batch, urn],
        )
        == 0
    )
    report = client.get(f"/imports/{batch}").text
    assert "is not a DfE SEN type of need code" in report
    assert f"<td>{planted.value}</td>" in report and "<td>primary need</td>" in report
    assert f'<td class="num">{planted.row}</td>' in report


def _csv_rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode()


def _attack(name: str, small_trust: Path, ours: str, theirs: str) -> tuple[bytes, str, str]:
    """A file a SENCo at ``ours`` could craft to write ``theirs``'s data: its body, the
    column the refusal must name and the value."""
    if name == "pupils.csv":  # rename a pupil there, the school column spelled otherwise
        victim = next(r for r in _csv_rows(small_trust, name) if r["school_urn"] == theirs)
        header = ["School URN" if c == "school_urn" else c for c in victim]
        row = [victim[c] if c != "forename" else "Renamed" for c in victim]
        return _csv_text(header, [row]), "school_urn", theirs
    if name == "observations.csv":
        seen = next(r for r in _csv_rows(small_trust, name) if r["school_urn"] == theirs)
        header = ["school-urn" if c == "school_urn" else c for c in seen]
        row = [seen[c] if c != "observation_id" else "XSCHOOL1" for c in seen]
        return _csv_text(header, [row]), "school_urn", theirs
    if name == "plan_reviews.csv":  # no school column: the plan is theirs
        plan = next(
            r["plan_id"] for r in _csv_rows(small_trust, "plans.csv") if r["school_urn"] == theirs
        )
        header = ["review_id", "plan_id", "outcome_id", "review_date", "progress", "note"]
        return _csv_text(header, [["XREV1", plan, "", "2026-01-10", "good", ""]]), "plan_id", plan
    assert name == "strategies.csv"  # the trust's catalogue
    strategy = _csv_rows(small_trust, name)[0]
    row = [strategy[c] if c != "strategy_name" else "Renamed" for c in strategy]
    return _csv_text(list(strategy), [row]), "strategy_code", strategy["strategy_code"]


@pytest.mark.parametrize(
    "name", ["pupils.csv", "observations.csv", "plan_reviews.csv", "strategies.csv"]
)
def test_a_senco_cannot_write_another_schools_data_whatever_the_file(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path, name: str
) -> None:
    """Issue 10, finding 1: each file is refused whole, the reason names the file, row,
    column and value, nothing lands, the refusal is audited and the upload is deleted."""
    client = clients["senco"]
    app = client.app
    body, column, value = _attack(name, small_trust, web_trust.school, web_trust.other_school)
    batches = one_value(app, "SELECT count(*) FROM meta.batches")
    response = _upload(client, [(name, body)], school=web_trust.school)
    assert response.status_code == 303
    text = finished_import(client, response.headers["location"])
    assert "Not imported." in text
    assert f"{name}, row 2, column &#39;{column}&#39;, value &#39;{value}&#39;" in text, text
    assert one_value(app, "SELECT count(*) FROM meta.batches") == batches
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        entry = con.execute(
            "SELECT username, detail FROM app.audit_log WHERE event = 'import_refused' "
            "ORDER BY event_id DESC LIMIT 1"
        ).fetchone()
    assert entry is not None and entry[0] == "senco"
    detail = json.loads(entry[1])
    assert detail["file"] == name and detail["column"] == column and detail["via"] == "upload"
    assert "nothing was imported" in detail["reason"]
    assert "Renamed" not in entry[1]
    # No copy of the upload stays on disk (the report of a refused import is its message).
    import_id = int(response.headers["location"].rsplit("/", 1)[1])
    folder = uploads_root(app) / f"{import_id:06d}"  # type: ignore[arg-type]
    assert not (folder / name).exists()


def test_the_trust_admin_changes_the_catalogue_and_the_upload_is_then_deleted(
    clients: dict[str, TestClient], small_trust: Path
) -> None:
    client = clients["trust_admin"]
    app = client.app
    strategy = _csv_rows(small_trust, "strategies.csv")[0]
    row = [strategy[c] if c != "category" else "movement" for c in strategy]
    body = _csv_text(list(strategy), [row])
    response = _upload(client, [("strategies.csv", body)])
    assert response.status_code == 303
    text = finished_import(client, response.headers["location"])
    assert "1 rows accepted" in text or "1 row accepted" in text, text
    import_id = int(response.headers["location"].rsplit("/", 1)[1])
    folder = uploads_root(app) / f"{import_id:06d}"  # type: ignore[arg-type]
    # Only the import report (counts per file and reason, no cell) is kept.
    kept = [p.name for p in folder.iterdir()]
    assert kept and all(n.startswith("import-") for n in kept), kept
    for path in folder.iterdir():
        assert b"movement" not in path.read_bytes()


def test_error_messages_name_no_server_folder(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """A file DuckDB cannot read: its error names the file by its full path on the server
    (the uploads folder, beside the warehouse file); the page shows the file's name only."""
    client = clients["senco"]
    app = client.app
    body = b"school_urn,upn\n" + b'"' + b"x" * 50 + b"\n" + b"\xff\xfe,\x00\n" * 3
    response = _upload(client, [("pupils.csv", body)], school=web_trust.school)
    assert response.status_code == 303
    text = finished_import(client, response.headers["location"])
    assert "Not imported." in text and "pupils.csv" in text
    root = uploads_root(app)  # type: ignore[arg-type]
    for folder in (root, root.parent, Path(tempfile.gettempdir())):
        assert str(folder) not in text
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        message = con.execute(
            "SELECT message FROM app.imports ORDER BY import_id DESC LIMIT 1"
        ).fetchone()
        failed = con.execute(
            "SELECT detail FROM app.audit_log WHERE event = 'import_failed' "
            "ORDER BY event_id DESC LIMIT 1"
        ).fetchone()
    assert message is not None and str(root.parent) not in message[0]
    assert failed is not None
    assert json.loads(failed[0])["reason"] == "could not be read as CSV"


def test_a_chunked_upload_is_stopped_at_the_limit_not_read_whole(
    clients: dict[str, TestClient],
) -> None:
    """A body sent in chunks declares no length: it is counted as it arrives and reading
    stops at the limit (before the fix the whole body was spooled, then refused)."""
    client = clients["senco"]
    app = client.app
    token = csrf_of(client.get("/imports").text)
    saved = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = Settings(pseudonym_key=SECRET, max_upload_bytes=1024)  # type: ignore[attr-defined]
    limit = 30 * 1024 + (1 << 20)
    chunk = b"x" * (64 * 1024)
    boundary = "empoweredboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="pupils.csv"'
        "\r\nContent-Type: text/csv\r\n\r\n"
    ).encode()
    chunks = 200  # 12.5 MB in all, ten times the limit
    sent = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        body = head if sent == 0 else chunk
        sent += 1
        return {"type": "http.request", "body": body, "more_body": sent <= chunks}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/imports",
        "raw_path": b"/imports",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"transfer-encoding", b"chunked"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    runs = one_value(app, "SELECT count(*) FROM app.imports")
    try:
        asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    finally:
        app.state.settings = saved  # type: ignore[attr-defined]
    start = next(m for m in messages if m["type"] == "http.response.start")
    assert start["status"] == 413
    read = len(head) + (sent - 1) * len(chunk)
    assert read <= limit + len(chunk), f"read {read:,} bytes of a {limit:,}-byte limit"
    assert sent < chunks / 5
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs


def test_the_api_description_needs_sign_in(
    app_and_users: tuple[Any, dict[str, str]], clients: dict[str, TestClient]
) -> None:
    app = app_and_users[0]
    stranger = TestClient(app)
    response = stranger.get("/api/openapi.json", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert stranger.get(page, follow_redirects=False).status_code in (303, 404)
        assert clients["senco"].get(page).status_code == 404
    signed_in = clients["teacher"].get("/api/openapi.json")
    assert signed_in.status_code == 200 and "/imports" in signed_in.json()["paths"]
