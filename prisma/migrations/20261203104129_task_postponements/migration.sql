-- Runs that asked to run again later because what they wait on is unavailable for a while (an
-- LLM route cooling down): they spend a budget of their own (TASK_MAX_POSTPONEMENTS), not the
-- task's attempts (docs/architecture.md, "Heartbeat"). A constant default: no table rewrite.

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "postponements" INTEGER NOT NULL DEFAULT 0;
