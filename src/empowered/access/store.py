"""Where users and the audit log live: the schema ``app`` inside the warehouse file.

Model builds only ``CREATE OR REPLACE`` tables in the layer schemas (raw, staging, core,
marts...), so ``app`` survives every build; a test holds the build to that.
"""

from __future__ import annotations

import duckdb

SCHEMA = "app"

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    "CREATE SEQUENCE IF NOT EXISTS app.user_seq START 1",
    "CREATE SEQUENCE IF NOT EXISTS app.audit_seq START 1",
    """CREATE TABLE IF NOT EXISTS app.users (
        user_id BIGINT PRIMARY KEY DEFAULT nextval('app.user_seq'),
        username VARCHAR NOT NULL UNIQUE,
        role VARCHAR NOT NULL,
        school_urn VARCHAR,
        password_hash VARCHAR NOT NULL,
        totp_secret VARCHAR,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TIMESTAMP,
        expires_on DATE,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMP NOT NULL,
        password_changed_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS app.user_groups (
        user_id BIGINT NOT NULL,
        group_code VARCHAR NOT NULL,
        PRIMARY KEY (user_id, group_code)
    )""",
    """CREATE TABLE IF NOT EXISTS app.user_pupils (
        user_id BIGINT NOT NULL,
        pupil_key VARCHAR NOT NULL,
        PRIMARY KEY (user_id, pupil_key)
    )""",
    """CREATE TABLE IF NOT EXISTS app.user_areas (
        user_id BIGINT NOT NULL,
        area VARCHAR NOT NULL,
        PRIMARY KEY (user_id, area)
    )""",
    # Append-only: audit.record() is the one writer, and a test checks nothing else in
    # the package inserts, updates or deletes here.
    """CREATE TABLE IF NOT EXISTS app.audit_log (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('app.audit_seq'),
        "at" TIMESTAMP NOT NULL,  -- quoted: AT is a keyword in DuckDB 2.0
        user_id BIGINT,
        username VARCHAR,
        role VARCHAR,
        event VARCHAR NOT NULL,
        pupil_key VARCHAR,
        page VARCHAR,
        detail VARCHAR,
        ip VARCHAR,
        prev_hash VARCHAR,
        entry_hash VARCHAR
    )""",
    # The ADD COLUMN lines here are how releases before layout versions changed a table;
    # migration 1 runs them once on such a file. From now on a change to an existing table
    # is a numbered migration (warehouse/migrations.py) and the CREATE above says the new
    # layout.
    # The hash chain (access/audit.py): warehouses made before it gain the two columns;
    # their older entries stay unchained, and ``audit verify`` says how many.
    "ALTER TABLE app.audit_log ADD COLUMN IF NOT EXISTS prev_hash VARCHAR",
    "ALTER TABLE app.audit_log ADD COLUMN IF NOT EXISTS entry_hash VARCHAR",
    # The newest entry's id and hash, updated with every entry: a deleted tail shows as a
    # head the log no longer reaches, and two writers racing on a stale view of the log
    # collide here (a write conflict) instead of forking the chain.
    """CREATE TABLE IF NOT EXISTS app.audit_head (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        event_id BIGINT NOT NULL,
        entry_hash VARCHAR NOT NULL
    )""",
    # Runs of entries the retention policy removed: the chain steps over each run from the
    # hash before it to the hash of its last entry. Ids, counts and hashes only.
    """CREATE TABLE IF NOT EXISTS app.audit_gaps (
        first_id BIGINT NOT NULL,
        last_id BIGINT NOT NULL,
        entries BIGINT NOT NULL,
        prev_hash VARCHAR NOT NULL,
        last_hash VARCHAR NOT NULL,
        removed_at TIMESTAMP NOT NULL
    )""",
    # The one-sentence note on a pupil's page: every version kept, the newest shown.
    "CREATE SEQUENCE IF NOT EXISTS app.pupil_note_seq START 1",
    """CREATE TABLE IF NOT EXISTS app.pupil_notes (
        note_id BIGINT PRIMARY KEY DEFAULT nextval('app.pupil_note_seq'),
        pupil_key VARCHAR NOT NULL,
        note VARCHAR NOT NULL,
        written_by BIGINT NOT NULL,
        written_at TIMESTAMP NOT NULL
    )""",
    # The safeguarding lead's review of each trigger, as an append-only event log: the
    # current status is derived from it (web/triggers.py, views/triggers.py). trigger_id is
    # stable across builds for the same firing (school, pupil, rule, first day fired).
    "CREATE SEQUENCE IF NOT EXISTS app.trigger_review_seq START 1",
    """CREATE TABLE IF NOT EXISTS app.trigger_reviews (
        review_id BIGINT PRIMARY KEY DEFAULT nextval('app.trigger_review_seq'),
        trigger_id VARCHAR NOT NULL,
        school_urn VARCHAR NOT NULL,
        pupil_key VARCHAR NOT NULL,
        rule_id VARCHAR NOT NULL,
        fired_on DATE NOT NULL,
        kind VARCHAR NOT NULL,  -- acknowledged | action_added | decision_recorded
        action_text VARCHAR,
        action_owner VARCHAR,
        action_due DATE,
        decision VARCHAR,
        note VARCHAR,
        user_id BIGINT,
        username VARCHAR,
        "at" TIMESTAMP NOT NULL
    )""",
    # Imports made through the running server (the upload page, the inbox): who, when,
    # how it went, and the batches each landed (meta.batches has the files and rows).
    "CREATE SEQUENCE IF NOT EXISTS app.import_seq START 1",
    """CREATE TABLE IF NOT EXISTS app.imports (
        import_id BIGINT PRIMARY KEY,
        via VARCHAR NOT NULL,  -- upload | inbox
        user_id BIGINT,
        username VARCHAR,
        school_urn VARCHAR,
        source VARCHAR NOT NULL,
        files INTEGER NOT NULL,
        status VARCHAR NOT NULL,  -- running | done | failed
        message VARCHAR,
        rows_accepted BIGINT,
        rows_quarantined BIGINT,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS app.import_batches (
        import_id BIGINT NOT NULL,
        batch_id BIGINT NOT NULL,
        PRIMARY KEY (import_id, batch_id)
    )""",
    # Admin pages: a password an administrator reset must be changed by its holder; a
    # second factor being set up waits here until the holder confirms a code from it.
    "ALTER TABLE app.users ADD COLUMN IF NOT EXISTS must_change_password BOOLEAN DEFAULT FALSE",
    "ALTER TABLE app.users ADD COLUMN IF NOT EXISTS totp_pending VARCHAR",
    # Trigger rules an administrator saved: one validated rule (JSON, the YAML's shape) per
    # id; the build prefers these over warehouse/trigger_rules.yml.
    """CREATE TABLE IF NOT EXISTS app.trigger_rule_overrides (
        rule_id VARCHAR PRIMARY KEY,
        body VARCHAR NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        saved_by BIGINT
    )""",
    # Column mappings a school saved from the upload page (sources/saved_mappings.py):
    # the YAML a mapping file would hold, every version kept; the latest per school and
    # name is the one offered.
    """CREATE TABLE IF NOT EXISTS app.column_mappings (
        school_urn VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        saved_by BIGINT
    )""",
    # Retention periods in whole years per category (access/retention.py has the defaults).
    """CREATE TABLE IF NOT EXISTS app.retention_settings (
        category VARCHAR PRIMARY KEY,
        years INTEGER NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        saved_by BIGINT
    )""",
    # Signed-in sessions, so that one can be ended on the server (sign-out, a password
    # change, an account switched off, an administrator's "sign out everywhere"): the
    # cookie carries a random session id, this table only its SHA-256 (a copy of the file
    # gives no one a session). access/sessions.py is the one writer.
    """CREATE TABLE IF NOT EXISTS app.sessions (
        session_hash VARCHAR PRIMARY KEY,
        user_id BIGINT NOT NULL,
        issued_at TIMESTAMP NOT NULL,
        seen_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP,
        revoked_why VARCHAR
    )""",
    # Failed sign-ins counted per address, per (username, address) and per username, so
    # that guessing is slowed without letting anyone lock a colleague out from elsewhere
    # (access/throttle.py). Usernames are kept only as a digest: a password typed
    # into the username box must not be kept whole.
    """CREATE TABLE IF NOT EXISTS app.sign_in_throttle (
        scope VARCHAR NOT NULL,  -- address | pair | account
        account VARCHAR NOT NULL,  -- digest of the typed username ('' for address)
        address VARCHAR NOT NULL,  -- '' for account
        failures INTEGER NOT NULL,
        first_at TIMESTAMP NOT NULL,
        paused_until TIMESTAMP,
        PRIMARY KEY (scope, account, address)
    )""",
    # The last TOTP time step accepted per account: a code is accepted once only.
    "ALTER TABLE app.users ADD COLUMN IF NOT EXISTS totp_last_step BIGINT",
    # The organisation a visiting professional works for ("Educational psychology
    # service"): what a contribution's provenance names beside their username and role.
    "ALTER TABLE app.users ADD COLUMN IF NOT EXISTS organisation VARCHAR",
    # Reports (PDF) added with a visiting professional's contribution, by their SHA-256,
    # AES-GCM encrypted (sources/contribution_files.py): kept in the warehouse file, never
    # in a folder a web server could serve; the contribution's raw row names the digest.
    """CREATE TABLE IF NOT EXISTS app.contribution_files (
        file_sha256 VARCHAR PRIMARY KEY,
        sealed BLOB NOT NULL,
        size_bytes BIGINT NOT NULL,
        stored_at TIMESTAMP NOT NULL
    )""",
    # Raw rows removed by the retention policy, per batch: meta.batches.rows_read is
    # lowered by as many, so a batch still balances (landed = accepted + quarantined) and
    # the file's original count is rows_read plus what this table says was removed.
    """CREATE TABLE IF NOT EXISTS app.retention_log (
        "at" TIMESTAMP NOT NULL,
        category VARCHAR NOT NULL,
        entity VARCHAR NOT NULL,
        batch_id BIGINT NOT NULL,
        rows_deleted BIGINT NOT NULL
    )""",
    # Every backup the server took or tried (scheduled, "Back up now", a command line
    # asking the running server): backup_log.py is the one writer. No pupil data: where,
    # how big, how long, rows per table, and why a failed one failed.
    "CREATE SEQUENCE IF NOT EXISTS app.backup_seq START 1",
    """CREATE TABLE IF NOT EXISTS app.backup_log (
        backup_id BIGINT PRIMARY KEY DEFAULT nextval('app.backup_seq'),
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        via VARCHAR NOT NULL,  -- schedule | admin | command line
        status VARCHAR NOT NULL,  -- ok | failed
        folder VARCHAR NOT NULL,
        file_name VARCHAR,
        size_bytes BIGINT,
        sha256 VARCHAR,
        row_counts VARCHAR,  -- JSON: {table: rows}
        seconds DOUBLE,
        reason VARCHAR
    )""",
    # What a school's documents carry at their head (issue 16): who parents should contact
    # and the school's logo (a small PNG, JPEG or SVG, kept whole; documents/letterhead.py
    # is the one writer). School settings, not a record about a child.
    """CREATE TABLE IF NOT EXISTS app.school_letterheads (
        school_urn VARCHAR PRIMARY KEY,
        contact VARCHAR,  -- "Ms Green, special needs co-ordinator, 01234 567890"
        logo BLOB,
        logo_type VARCHAR,  -- image/png | image/jpeg | image/svg+xml
        updated_at TIMESTAMP NOT NULL
    )""",
    # When each account last opened its home page, and the visit before: what "New since
    # your last visit" compares with (views/home_visits.py is the one writer). UI state
    # about an account, like app.sessions, not a record about a child: it lands here, not
    # in raw, and names no pupil.
    """CREATE TABLE IF NOT EXISTS app.home_visits (
        user_id BIGINT PRIMARY KEY,
        seen_at TIMESTAMP NOT NULL,  -- the latest visit
        before_at TIMESTAMP  -- the visit before it (NULL: none yet)
    )""",
)


def ensure_access_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema ``app`` and its tables if they are missing (safe to call often)."""
    for ddl in _DDL:
        con.execute(ddl)
