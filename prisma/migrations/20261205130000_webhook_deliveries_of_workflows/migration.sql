-- A workflow's own webhookUrl: its messages and their attempts name the workflow, so its
-- deliveries are listed on it (Workflow.webhookDeliveries), as a task's are on the task.
ALTER TABLE "webhook_messages" ADD COLUMN "workflowId" UUID;
ALTER TABLE "webhook_deliveries" ADD COLUMN "workflowId" UUID;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_workflowId_fkey"
  FOREIGN KEY ("workflowId") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "webhook_deliveries_workflowId_deliveredAt_idx"
  ON "webhook_deliveries"("workflowId", "deliveredAt");
