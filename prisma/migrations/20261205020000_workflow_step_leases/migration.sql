-- A step that a commit hands straight to its worker (a continuation) may run before its task
-- row exists: the row is written when the run outlives its first moments, or by the commit of
-- its end (docs/workflows.md, "Running"). Until then the step itself says whose run it is and
-- until when: "leaseUntil", the task's lease as the commit set it. The reconciler leaves a step
-- whose task row is missing alone while that lease holds, and counts the runs lost that way in
-- "lostRuns" (a worker's death, not the step's fault: the lost-lease budget, not its retries).
ALTER TABLE "workflow_steps" ADD COLUMN "leaseUntil" TIMESTAMPTZ(3),
                             ADD COLUMN "lostRuns" INTEGER NOT NULL DEFAULT 0;
