import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from empowered.crypto import BlindIndex, DecryptionError, IdentityCipher
from empowered.keys import PUBLISHED_SECRETS, KeyProblem, new_identity_key
from empowered.settings import Settings


def test_development_defaults_work(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, key_file=tmp_path / "k.keys")
    assert settings.environment == "development"
    assert str(settings.warehouse) == "empowered.duckdb"


@pytest.mark.parametrize("published", sorted(PUBLISHED_SECRETS))
@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_a_published_secret_is_refused_in_every_environment(
    published: str, environment: str
) -> None:
    with pytest.raises(ValidationError, match="published"):
        Settings(_env_file=None, environment=environment, pseudonym_key=published)
    with pytest.raises(ValidationError, match="published"):
        Settings(_env_file=None, environment=environment, session_secret=published)


def test_missing_secrets_are_made_at_random_in_a_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMPOWERED_KEY_FILE", raising=False)
    path = tmp_path / "trust.duckdb.keys"
    settings = Settings(_env_file=None, warehouse=tmp_path / "trust.duckdb")
    assert settings.key_path == path
    keys = settings.keys()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys == settings.keys()  # the same file read again, not new secrets
    other = Settings(_env_file=None, warehouse=tmp_path / "other.duckdb").keys()
    assert other.pseudonym_key != keys.pseudonym_key
    assert other.session_secret != keys.session_secret
    assert other.identity_key != keys.identity_key
    assert len(keys.identity_key) == 32


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.keys"
    Settings(_env_file=None, key_file=path).keys()
    path.chmod(0o644)
    with pytest.raises(KeyProblem, match="chmod 600"):
        Settings(_env_file=None, key_file=path).keys()


def test_a_published_secret_in_the_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.keys"
    Settings(_env_file=None, key_file=path).keys()
    contents = json.loads(path.read_text())
    contents["session_secret"] = sorted(PUBLISHED_SECRETS)[0]
    path.write_text(json.dumps(contents))
    with pytest.raises(KeyProblem, match="published"):
        Settings(_env_file=None, key_file=path).keys()


def test_production_accepts_its_own_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EMPOWERED_ENVIRONMENT", "production")
    monkeypatch.setenv("EMPOWERED_PSEUDONYM_KEY", "a-school-secret")
    monkeypatch.setenv("EMPOWERED_SESSION_SECRET", "a-session-secret")
    monkeypatch.setenv("EMPOWERED_WAREHOUSE", "/data/trust.duckdb")
    monkeypatch.setenv("EMPOWERED_KEY_FILE", str(tmp_path / "k.keys"))
    settings = Settings(_env_file=None)
    assert settings.pseudonym_secret() == "a-school-secret"
    assert settings.keys().session_secret == "a-session-secret"
    assert str(settings.warehouse) == "/data/trust.duckdb"
    assert "a-school-secret" not in repr(settings)
    assert "a-session-secret" not in repr(settings)


def test_the_import_size_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERED_MAX_IMPORT_BYTES", "1000")
    assert Settings(_env_file=None).max_import_bytes == 1000


def test_identity_round_trips_and_tampering_is_detected() -> None:
    old, new = new_identity_key(), new_identity_key()
    before = IdentityCipher([old])
    token = before.encrypt("Example Forename")
    assert token is not None and "Example" not in token
    assert before.encrypt("Example Forename") != token  # a fresh nonce every time
    # After a rotation the old key still reads what it wrote, until re-encrypted.
    after = IdentityCipher([new, old])
    assert after.decrypt(token) == "Example Forename"
    assert not after.written_with_current_key(token)
    assert IdentityCipher([new]).encrypt(None) is None
    with pytest.raises(DecryptionError):
        IdentityCipher([new]).decrypt(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        before.decrypt(tampered)


def test_blind_indexes_are_keyed_and_typed() -> None:
    one, two = BlindIndex("secret-one"), BlindIndex("secret-two")
    assert one.of("upn", "A123") == one.of("upn", "A123")
    assert one.of("upn", "A123") != two.of("upn", "A123")
    assert one.of("upn", "A123") != one.of("mis_id", "A123")
    assert one.of("upn", None) is None


def test_the_command_lines_warehouse_brings_its_own_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two warehouses must never share a key file: rotating one would strand the other."""
    from typer.testing import CliRunner

    from empowered.cli import app
    from empowered.settings import get_settings, use_warehouse

    monkeypatch.delenv("EMPOWERED_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        for name in ("one.duckdb", "two.duckdb"):
            result = CliRunner().invoke(app, ["keys", "rotate", "--warehouse", name])
            assert result.exit_code == 0, result.output
        assert (tmp_path / "one.duckdb.keys").exists() and (tmp_path / "two.duckdb.keys").exists()
        assert not (tmp_path / "empowered.duckdb.keys").exists()
        assert get_settings().key_path == Path("two.duckdb.keys")
    finally:
        use_warehouse(None)
