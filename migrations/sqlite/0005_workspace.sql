-- The staff workspace: accounts (argon2id password hashes) with their departments, sessions
-- (only a digest of each token is kept), the review state of each department's part of a
-- draft edition (keyed by municipality and span, which survive an edition's replacement), and
-- the audit log made structured and tamper-evident: through what a change came, which project
-- and field, old and new value, the comment, the uploaded file and its SHA-256, and a hash
-- chain in commit order (seq, prev_hash, hash) whose head is kept with the data version, so
-- `keikaku check` finds a changed or deleted row. Rows logged before this migration are
-- chained when keikaku next opens the database. `edition.updated_at` changes when a project of
-- the edition is edited in place. The other dialect's migration of the same number does the same.

CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'planning', 'department', 'viewer')),
    municipality_code TEXT,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE user_department (
    user_id BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE user_session (
    token_digest TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE edition_part (
    municipality_code TEXT NOT NULL,
    first_year BIGINT NOT NULL,
    last_year BIGINT NOT NULL,
    department TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'submitted', 'returned', 'approved', 'final')),
    comment TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (municipality_code, first_year, last_year, department)
);

ALTER TABLE edition ADD COLUMN updated_at TEXT;

ALTER TABLE audit_log ADD COLUMN via TEXT NOT NULL DEFAULT 'cli';
ALTER TABLE audit_log ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN field TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN old_value TEXT;
ALTER TABLE audit_log ADD COLUMN new_value TEXT;
ALTER TABLE audit_log ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN file_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_project ON audit_log (project);

ALTER TABLE data_version ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE data_version ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '';
