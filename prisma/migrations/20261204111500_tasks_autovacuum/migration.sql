-- Vacuum the tasks table after 2 % of its rows (plus 5,000) have dead versions, not the default
-- 20 %. Every task leaves one dead entry in the claim index (tasks_claim_order_idx, PENDING rows
-- only) when it is claimed, older than every live entry of its priority, and every claim reads
-- them from the index's low end until a vacuum removes them: an empty queue's claim read 776
-- index pages (17 ms) with 249,000 dead row versions, 1,540 pages (31 ms) with 535,000, and one
-- page after a VACUUM (docs/operations.md, "Vacuuming the queue"). With a history of finished tasks kept, 20 %
-- of the table is hundreds of thousands of versions between vacuums.
ALTER TABLE "tasks" SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 5000);
