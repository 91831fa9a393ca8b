-- Extensions (hand-written): trigram indexes for case-insensitive substring search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateEnum
CREATE TYPE "Scope" AS ENUM ('READ', 'WRITE', 'ADMIN');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD');

-- CreateEnum
CREATE TYPE "TaskPriority" AS ENUM ('HIGH', 'MEDIUM', 'LOW');

-- CreateEnum
CREATE TYPE "TemplateCategory" AS ENUM ('DOCS', 'SHEETS', 'SLIDES', 'RESEARCH');

-- CreateEnum
CREATE TYPE "TopicStatus" AS ENUM ('PLANNED', 'GENERATING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "userId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" "Scope"[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "taxonomies" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "taxonomies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "taxonomy_nodes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "taxonomyId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "parentId" UUID,
    "path" TEXT[],
    "ancestorIds" UUID[],
    "depth" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "taxonomy_nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "documents" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "taxonomyId" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "source" TEXT,
    "chunkCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "documents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "document_nodes" (
    "documentId" UUID NOT NULL,
    "nodeId" UUID NOT NULL,

    CONSTRAINT "document_nodes_pkey" PRIMARY KEY ("documentId","nodeId")
);

-- CreateTable
CREATE TABLE "chunks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "documentId" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "tsv" tsvector,

    CONSTRAINT "chunks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agents" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "ownerId" UUID,
    "name" TEXT NOT NULL,
    "scopeDescription" TEXT,
    "taxonomyId" UUID NOT NULL,
    "taxonomyVersion" TEXT NOT NULL,
    "retrievalConfig" JSONB NOT NULL DEFAULT '{}',
    "featuresConfig" JSONB NOT NULL DEFAULT '{}',
    "coveragePercent" DOUBLE PRECISION,
    "totalDocuments" INTEGER NOT NULL DEFAULT 0,
    "totalChunks" INTEGER NOT NULL DEFAULT 0,
    "lastCoverageUpdate" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_nodes" (
    "agentId" UUID NOT NULL,
    "nodeId" UUID NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "agent_nodes_pkey" PRIMARY KEY ("agentId","nodeId")
);

-- CreateTable
CREATE TABLE "coverage_history" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "agentId" UUID NOT NULL,
    "taskId" UUID,
    "timestamp" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "overallCoverage" DOUBLE PRECISION NOT NULL,
    "totalDocuments" INTEGER NOT NULL,
    "totalChunks" INTEGER NOT NULL,
    "nodeCoverage" JSONB NOT NULL,
    "taxonomyVersion" TEXT NOT NULL,

    CONSTRAINT "coverage_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" TEXT NOT NULL,
    "status" "TaskStatus" NOT NULL DEFAULT 'PENDING',
    "priority" "TaskPriority" NOT NULL DEFAULT 'MEDIUM',
    "payload" JSONB NOT NULL DEFAULT '{}',
    "progressPercent" INTEGER NOT NULL DEFAULT 0,
    "currentStep" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "timeoutSeconds" INTEGER NOT NULL DEFAULT 300,
    "runAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedBy" TEXT,
    "lockedUntil" TIMESTAMPTZ(3),
    "result" JSONB,
    "error" TEXT,
    "cancellationRequested" BOOLEAN NOT NULL DEFAULT false,
    "webhookUrl" TEXT,
    "idempotencyKey" TEXT,
    "lastSequence" INTEGER NOT NULL DEFAULT 0,
    "ownerId" UUID,
    "agentId" UUID,
    "topicId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_events" (
    "id" BIGSERIAL NOT NULL,
    "taskId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "status" "TaskStatus" NOT NULL,
    "progressPercent" INTEGER NOT NULL,
    "currentStep" TEXT,
    "message" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "taskId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "succeeded" BOOLEAN NOT NULL,
    "durationMs" INTEGER,
    "deliveredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workers" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastHeartbeatAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "templates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "ownerId" UUID,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "category" "TemplateCategory" NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "isPublic" BOOLEAN NOT NULL DEFAULT false,
    "isOfficial" BOOLEAN NOT NULL DEFAULT false,
    "isFeatured" BOOLEAN NOT NULL DEFAULT false,
    "promptSystem" TEXT,
    "content" TEXT NOT NULL,
    "variables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "version" INTEGER NOT NULL DEFAULT 1,
    "changelog" TEXT,
    "parentId" UUID,
    "usageCount" INTEGER NOT NULL DEFAULT 0,
    "ratingAverage" DOUBLE PRECISION,
    "ratingCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_ratings" (
    "templateId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "stars" INTEGER NOT NULL,
    "review" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_ratings_pkey" PRIMARY KEY ("templateId","userId")
);

-- CreateTable
CREATE TABLE "topics" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "ownerId" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "templateId" UUID,
    "agentId" UUID,
    "plan" TEXT,
    "sections" JSONB NOT NULL DEFAULT '[]',
    "status" "TopicStatus" NOT NULL DEFAULT 'PLANNED',
    "progressPercent" INTEGER NOT NULL DEFAULT 0,
    "currentStep" TEXT,
    "taskId" UUID,
    "startedAt" TIMESTAMPTZ(3),
    "estimatedCompletion" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "errorMessage" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifacts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "topicId" UUID NOT NULL,
    "markdown" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifact_files" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "artifactId" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "artifact_files_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_name_key" ON "users"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_keyHash_key" ON "api_keys"("keyHash");

-- CreateIndex
CREATE INDEX "api_keys_userId_idx" ON "api_keys"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "taxonomies_version_key" ON "taxonomies"("version");

-- CreateIndex
CREATE INDEX "taxonomy_nodes_taxonomyId_position_idx" ON "taxonomy_nodes"("taxonomyId", "position");

-- CreateIndex
CREATE INDEX "taxonomy_nodes_parentId_idx" ON "taxonomy_nodes"("parentId");

-- CreateIndex
CREATE INDEX "taxonomy_nodes_ancestorIds_idx" ON "taxonomy_nodes" USING GIN ("ancestorIds");

-- CreateIndex
CREATE UNIQUE INDEX "taxonomy_nodes_taxonomyId_key_key" ON "taxonomy_nodes"("taxonomyId", "key");

-- CreateIndex
CREATE INDEX "documents_taxonomyId_idx" ON "documents"("taxonomyId");

-- CreateIndex
CREATE INDEX "document_nodes_nodeId_documentId_idx" ON "document_nodes"("nodeId", "documentId");

-- CreateIndex
CREATE INDEX "chunks_tsv_idx" ON "chunks" USING GIN ("tsv");

-- CreateIndex
CREATE UNIQUE INDEX "chunks_documentId_ordinal_key" ON "chunks"("documentId", "ordinal");

-- CreateIndex
CREATE INDEX "agents_createdAt_id_idx" ON "agents"("createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "agents_name_trgm_idx" ON "agents" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "agents_ownerId_idx" ON "agents"("ownerId");

-- CreateIndex
CREATE INDEX "agents_taxonomyId_idx" ON "agents"("taxonomyId");

-- CreateIndex
CREATE INDEX "agent_nodes_nodeId_idx" ON "agent_nodes"("nodeId");

-- CreateIndex
CREATE UNIQUE INDEX "coverage_history_taskId_key" ON "coverage_history"("taskId");

-- CreateIndex
CREATE INDEX "coverage_history_agentId_timestamp_id_idx" ON "coverage_history"("agentId", "timestamp" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "coverage_history_timestamp_idx" ON "coverage_history"("timestamp");

-- CreateIndex
CREATE INDEX "tasks_status_priority_runAt_createdAt_idx" ON "tasks"("status", "priority", "runAt", "createdAt");

-- CreateIndex
CREATE INDEX "tasks_lockedUntil_idx" ON "tasks"("lockedUntil");

-- CreateIndex
CREATE INDEX "tasks_status_completedAt_idx" ON "tasks"("status", "completedAt");

-- CreateIndex
CREATE INDEX "tasks_agentId_createdAt_idx" ON "tasks"("agentId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "tasks_topicId_idx" ON "tasks"("topicId");

-- CreateIndex
CREATE INDEX "tasks_ownerId_createdAt_idx" ON "tasks"("ownerId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "tasks_createdAt_id_idx" ON "tasks"("createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "tasks_ownerId_idempotencyKey_key" ON "tasks"("ownerId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "task_events_taskId_sequence_key" ON "task_events"("taskId", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_taskId_attempt_key" ON "webhook_deliveries"("taskId", "attempt");

-- CreateIndex
CREATE INDEX "workers_lastHeartbeatAt_idx" ON "workers"("lastHeartbeatAt");

-- CreateIndex
CREATE INDEX "templates_ownerId_createdAt_idx" ON "templates"("ownerId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "templates_category_idx" ON "templates"("category");

-- CreateIndex
CREATE INDEX "templates_tags_idx" ON "templates" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "templates_isPublic_createdAt_id_idx" ON "templates"("isPublic", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "templates_ratingAverage_id_idx" ON "templates"("ratingAverage" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "templates_usageCount_id_idx" ON "templates"("usageCount" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "templates_parentId_idx" ON "templates"("parentId");

-- CreateIndex
CREATE INDEX "templates_name_trgm_idx" ON "templates" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "template_ratings_templateId_createdAt_idx" ON "template_ratings"("templateId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "template_ratings_userId_idx" ON "template_ratings"("userId");

-- CreateIndex
CREATE INDEX "topics_ownerId_createdAt_id_idx" ON "topics"("ownerId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "topics_templateId_idx" ON "topics"("templateId");

-- CreateIndex
CREATE INDEX "topics_agentId_idx" ON "topics"("agentId");

-- CreateIndex
CREATE INDEX "topics_taskId_idx" ON "topics"("taskId");

-- CreateIndex
CREATE INDEX "artifacts_topicId_createdAt_idx" ON "artifacts"("topicId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "artifact_files_artifactId_format_key" ON "artifact_files"("artifactId", "format");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "taxonomy_nodes" ADD CONSTRAINT "taxonomy_nodes_taxonomyId_fkey" FOREIGN KEY ("taxonomyId") REFERENCES "taxonomies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "taxonomy_nodes" ADD CONSTRAINT "taxonomy_nodes_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "taxonomy_nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "documents" ADD CONSTRAINT "documents_taxonomyId_fkey" FOREIGN KEY ("taxonomyId") REFERENCES "taxonomies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "document_nodes" ADD CONSTRAINT "document_nodes_documentId_fkey" FOREIGN KEY ("documentId") REFERENCES "documents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "document_nodes" ADD CONSTRAINT "document_nodes_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "taxonomy_nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_documentId_fkey" FOREIGN KEY ("documentId") REFERENCES "documents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_taxonomyId_fkey" FOREIGN KEY ("taxonomyId") REFERENCES "taxonomies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_nodes" ADD CONSTRAINT "agent_nodes_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_nodes" ADD CONSTRAINT "agent_nodes_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "taxonomy_nodes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "coverage_history" ADD CONSTRAINT "coverage_history_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "topics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "templates" ADD CONSTRAINT "templates_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "templates" ADD CONSTRAINT "templates_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "templates"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "template_ratings" ADD CONSTRAINT "template_ratings_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "templates"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "template_ratings" ADD CONSTRAINT "template_ratings_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topics" ADD CONSTRAINT "topics_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topics" ADD CONSTRAINT "topics_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "templates"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topics" ADD CONSTRAINT "topics_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topics" ADD CONSTRAINT "topics_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "topics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifact_files" ADD CONSTRAINT "artifact_files_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "artifacts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Full-text search (hand-written): chunks.tsv follows chunks.content. A trigger rather
-- than a generated column, so schema.prisma can describe the column exactly.
CREATE FUNCTION chunks_tsv_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."tsv" := to_tsvector('english', NEW."content");
  RETURN NEW;
END
$$;

CREATE TRIGGER chunks_tsv BEFORE INSERT OR UPDATE OF "content" ON "chunks"
  FOR EACH ROW EXECUTE FUNCTION chunks_tsv_update();
