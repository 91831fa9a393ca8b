-- CreateEnum
CREATE TYPE "LlmProviderKind" AS ENUM ('OPENAI_COMPATIBLE', 'ANTHROPIC', 'LOCAL');

-- CreateEnum
CREATE TYPE "LlmService" AS ENUM ('PLAN', 'WRITE');

-- CreateEnum
CREATE TYPE "LlmRouteStrategy" AS ENUM ('PRIORITY', 'LOWEST_COST', 'LOWEST_LATENCY');

-- CreateEnum
CREATE TYPE "LlmCallOutcome" AS ENUM ('OK', 'BAD_REQUEST', 'REJECTED', 'RATE_LIMITED', 'SERVER_ERROR', 'NETWORK_ERROR', 'CUT', 'TIMEOUT', 'ABORTED', 'ERROR');

-- CreateEnum
CREATE TYPE "BudgetScope" AS ENUM ('TEAM', 'API_KEY');

-- CreateEnum
CREATE TYPE "BudgetPeriod" AS ENUM ('DAY', 'WEEK', 'MONTH', 'TOTAL');

-- CreateEnum
CREATE TYPE "ProviderKeyAction" AS ENUM ('CREATE', 'ROTATE', 'REVOKE', 'REJECT', 'REWRAP', 'DECRYPT');

-- AlterTable
ALTER TABLE "topics" ADD COLUMN     "draftSection" INTEGER,
ADD COLUMN     "draftText" TEXT;

-- CreateTable
CREATE TABLE "provider_keys" (
    "id" UUID NOT NULL,
    "teamId" UUID,
    "name" TEXT NOT NULL,
    "kind" "LlmProviderKind" NOT NULL,
    "hint" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "secretBox" BYTEA NOT NULL,
    "wrappedKey" BYTEA NOT NULL,
    "masterKeyVersion" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "rejectedAt" TIMESTAMPTZ(3),
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMPTZ(3),

    CONSTRAINT "provider_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_key_audit" (
    "id" BIGSERIAL NOT NULL,
    "providerKeyId" UUID NOT NULL,
    "teamId" UUID,
    "action" "ProviderKeyAction" NOT NULL,
    "actorUserId" UUID,
    "apiKeyId" UUID,
    "llmCallId" UUID,
    "detail" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_key_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "llm_deployments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID,
    "name" TEXT NOT NULL,
    "kind" "LlmProviderKind" NOT NULL,
    "baseUrl" TEXT,
    "model" TEXT NOT NULL,
    "providerKeyId" UUID,
    "inputUsdPerMTok" DOUBLE PRECISION,
    "outputUsdPerMTok" DOUBLE PRECISION,
    "fromEnvironment" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "llm_deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "llm_routes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID,
    "service" "LlmService" NOT NULL,
    "strategy" "LlmRouteStrategy" NOT NULL,
    "deploymentIds" UUID[],
    "maxAttempts" INTEGER NOT NULL,
    "fallbackToLocal" BOOLEAN NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "llm_routes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "llm_calls" (
    "id" UUID NOT NULL,
    "service" "LlmService" NOT NULL,
    "deploymentId" UUID,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "teamId" UUID,
    "apiKeyId" UUID,
    "topicId" UUID,
    "taskId" UUID,
    "attempt" INTEGER NOT NULL,
    "inputTokens" INTEGER NOT NULL,
    "outputTokens" INTEGER NOT NULL,
    "usageEstimated" BOOLEAN NOT NULL,
    "costUsd" DOUBLE PRECISION NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "timeToFirstTokenMs" INTEGER,
    "outcome" "LlmCallOutcome" NOT NULL,
    "httpStatus" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "llm_calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "llm_budgets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "scope" "BudgetScope" NOT NULL,
    "teamId" UUID NOT NULL,
    "apiKeyId" UUID,
    "limitUsd" DOUBLE PRECISION NOT NULL,
    "period" "BudgetPeriod" NOT NULL,
    "softLimitPercent" INTEGER NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "spentUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "reservedUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "llm_budgets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "provider_keys_teamId_createdAt_idx" ON "provider_keys"("teamId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "provider_key_audit_providerKeyId_at_idx" ON "provider_key_audit"("providerKeyId", "at");

-- CreateIndex
CREATE INDEX "provider_key_audit_llmCallId_idx" ON "provider_key_audit"("llmCallId");

-- CreateIndex
CREATE INDEX "llm_deployments_providerKeyId_idx" ON "llm_deployments"("providerKeyId");

-- CreateIndex
CREATE UNIQUE INDEX "llm_deployments_teamId_name_key" ON "llm_deployments"("teamId", "name") WHERE ("deletedAt" IS NULL AND "teamId" IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "llm_deployments_operator_name_key" ON "llm_deployments"("name") WHERE ("deletedAt" IS NULL AND "teamId" IS NULL);

-- CreateIndex
CREATE UNIQUE INDEX "llm_routes_teamId_service_key" ON "llm_routes"("teamId", "service") WHERE ("teamId" IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "llm_routes_operator_service_key" ON "llm_routes"("service") WHERE ("teamId" IS NULL);

-- CreateIndex
CREATE INDEX "llm_calls_teamId_createdAt_id_idx" ON "llm_calls"("teamId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "llm_calls_createdAt_id_idx" ON "llm_calls"("createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "llm_calls_deploymentId_createdAt_idx" ON "llm_calls"("deploymentId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "llm_budgets_team_key" ON "llm_budgets"("teamId") WHERE (scope = 'TEAM'::"BudgetScope");

-- CreateIndex
CREATE UNIQUE INDEX "llm_budgets_apiKeyId_key" ON "llm_budgets"("apiKeyId") WHERE ("apiKeyId" IS NOT NULL);

-- AddForeignKey
ALTER TABLE "provider_keys" ADD CONSTRAINT "provider_keys_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "provider_key_audit" ADD CONSTRAINT "provider_key_audit_providerKeyId_fkey" FOREIGN KEY ("providerKeyId") REFERENCES "provider_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_deployments" ADD CONSTRAINT "llm_deployments_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_deployments" ADD CONSTRAINT "llm_deployments_providerKeyId_fkey" FOREIGN KEY ("providerKeyId") REFERENCES "provider_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_routes" ADD CONSTRAINT "llm_routes_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_calls" ADD CONSTRAINT "llm_calls_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "llm_deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_budgets" ADD CONSTRAINT "llm_budgets_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_budgets" ADD CONSTRAINT "llm_budgets_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The provider key audit is append-only: no statement may change or delete a row of it
-- (a provider key is revoked, never deleted, so no cascade reaches it either).
CREATE FUNCTION "provider_key_audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the provider key audit is append-only' USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER "provider_key_audit_append_only"
BEFORE UPDATE OR DELETE ON "provider_key_audit"
FOR EACH ROW EXECUTE FUNCTION "provider_key_audit_append_only"();

CREATE TRIGGER "provider_key_audit_no_truncate"
BEFORE TRUNCATE ON "provider_key_audit"
FOR EACH STATEMENT EXECUTE FUNCTION "provider_key_audit_append_only"();

-- Where a budget's current window starts (UTC): the reservation and settle statements and
-- the budgets list compute it the same way.
CREATE FUNCTION "llm_budget_window_start"(period "BudgetPeriod", at timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE period
    WHEN 'DAY' THEN date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    WHEN 'WEEK' THEN date_trunc('week', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    WHEN 'MONTH' THEN date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    ELSE 'epoch'::timestamptz
  END
$$;
