-- Task events without a foreign key to tasks: every event is written by the statement that
-- changes (or inserts) its task, so the task is there; the key's check, a query per inserted
-- event, was a tenth of a worker turn's CPU (docs/architecture.md, "Task events"). What its
-- ON DELETE CASCADE did, a statement trigger does: a task's events go with it, once per
-- statement (retention, an agent's or topic's tasks deleted with it), and with TRUNCATE.
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_taskId_fkey";

CREATE FUNCTION delete_events_of_deleted_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM task_events e USING deleted_tasks d WHERE e."taskId" = d.id;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_delete_events AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS deleted_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION delete_events_of_deleted_tasks();

CREATE FUNCTION truncate_task_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE task_events;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_truncate_events AFTER TRUNCATE ON tasks
  FOR EACH STATEMENT EXECUTE FUNCTION truncate_task_events();
