-- CreateIndex
CREATE INDEX "llm_calls_taskId_idx" ON "llm_calls"("taskId");
