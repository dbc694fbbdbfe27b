-- Totals of each edition per fiscal year, grouped the ways municipalities are compared
-- (all projects, policy field, strategy code, 区分). Written with the edition in the same
-- transaction, so they are always those of the stored projects (`keikaku check` verifies it);
-- comparisons across many municipalities read these instead of every project.
-- The PostgreSQL migration of the same number creates the same table.

CREATE TABLE edition_total (
    edition_id BIGINT NOT NULL REFERENCES edition (id) ON DELETE CASCADE,
    dimension TEXT NOT NULL CHECK (dimension IN ('all', 'field', 'strategy', 'status')),
    fiscal_year BIGINT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    projects BIGINT NOT NULL,
    total BIGINT NOT NULL,
    earmarked BIGINT NOT NULL,
    general BIGINT NOT NULL,
    PRIMARY KEY (edition_id, dimension, fiscal_year, key)
);

-- Finding each municipality's editions by state and years.
CREATE INDEX edition_state_years ON edition (state, first_year, last_year);
