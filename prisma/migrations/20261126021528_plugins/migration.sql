-- CreateEnum
CREATE TYPE "PluginKind" AS ENUM ('INTEGRATION', 'TOOL', 'AGENT');

-- CreateEnum
CREATE TYPE "PluginStatus" AS ENUM ('ACTIVE', 'DISABLED', 'DISABLED_AFTER_FAILURES');

-- CreateEnum
CREATE TYPE "PluginAuditAction" AS ENUM ('INSTALL', 'UPDATE', 'UNINSTALL', 'SECRET_SET', 'SECRET_REPLACE', 'SECRET_DELETE', 'DISABLE_AFTER_FAILURES');

-- CreateTable
CREATE TABLE "plugin_installations" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "kind" "PluginKind" NOT NULL,
    "manifest" JSONB NOT NULL,
    "grantedScopes" TEXT[],
    "config" JSONB NOT NULL DEFAULT '{}',
    "status" "PluginStatus" NOT NULL DEFAULT 'ACTIVE',
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "webhookEndpointId" UUID,
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plugin_installations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plugin_secrets" (
    "installationId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secretBox" BYTEA NOT NULL,
    "wrappedKey" BYTEA NOT NULL,
    "masterKeyVersion" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plugin_secrets_pkey" PRIMARY KEY ("installationId","name")
);

-- CreateTable
CREATE TABLE "plugin_audit" (
    "id" BIGSERIAL NOT NULL,
    "installationId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "action" "PluginAuditAction" NOT NULL,
    "actorUserId" UUID,
    "apiKeyId" UUID,
    "detail" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plugin_audit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "plugin_installations_webhookEndpointId_key" ON "plugin_installations"("webhookEndpointId");

-- CreateIndex
CREATE INDEX "plugin_installations_teamId_createdAt_id_idx" ON "plugin_installations"("teamId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "plugin_installations_teamId_name_key" ON "plugin_installations"("teamId", "name");

-- CreateIndex
CREATE INDEX "plugin_audit_installationId_at_idx" ON "plugin_audit"("installationId", "at");

-- AddForeignKey
ALTER TABLE "plugin_installations" ADD CONSTRAINT "plugin_installations_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plugin_installations" ADD CONSTRAINT "plugin_installations_webhookEndpointId_fkey" FOREIGN KEY ("webhookEndpointId") REFERENCES "webhook_endpoints"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plugin_secrets" ADD CONSTRAINT "plugin_secrets_installationId_fkey" FOREIGN KEY ("installationId") REFERENCES "plugin_installations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
