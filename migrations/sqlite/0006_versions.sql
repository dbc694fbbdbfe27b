-- Two counters that let readers and writers skip work safely. The other dialect's
-- migration of the same number does the same.
--
-- data_version.public_version: bumped by every write transaction except those that change
-- drafts alone (the workspace's saves and review steps in a draft edition). A server whose
-- public portal polls it need not list every edition after each draft save to learn that
-- what the public sees did not change. A write counts as public unless it says otherwise,
-- so a new kind of write can never be missed.
--
-- edition.revision: moves with every change made to an edition in place (a project saved
-- from a form, a department's review step). An edition replaced whole takes a new id; the
-- pair (id, revision) therefore names one state of an edition, and a writer that read one
-- state refuses to store over another.

ALTER TABLE data_version ADD COLUMN public_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE edition ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
