"""Subject access: the export of one pupil holds their rows from every layer and nobody
else's, decrypts identity, defuses spreadsheet formulas and is audited.

Checked generically: every table in the warehouse (from the catalogue) that holds the
pupil's key must be in the export with exactly those rows, and their raw rows of every
source (found by the ids staging gave them) must be in it too."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import duckdb
import pytest
from pupil_fixtures import last_record_day, mentions, plant
from typer.testing import CliRunner

from empowered.access.audit import read_log
from empowered.cli import app
from empowered.crypto import IdentityCipher
from empowered.settings import get_settings

pytestmark = pytest.mark.slow


def _read(zip_path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(zip_path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()
            if name.endswith(".csv")
        }


def test_the_export_holds_every_layer_of_one_pupil_and_no_one_else(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    planted = plant(con, tmp_path, last_record_day(con))
    p = planted.pupil
    cipher = IdentityCipher(get_settings().keys().identity_keys)
    # Identity stored as ciphertext comes out readable; a note shaped like a formula does
    # not run when the file is opened.
    con.execute(
        "UPDATE core.pupil_identity SET forename = ? WHERE pupil_key = ?",
        [cipher.encrypt("Testforename"), p],
    )
    con.execute(
        "INSERT INTO app.pupil_notes (pupil_key, note, written_by, written_at) "
        "VALUES (?, '=HYPERLINK(\"http://example.invalid\")', 1, now())",
        [p],
    )
    held = mentions(con, (p,))
    [(path,)] = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()
    con.close()

    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["subject-access", p, "--out", str(out), "--warehouse", path])
    assert done.exit_code == 0, done.output
    [zip_path] = out.glob("subject-access-*.zip")
    files = _read(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist()).decode("utf-8-sig")
        summary = archive.read("summary.html").decode()

    # Every table that holds their key is exported, with exactly those rows.
    for table, n in held.items():
        name = table.replace(".", "/", 1) + ".csv"
        assert name in files, table
        assert len(files[name]) == n, (table, len(files[name]), n)
    for layer in ("raw", "staging", "core", "marts", "quarantine", "app"):
        assert any(name.startswith(f"{layer}/") for name in files), layer
    # Their raw rows of every source (captures included), by the ids staging gave them.
    for entity, ids in planted.raw_rows.items():
        rows = files[f"raw/canonical_{entity}.csv"]
        got = {(int(r["_batch_id"]), int(r["_source_row"]), int(r["_source_item"])) for r in rows}
        assert got == ids, entity
    assert files["quarantine/rejected_rows.csv"]
    # Nobody else's rows.
    for name, rows in files.items():
        for row in rows:
            if "pupil_key" in row:
                assert row["pupil_key"] == p, name
    assert planted.other not in everything
    # Identity decrypted, formulas defused, the summary readable.
    [identity] = files["core/pupil_identity.csv"]
    assert identity["forename"] == "Testforename" and "enc1:" not in everything
    assert any(r["note"].startswith("'=HYPERLINK") for r in files["app/pupil_notes.csv"])
    assert "How long it is kept" in summary and "Where it came from" in summary
    assert "Testforename" in summary
    # Audited: the key and counts, nothing identifying.
    check = duckdb.connect(path)
    [entry] = read_log(check, event="subject_access_export")
    check.close()
    assert entry["pupil_key"] == p and entry["user_id"] is None
    assert entry["detail"]["rows"] == sum(len(r) for n, r in files.items() if n != "sources.csv")
    assert "Testforename" not in str(entry)
    assert not any(value in str(entry) for value in planted.identifiers)


def test_a_key_nobody_has_exports_nothing(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    [(path,)] = warehouse_copy.execute(
        "SELECT path FROM duckdb_databases() WHERE NOT internal"
    ).fetchall()
    warehouse_copy.close()
    out = Path(path).parent / "none"
    done = CliRunner().invoke(
        app, ["subject-access", "P0000000000000000", "--out", str(out), "--warehouse", path]
    )
    assert done.exit_code == 1 and "Nothing is held" in done.output
    assert not out.exists() or not any(out.iterdir())
