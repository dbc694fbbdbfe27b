-- The plan: municipalities, editions and their goals, policies and projects, with each
-- project's departments, strategy links and cost per fiscal year; and the audit log.
-- Amounts are integers of 千円; NULL means "no amount" (`-`), never zero.
-- The PostgreSQL migration of the same number creates the same tables and columns.

CREATE TABLE municipality (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    population BIGINT,
    population_as_of TEXT
);

CREATE TABLE edition (
    id INTEGER PRIMARY KEY,
    municipality_code TEXT NOT NULL REFERENCES municipality (code),
    first_year BIGINT NOT NULL,
    last_year BIGINT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('draft', 'published')),
    imported_at TEXT NOT NULL,
    UNIQUE (municipality_code, first_year, last_year)
);

CREATE TABLE goal (
    id INTEGER PRIMARY KEY,
    edition_id BIGINT NOT NULL REFERENCES edition (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    field TEXT NOT NULL,
    UNIQUE (edition_id, number)
);

CREATE TABLE policy (
    id INTEGER PRIMARY KEY,
    edition_id BIGINT NOT NULL REFERENCES edition (id) ON DELETE CASCADE,
    goal_id BIGINT NOT NULL REFERENCES goal (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    vision TEXT NOT NULL,
    UNIQUE (edition_id, code)
);
CREATE INDEX policy_goal ON policy (goal_id);
CREATE INDEX goal_edition ON goal (edition_id);

CREATE TABLE project (
    id INTEGER PRIMARY KEY,
    edition_id BIGINT NOT NULL REFERENCES edition (id) ON DELETE CASCADE,
    policy_id BIGINT NOT NULL REFERENCES policy (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    number BIGINT NOT NULL,
    stable_id TEXT NOT NULL,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    UNIQUE (policy_id, number),
    UNIQUE (edition_id, stable_id)
);
CREATE INDEX project_stable_id ON project (stable_id);
CREATE INDEX project_edition ON project (edition_id);

CREATE TABLE project_department (
    project_id BIGINT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
);
CREATE INDEX project_department_name ON project_department (name);

CREATE TABLE project_strategy (
    project_id BIGINT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    goal BIGINT NOT NULL,
    measure BIGINT NOT NULL,
    raw TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
);
CREATE INDEX project_strategy_code ON project_strategy (goal, measure);

CREATE TABLE project_cost (
    project_id BIGINT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    fiscal_year BIGINT NOT NULL,
    total BIGINT,
    earmarked BIGINT,
    general BIGINT,
    PRIMARY KEY (project_id, fiscal_year)
);

CREATE TABLE project_funding (
    project_id BIGINT NOT NULL,
    fiscal_year BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (project_id, fiscal_year, kind),
    FOREIGN KEY (project_id, fiscal_year) REFERENCES project_cost (project_id, fiscal_year) ON DELETE CASCADE
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
