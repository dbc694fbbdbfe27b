-- How many projects of each group state a 事業費 in the year. A group where none does has
-- no amount (`-`), which is not 0, and comparisons show it so. The totals stored so far are
-- removed here and computed again, with the count, when keikaku next opens the database.
-- The other dialect's migration of the same number does the same.

ALTER TABLE edition_total ADD COLUMN priced BIGINT NOT NULL DEFAULT 0;
DELETE FROM edition_total;
