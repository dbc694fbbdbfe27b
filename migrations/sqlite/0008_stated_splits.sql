-- How many projects of each group state a 特定財源 and a 一般財源 in the year, beside the
-- count of those stating a 事業費 (0003): a group where none states one has no amount (`-`),
-- which is not 0. The totals stored so far are removed here and computed again, with the
-- counts, when keikaku next opens the database. The other dialect's migration of the same
-- number does the same.

ALTER TABLE edition_total ADD COLUMN with_earmarked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE edition_total ADD COLUMN with_general BIGINT NOT NULL DEFAULT 0;
DELETE FROM edition_total;
