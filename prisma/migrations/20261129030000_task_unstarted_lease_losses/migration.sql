-- Leases lost before a run's start was recorded: the next claim of such a task records its
-- start at once, so a task that takes its worker down within the start's delay still spends
-- its lease-loss budget and ends DEAD (docs/architecture.md, "Heartbeat"). A constant default:
-- no table rewrite.

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "unstartedLeaseLosses" INTEGER NOT NULL DEFAULT 0;
