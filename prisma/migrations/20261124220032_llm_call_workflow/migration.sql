-- AlterTable
ALTER TABLE "llm_calls" ADD COLUMN     "workflowId" UUID;

-- CreateIndex
CREATE INDEX "llm_calls_workflowId_idx" ON "llm_calls"("workflowId");
