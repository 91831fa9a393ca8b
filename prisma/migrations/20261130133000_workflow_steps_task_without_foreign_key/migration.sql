-- A step's task without a foreign key to tasks: a step's taskId is only ever set by the
-- statement that inserts that task (a step commit, a dispatch), so the task is there; the
-- key's check, a query per dispatched step, was a tenth of a fan-out's commit
-- (docs/workflows.md, "The model"). What its ON DELETE SET NULL did, a statement trigger does:
-- a deleted task (retention, an agent's or topic's tasks deleted with it) leaves its step with
-- no task, once per statement, and so does a TRUNCATE of tasks.
ALTER TABLE "workflow_steps" DROP CONSTRAINT "workflow_steps_taskId_fkey";

CREATE FUNCTION unset_steps_of_deleted_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workflow_steps s SET "taskId" = NULL FROM deleted_tasks d WHERE s."taskId" = d.id;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_delete_unset_steps AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS deleted_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION unset_steps_of_deleted_tasks();

CREATE FUNCTION unset_steps_of_truncated_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workflow_steps SET "taskId" = NULL WHERE "taskId" IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_truncate_unset_steps AFTER TRUNCATE ON tasks
  FOR EACH STATEMENT EXECUTE FUNCTION unset_steps_of_truncated_tasks();
