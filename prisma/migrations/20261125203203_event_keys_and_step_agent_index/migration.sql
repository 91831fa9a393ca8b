-- DropIndex
DROP INDEX "task_events_taskId_sequence_key";

-- DropIndex
DROP INDEX "workflow_events_workflowId_sequence_key";

-- DropIndex
DROP INDEX "workflow_steps_agentId_idx";

-- AlterTable: (owner, sequence) is the key; the id stays (unindexed) for the release before
-- this one, which reads it.
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_pkey",
ADD CONSTRAINT "task_events_pkey" PRIMARY KEY ("taskId", "sequence");

-- AlterTable
ALTER TABLE "workflow_events" DROP CONSTRAINT "workflow_events_pkey",
ADD CONSTRAINT "workflow_events_pkey" PRIMARY KEY ("workflowId", "sequence");

-- CreateIndex
CREATE INDEX "workflow_steps_agentId_idx" ON "workflow_steps"("agentId") WHERE ("agentId" IS NOT NULL);
