-- DropIndex
DROP INDEX "webhook_deliveries_taskId_attempt_key";

-- AlterTable
ALTER TABLE "webhook_deliveries" ADD COLUMN     "endpointId" UUID,
ADD COLUMN     "messageId" UUID,
ALTER COLUMN "taskId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "workflows" ADD COLUMN     "endNotifiedAt" TIMESTAMPTZ(3),
ADD COLUMN     "webhookEndpointId" UUID,
ADD COLUMN     "webhookUrl" TEXT;

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "eventTypes" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT NOT NULL DEFAULT '',
    "secretBox" BYTEA NOT NULL,
    "wrappedKey" BYTEA NOT NULL,
    "masterKeyVersion" TEXT NOT NULL,
    "previousSecretBox" BYTEA,
    "previousWrappedKey" BYTEA,
    "previousMasterKeyVersion" TEXT,
    "previousExpiresAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_messages" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID,
    "endpointId" UUID,
    "url" TEXT,
    "taskId" UUID,
    "eventType" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_teamId_createdAt_id_idx" ON "webhook_endpoints"("teamId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "webhook_messages_createdAt_idx" ON "webhook_messages"("createdAt");

-- CreateIndex
CREATE INDEX "webhook_messages_endpointId_idx" ON "webhook_messages"("endpointId");

-- CreateIndex
CREATE INDEX "webhook_deliveries_taskId_attempt_idx" ON "webhook_deliveries"("taskId", "attempt");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpointId_deliveredAt_id_idx" ON "webhook_deliveries"("endpointId", "deliveredAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "webhook_deliveries_deliveredAt_idx" ON "webhook_deliveries"("deliveredAt");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_messageId_attempt_key" ON "webhook_deliveries"("messageId", "attempt");

-- CreateIndex
CREATE INDEX "workflows_end_unnotified_idx" ON "workflows"("id") WHERE ("completedAt" IS NOT NULL AND "endNotifiedAt" IS DISTINCT FROM "completedAt");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "webhook_messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_messages" ADD CONSTRAINT "webhook_messages_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_webhookEndpointId_fkey" FOREIGN KEY ("webhookEndpointId") REFERENCES "webhook_endpoints"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Ends from before webhooks count as sent: the sweep must not send a backlog of old ends.
UPDATE "workflows" SET "endNotifiedAt" = "completedAt"
WHERE "completedAt" IS NOT NULL AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
