-- The task lists' two indexes without the RUNNING tasks: a claim (PENDING to RUNNING) then
-- writes no entry into either, two fewer index entries per task on the queue's busiest path
-- (docs/architecture.md, "A task"). The lists read the RUNNING tasks off tasks_lockedUntil_idx.

-- DropIndex
DROP INDEX "tasks_createdAt_id_idx";

-- DropIndex
DROP INDEX "tasks_teamId_createdAt_id_idx";

-- CreateIndex
CREATE INDEX "tasks_teamId_createdAt_id_idx" ON "tasks"("teamId", "createdAt" DESC, "id" DESC, "status", "type", "priority", "workerId", "agentId") WHERE (status <> 'RUNNING'::"TaskStatus");

-- CreateIndex
CREATE INDEX "tasks_createdAt_id_idx" ON "tasks"("createdAt" DESC, "id" DESC, "teamId", "status", "type", "priority", "workerId", "agentId") WHERE (status <> 'RUNNING'::"TaskStatus");
