-- DropIndex
DROP INDEX "task_events_taskId_sequence_key";

-- DropIndex
DROP INDEX "workflow_events_workflowId_sequence_key";

-- DropIndex
DROP INDEX "workflow_steps_agentId_idx";

-- AlterTable
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_pkey",
DROP COLUMN "id",
ADD CONSTRAINT "task_events_pkey" PRIMARY KEY ("taskId", "sequence");

-- AlterTable
ALTER TABLE "workflow_events" DROP CONSTRAINT "workflow_events_pkey",
DROP COLUMN "id",
ADD CONSTRAINT "workflow_events_pkey" PRIMARY KEY ("workflowId", "sequence");

-- CreateIndex
CREATE INDEX "workflow_steps_agentId_idx" ON "workflow_steps"("agentId") WHERE ("agentId" IS NOT NULL);
