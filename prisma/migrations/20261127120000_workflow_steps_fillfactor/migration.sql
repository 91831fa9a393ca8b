-- Room on each page of workflow_steps for the new version of a row: a step's dependents are
-- counted down by each parent's commit (docs/workflows.md, "Running"), and an update that
-- changes no indexed column (the count alone) stays on its page as a heap-only tuple, with no
-- new entry in any of the table's six indexes.
ALTER TABLE "workflow_steps" SET (fillfactor = 80);
