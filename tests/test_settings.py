import pytest
from pydantic import ValidationError

from empowered.settings import Settings


def test_development_defaults_work() -> None:
    settings = Settings(_env_file=None)
    assert settings.environment == "development"
    assert str(settings.warehouse) == "empowered.duckdb"


def test_production_refuses_the_development_pseudonym_key() -> None:
    with pytest.raises(ValidationError, match="EMPOWERED_PSEUDONYM_KEY"):
        Settings(_env_file=None, environment="production")


def test_production_accepts_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERED_ENVIRONMENT", "production")
    monkeypatch.setenv("EMPOWERED_PSEUDONYM_KEY", "a-school-secret")
    monkeypatch.setenv("EMPOWERED_SESSION_SECRET", "a-session-secret")
    monkeypatch.setenv("EMPOWERED_WAREHOUSE", "/data/trust.duckdb")
    settings = Settings(_env_file=None)
    assert settings.pseudonym_key.get_secret_value() == "a-school-secret"
    assert str(settings.warehouse) == "/data/trust.duckdb"
    assert "a-school-secret" not in repr(settings)


def test_the_import_size_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERED_MAX_IMPORT_BYTES", "1000")
    assert Settings(_env_file=None).max_import_bytes == 1000


def test_production_refuses_the_development_session_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMPOWERED_ENVIRONMENT", "production")
    monkeypatch.setenv("EMPOWERED_PSEUDONYM_KEY", "a-school-secret")
    monkeypatch.delenv("EMPOWERED_SESSION_SECRET", raising=False)
    with pytest.raises(ValueError, match="EMPOWERED_SESSION_SECRET"):
        Settings(_env_file=None)
    monkeypatch.setenv("EMPOWERED_SESSION_SECRET", "a-session-secret")
    assert "a-session-secret" not in repr(Settings(_env_file=None))
