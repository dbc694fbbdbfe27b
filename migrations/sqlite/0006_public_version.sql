-- A second counter beside the data version: bumped by every write transaction except those
-- that change drafts alone (the workspace's saves and review steps in a draft edition). A
-- server whose public portal polls it need not list every edition after each draft save to
-- learn that what the public sees did not change. A write counts as public unless it says
-- otherwise, so a new kind of write can never be missed. The other dialect's migration of
-- the same number does the same.

ALTER TABLE data_version ADD COLUMN public_version BIGINT NOT NULL DEFAULT 0;
