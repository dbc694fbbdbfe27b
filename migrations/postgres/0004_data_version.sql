-- The data version a running server polls to know when to reload: one row, bumped by every
-- write transaction just before it commits. The newest audit id served before, but on
-- PostgreSQL ids are taken when a row is inserted, not when its transaction commits: with
-- several writers at once a reader could see a later writer's id while an earlier one had
-- not committed yet, and then miss that edition until the next write. The row lock makes
-- writers take versions in commit order. It starts at the newest audit id so that versions
-- keep growing. The other dialect's migration of the same number does the same.

CREATE TABLE data_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) SELECT 1, COALESCE(MAX(id), 0) FROM audit_log;
