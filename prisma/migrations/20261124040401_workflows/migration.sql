-- Workflows (issue 30): a goal planned into steps, each step run as one task of the queue
-- (workflow_step). A step's result and actuals stay on its row when task retention deletes
-- its task (taskId SET NULL). Edges give a commit the steps waiting on it; the event log has
-- a per-workflow sequence, as task_events has per task. New tables only: nothing to migrate.

-- CreateEnum
CREATE TYPE "WorkflowStatus" AS ENUM ('PLANNED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "WorkflowStepStatus" AS ENUM ('PENDING', 'READY', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "WorkflowStepKind" AS ENUM ('RETRIEVE', 'REFRESH_COVERAGE', 'WRITE_SECTION', 'SYNTHESIZE', 'NOOP');

-- CreateEnum
CREATE TYPE "WorkflowFailurePolicy" AS ENUM ('FAIL_WORKFLOW', 'SKIP', 'SKIP_BRANCH', 'REPLAN');

-- CreateTable
CREATE TABLE "workflows" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID NOT NULL,
    "ownerId" UUID NOT NULL,
    "goal" TEXT NOT NULL,
    "status" "WorkflowStatus" NOT NULL DEFAULT 'PLANNED',
    "planVersion" INTEGER NOT NULL DEFAULT 1,
    "planner" TEXT NOT NULL,
    "fellBack" BOOLEAN NOT NULL DEFAULT false,
    "agentIds" UUID[],
    "templateId" UUID,
    "constraints" JSONB NOT NULL DEFAULT '{}',
    "failurePolicy" "WorkflowFailurePolicy" NOT NULL DEFAULT 'FAIL_WORKFLOW',
    "maxParallelSteps" INTEGER NOT NULL DEFAULT 16,
    "replans" INTEGER NOT NULL DEFAULT 0,
    "maxReplans" INTEGER NOT NULL DEFAULT 2,
    "replanTaskId" UUID,
    "idempotencyKey" TEXT,
    "lastSequence" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),

    CONSTRAINT "workflows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_steps" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "workflowId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "kind" "WorkflowStepKind" NOT NULL,
    "agentId" UUID,
    "input" JSONB NOT NULL DEFAULT '{}',
    "dependsOn" TEXT[],
    "failurePolicy" "WorkflowFailurePolicy",
    "complexity" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "estimate" JSONB NOT NULL DEFAULT '{}',
    "status" "WorkflowStepStatus" NOT NULL DEFAULT 'PENDING',
    "waitingOn" INTEGER NOT NULL DEFAULT 0,
    "position" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "taskId" UUID,
    "result" JSONB,
    "error" TEXT,
    "actual" JSONB,
    "startedAt" TIMESTAMPTZ(6),
    "completedAt" TIMESTAMPTZ(6),

    CONSTRAINT "workflow_steps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_step_edges" (
    "parentId" UUID NOT NULL,
    "childId" UUID NOT NULL,

    CONSTRAINT "workflow_step_edges_pkey" PRIMARY KEY ("parentId","childId")
);

-- CreateTable
CREATE TABLE "workflow_events" (
    "id" BIGSERIAL NOT NULL,
    "workflowId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "stepKey" TEXT,
    "status" TEXT NOT NULL,
    "progressPercent" INTEGER NOT NULL,
    "message" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "workflows_teamId_createdAt_id_idx" ON "workflows"("teamId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "workflows_teamId_status_createdAt_id_idx" ON "workflows"("teamId", "status", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "workflows_running_idx" ON "workflows"("updatedAt") WHERE (status = 'RUNNING'::"WorkflowStatus");

-- CreateIndex
CREATE UNIQUE INDEX "workflows_ownerId_idempotencyKey_key" ON "workflows"("ownerId", "idempotencyKey") WHERE ("idempotencyKey" IS NOT NULL);

-- CreateIndex
CREATE INDEX "workflow_steps_taskId_idx" ON "workflow_steps"("taskId");

-- CreateIndex
CREATE INDEX "workflow_steps_agentId_idx" ON "workflow_steps"("agentId");

-- CreateIndex
CREATE INDEX "workflow_steps_open_idx" ON "workflow_steps"("workflowId", "status") WHERE (status = ANY (ARRAY['PENDING'::"WorkflowStepStatus", 'READY'::"WorkflowStepStatus", 'RUNNING'::"WorkflowStepStatus"]));

-- CreateIndex
CREATE INDEX "workflow_steps_actuals_idx" ON "workflow_steps"("kind", "completedAt" DESC) WHERE (status = 'SUCCEEDED'::"WorkflowStepStatus");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_steps_workflowId_key_key" ON "workflow_steps"("workflowId", "key");

-- CreateIndex
CREATE INDEX "workflow_step_edges_childId_idx" ON "workflow_step_edges"("childId");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_events_workflowId_sequence_key" ON "workflow_events"("workflowId", "sequence");

-- AddForeignKey
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_steps" ADD CONSTRAINT "workflow_steps_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_steps" ADD CONSTRAINT "workflow_steps_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_steps" ADD CONSTRAINT "workflow_steps_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_step_edges" ADD CONSTRAINT "workflow_step_edges_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "workflow_steps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_step_edges" ADD CONSTRAINT "workflow_step_edges_childId_fkey" FOREIGN KEY ("childId") REFERENCES "workflow_steps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_events" ADD CONSTRAINT "workflow_events_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE CASCADE;
