-- Workflow events without a foreign key to workflows: every event is appended by the statement
-- that moves its workflow's lastSequence (the row is there and locked), and the key's check, a
-- query per inserted event, was a tenth of a step commit's time (docs/workflows.md,
-- "The model"). What its ON DELETE CASCADE did, a statement trigger does: a workflow's events
-- go with it (its owner deleted), once per statement, and with TRUNCATE.
ALTER TABLE "workflow_events" DROP CONSTRAINT "workflow_events_workflowId_fkey";

CREATE FUNCTION delete_events_of_deleted_workflows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM workflow_events e USING deleted_workflows d WHERE e."workflowId" = d.id;
  RETURN NULL;
END $$;

CREATE TRIGGER workflows_delete_events AFTER DELETE ON workflows
  REFERENCING OLD TABLE AS deleted_workflows
  FOR EACH STATEMENT EXECUTE FUNCTION delete_events_of_deleted_workflows();

CREATE FUNCTION truncate_workflow_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE workflow_events;
  RETURN NULL;
END $$;

CREATE TRIGGER workflows_truncate_events AFTER TRUNCATE ON workflows
  FOR EACH STATEMENT EXECUTE FUNCTION truncate_workflow_events();
