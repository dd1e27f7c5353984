"""One typed settings object for the whole application.

Values come from the environment (prefix ``EMPOWERED_``) or a ``.env`` file. Secrets have
development defaults so that ``empowered demo`` works out of the box, but those defaults are
refused in any other environment: a real school must set its own.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key-not-for-real-pupils"
DEVELOPMENT_SESSION_SECRET = "development-only-session-secret-not-for-real-pupils"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPOWERED_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    warehouse: Path = Field(default=Path("empowered.duckdb"))
    # Keyed hash secret that turns a UPN into the pseudonymous pupil key. Changing it
    # re-keys every pupil, so a school sets it once and keeps it with its backups.
    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    # Files bigger than this are refused before they are read (a CTF or a year's register
    # export is a few MB; 200 MB leaves room while stopping a runaway upload).
    max_import_bytes: int = 200 * 1024 * 1024
    # The school's own attendance and safeguarding trigger rules (a copy of
    # warehouse/trigger_rules.yml); unset means the shipped defaults.
    trigger_rules: Path | None = None
    # Signs the web app's session cookies; changing it signs everyone out.
    session_secret: SecretStr = SecretStr(DEVELOPMENT_SESSION_SECRET)
    duckdb_threads: int | None = None
    duckdb_memory_limit: str | None = None
    # A folder the running server watches for scheduled MIS reports (as ``empowered
    # watch`` does); unset means no inbox. Files land in ``imported/`` or ``failed/``.
    inbox: Path | None = None
    # The largest file the upload page accepts (smaller than max_import_bytes: a browser
    # upload is held in full before it is checked).
    max_upload_bytes: int = 50 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if (
            self.environment == "production"
            and self.pseudonym_key.get_secret_value() == DEVELOPMENT_PSEUDONYM_KEY
        ):
            raise ValueError(
                "EMPOWERED_PSEUDONYM_KEY must be set to a secret of your own in production"
            )
        if (
            self.environment == "production"
            and self.session_secret.get_secret_value() == DEVELOPMENT_SESSION_SECRET
        ):
            raise ValueError(
                "EMPOWERED_SESSION_SECRET must be set to a secret of your own in production"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
