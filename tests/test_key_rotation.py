"""``empowered keys rotate``: after it, every value decrypts with the new key alone and no
value written with the old key remains; the old key is gone from the key file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.cli import app
from empowered.crypto import DecryptionError, IdentityCipher, key_id
from empowered.identity import IdentityReader
from empowered.keys import load_keys, read_key_file, write_key_file
from empowered.rotation import ciphertext_columns, remaining_under_old_keys, rotate_identity_key
from empowered.settings import get_settings
from identity_keys import TEST_IDENTITY_KEY, TEST_KEYS, key_file_contents


def identities(
    con: duckdb.DuckDBPyConnection, reader: IdentityReader
) -> dict[str, tuple[Any, ...]]:
    rows = con.execute(
        "SELECT pupil_key, upn, forename, surname, date_of_birth FROM core.pupil_identity"
    ).fetchall()
    return {
        key: (reader.upn(upn), reader.name({"forename": f, "surname": s}), reader.date_of_birth(d))
        for key, upn, f, s, d in rows
    }


def every_ciphertext(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    for schema, table, column in ciphertext_columns(con):
        yield from (
            r[0]
            for r in con.execute(
                f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                f"WHERE \"{column}\" LIKE 'enc1:%'"
            ).fetchall()
        )


@pytest.fixture
def copy(built_warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the built small trust and a key file holding the keys it was built with."""
    target = tmp_path / "rotate.duckdb"
    shutil.copy(built_warehouse, target)
    key_file = tmp_path / "rotate.keys"
    write_key_file(key_file, key_file_contents())
    return target, key_file


def test_rotation_reencrypts_everything_and_drops_the_old_key(copy: tuple[Path, Path]) -> None:
    path, key_file = copy
    con = duckdb.connect(str(path))
    before = identities(con, IdentityReader(TEST_KEYS))
    columns = {f"{s}.{t}.{c}" for s, t, c in ciphertext_columns(con)}
    # Identity is encrypted in every layer, so every layer is rotated.
    assert {"raw.canonical_pupils.forename", "raw.canonical_attendance.upn"} <= columns
    assert "core.pupil_identity.date_of_birth" in columns
    assert any(c.startswith("staging.") for c in columns)

    rotated = rotate_identity_key(con, key_file)

    keys = load_keys(key_file)
    assert keys.identity_keys == (keys.identity_key,)  # the old key is gone from the file
    assert keys.identity_key != TEST_IDENTITY_KEY
    assert "retired_identity_keys" in read_key_file(key_file)
    assert rotated.new_key_id == key_id(keys.identity_key) and rotated.values > 0
    assert remaining_under_old_keys(con, key_id(keys.identity_key)) == 0
    # Everything decrypts with the new key alone, and nothing with the old one.
    new_only, old_only = IdentityCipher(keys.identity_keys), IdentityCipher((TEST_IDENTITY_KEY,))
    values = list(every_ciphertext(con))
    assert len(values) > 1000
    for value in values:
        new_only.decrypt(value)
        with pytest.raises(DecryptionError):
            old_only.decrypt(value)
    assert identities(con, IdentityReader(keys)) == before


def test_keys_rotate_command(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, key_file = copy
    monkeypatch.setenv("EMPOWERED_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["keys", "rotate", "--warehouse", str(path)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "old key is gone" in result.output
    keys = load_keys(key_file)
    assert keys.identity_key != TEST_IDENTITY_KEY and len(keys.identity_keys) == 1
    with duckdb.connect(str(path), read_only=True) as check:
        assert remaining_under_old_keys(check, key_id(keys.identity_key)) == 0


def test_rotation_reseals_visiting_professionals_reports_and_notes(
    copy: tuple[Path, Path],
) -> None:
    """A contribution's title, note and file name (text ciphertext) and its report (sealed
    bytes) are rotated with the rest (issue 13, item 6)."""
    from datetime import date

    from empowered import contributions as contrib
    from empowered.synth.app_contributions import minimal_pdf
    from empowered.warehouse.connection import open_warehouse

    path, key_file = copy
    con = open_warehouse(path)
    school, upn = con.execute(
        "SELECT school_urn, upn FROM core.pupil_identity ORDER BY pupil_key LIMIT 1"
    ).fetchone() or ("", "")
    pdf = minimal_pdf(["A made-up report."])
    checked = contrib.check_contribution(
        {"area": "wellbeing", "title": "Visit", "note": "Made-up note.", "visited_on": ""},
        areas=("wellbeing",),
        today=date.today(),
        report=contrib.Report("report.pdf", pdf),
    )
    checked.errors.clear()  # no date needed here: landed only, never built
    checked.visited_on = date.today()
    author = contrib.Author("app-user-1", "visiting_professional", None)
    landed = contrib.land_contribution(
        con,
        checked,
        school_urn=str(school),
        upn=str(IdentityReader(TEST_KEYS).upn(upn)),
        author=author,
        keys=TEST_KEYS,
    )
    assert "raw.canonical_contributions.note" in {
        f"{s}.{t}.{c}" for s, t, c in ciphertext_columns(con)
    }
    rotate_identity_key(con, key_file)
    keys = load_keys(key_file)
    assert remaining_under_old_keys(con, key_id(keys.identity_key)) == 0
    assert landed.file_sha256 is not None
    sealed = contrib.sealed_report(con, landed.file_sha256)
    assert sealed is not None and IdentityReader(keys).report(sealed) == pdf
    with pytest.raises(DecryptionError):
        IdentityCipher((TEST_IDENTITY_KEY,)).open_file(sealed)
    note = con.execute("SELECT note FROM raw.canonical_contributions").fetchone()
    assert note is not None and IdentityReader(keys).text(note[0]) == "Made-up note."
