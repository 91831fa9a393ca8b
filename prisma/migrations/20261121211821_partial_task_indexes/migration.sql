-- Partial indexes on tasks (generated from schema.prisma, partialIndexes preview). A change
-- of status rewrites the row, and PostgreSQL inserts it into every index whose condition it
-- meets: twice per task (claim, finish). Rows that need no entry (not PENDING for the claim
-- order, not RUNNING for lease expiry, no key, no agent, no topic, not finished) get none.

-- DropIndex
DROP INDEX "tasks_agentId_createdAt_idx";

-- DropIndex
DROP INDEX "tasks_lockedUntil_idx";

-- DropIndex
DROP INDEX "tasks_ownerId_idempotencyKey_key";

-- DropIndex
DROP INDEX "tasks_status_completedAt_idx";

-- DropIndex
DROP INDEX "tasks_status_priority_runAt_createdAt_id_idx";

-- DropIndex
DROP INDEX "tasks_topicId_idx";

-- CreateIndex
CREATE INDEX "tasks_claim_order_idx" ON "tasks"("priority", "runAt", "createdAt", "id") WHERE (status = 'PENDING'::"TaskStatus");

-- CreateIndex
CREATE INDEX "tasks_lockedUntil_idx" ON "tasks"("lockedUntil") WHERE (status = 'RUNNING'::"TaskStatus");

-- CreateIndex
CREATE INDEX "tasks_status_completedAt_idx" ON "tasks"("status", "completedAt") WHERE ("completedAt" IS NOT NULL);

-- CreateIndex
CREATE INDEX "tasks_agentId_createdAt_idx" ON "tasks"("agentId", "createdAt" DESC) WHERE ("agentId" IS NOT NULL);

-- CreateIndex
CREATE INDEX "tasks_topicId_idx" ON "tasks"("topicId") WHERE ("topicId" IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "tasks_ownerId_idempotencyKey_key" ON "tasks"("ownerId", "idempotencyKey") WHERE ("idempotencyKey" IS NOT NULL);
