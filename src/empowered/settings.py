"""One typed settings object for the whole application.

Values come from the environment (prefix ``EMPOWERED_``) or a ``.env`` file. Secrets have
no defaults in the code: each comes from its setting or from the key file kept beside the
warehouse (``empowered.keys``), made with random secrets on first use (see ``keys.py``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from empowered.keys import Keys, load_keys, refuse_published


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPOWERED_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    warehouse: Path = Field(default=Path("empowered.duckdb"))
    # Keyed hash secret that turns a UPN into the pseudonymous pupil key. Changing it
    # re-keys every pupil, so a school sets it once and keeps it with its backups. Unset:
    # the key file's.
    pseudonym_key: SecretStr | None = None
    # The AES-256 key (32 bytes, base64) that encrypts pupil identity. Unset: the key file's.
    identity_key: SecretStr | None = None
    # The AES-256 key (32 bytes, base64) that encrypts backups. Unset: the key file's
    # (added on the first backup). Keep it apart from the backups (empowered.backup.keys).
    backup_key: SecretStr | None = None
    # Where the secrets not given above are kept (0600, made on first use); by default
    # beside the warehouse file, as <warehouse>.keys. Back it up apart from the warehouse.
    key_file: Path | None = None
    # Files bigger than this are refused before they are read (a CTF or a year's register
    # export is a few MB; 200 MB leaves room while stopping a runaway upload).
    max_import_bytes: int = 200 * 1024 * 1024
    # The school's own attendance and safeguarding trigger rules (a copy of
    # warehouse/trigger_rules.yml); unset means the shipped defaults.
    trigger_rules: Path | None = None
    # Signs the web app's session cookies; changing it signs everyone out. Unset: the key
    # file's.
    session_secret: SecretStr | None = None
    duckdb_threads: int | None = None
    duckdb_memory_limit: str | None = None
    # A folder the running server watches for scheduled MIS reports (as ``empowered
    # watch`` does); unset means no inbox. Files land in ``imported/`` or ``failed/``.
    inbox: Path | None = None
    # The school (URN) of files dropped at the top of the inbox whose export does not say
    # which school it is (a SIMS student list): a one-school setup's default. A file in a
    # folder named by a URN belongs to that school whatever this says.
    inbox_school: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    # The largest file the upload page accepts (smaller than max_import_bytes: a browser
    # upload is held in full before it is checked).
    max_upload_bytes: int = 50 * 1024 * 1024
    # Scheduled backups (web/backup_schedule.py): the folder the running server backs the
    # warehouse up into; unset means the server takes none by itself. Keep it on another
    # disk (or a share) than the warehouse: a backup beside the file dies with the disk.
    # The backup taken before an upgrade goes here too (unset: <warehouse>.backups).
    backup_dir: Path | None = None
    # A backup is taken when the newest in backup_dir is older than this (and at start-up
    # when there is none); a failed one is tried again this long after.
    backup_interval_hours: float = Field(default=24.0, gt=0)
    # How many backups the folder keeps: the oldest beyond are deleted once a new one has
    # succeeded (so the newest good one is never deleted).
    backup_keep: int = Field(default=14, ge=1)
    # The termly register review packs (web/review_pack_schedule.py): the folder the running
    # server writes each school's pack and the trust's into, once, in the two weeks before
    # each term starts; unset means it writes none by itself.
    review_pack_dir: Path | None = None

    @model_validator(mode="after")
    def _refuse_published_secrets(self) -> Settings:
        refuse_published("EMPOWERED_PSEUDONYM_KEY", _value(self.pseudonym_key))
        refuse_published("EMPOWERED_SESSION_SECRET", _value(self.session_secret))
        return self

    @property
    def key_path(self) -> Path:
        return self.key_file or self.warehouse.with_name(self.warehouse.name + ".keys")

    def keys(self) -> Keys:
        """The secrets in force (the settings given, the key file for the rest)."""
        return load_keys(
            self.key_path,
            pseudonym_key=_value(self.pseudonym_key),
            session_secret=_value(self.session_secret),
            identity_key=_value(self.identity_key),
        )

    def pseudonym_secret(self) -> str:
        return self.keys().pseudonym_key


def _value(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


# The warehouse file a command line chose with --warehouse, for the rest of the process.
_chosen_warehouse: Path | None = None


def use_warehouse(path: Path | None) -> None:
    """Make ``path`` the warehouse of this process's settings (the CLI's ``--warehouse``), so
    that the key file beside it is the one used, not the default warehouse's: two warehouses
    must never share a key file (rotating one would strand the other's identity)."""
    global _chosen_warehouse
    _chosen_warehouse = path
    get_settings.cache_clear()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    if _chosen_warehouse is not None:
        return settings.model_copy(update={"warehouse": _chosen_warehouse})
    return settings
