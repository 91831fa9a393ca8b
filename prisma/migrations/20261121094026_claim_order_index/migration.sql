-- DropIndex
DROP INDEX "tasks_status_priority_runAt_createdAt_idx";

-- DropIndex
DROP INDEX "tasks_type_status_completedAt_idx";

-- CreateIndex
CREATE INDEX "tasks_status_priority_runAt_createdAt_id_idx" ON "tasks"("status", "priority", "runAt", "createdAt", "id");

-- Hand-written: the queue table changes fast; keep its statistics fresh so the claim
-- keeps reading PENDING tasks straight off the index above instead of sorting them.
ALTER TABLE "tasks" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE "task_events" SET (autovacuum_vacuum_scale_factor = 0.05);
