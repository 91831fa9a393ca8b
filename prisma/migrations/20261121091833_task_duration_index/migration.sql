-- CreateIndex
CREATE INDEX "tasks_type_status_completedAt_idx" ON "tasks"("type", "status", "completedAt" DESC);
