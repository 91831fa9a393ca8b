-- DropIndex
DROP INDEX "tasks_createdAt_id_idx";

-- DropIndex
DROP INDEX "tasks_teamId_createdAt_id_idx";

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "attemptLog" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "workerId" TEXT;

-- CreateIndex
CREATE INDEX "tasks_teamId_createdAt_id_idx" ON "tasks"("teamId", "createdAt" DESC, "id" DESC, "status", "type", "priority", "workerId", "agentId");

-- CreateIndex
CREATE INDEX "tasks_createdAt_id_idx" ON "tasks"("createdAt" DESC, "id" DESC, "teamId", "status", "type", "priority", "workerId", "agentId");
