// A running workflow whose steps have all ended (and which waits for no replan) ends too:
// SUCCEEDED when none FAILED or was CANCELLED, else FAILED; with its event. The open-steps
// index answers "anything left?" without reading the ended steps.
import type { Queryable } from '../../../platform/db.js';

export async function completeWorkflows(
  client: Queryable,
  workflowIds: readonly string[],
): Promise<Array<{ workflowId: string; lastSequence: number; status: string }>> {
  if (workflowIds.length === 0) return [];
  return client.$queryRaw`
    WITH done AS (
      SELECT w.id,
             EXISTS (SELECT 1 FROM workflow_steps s WHERE s."workflowId" = w.id AND s.status IN ('FAILED', 'CANCELLED')) AS failed
      FROM workflows w
      WHERE w.id = ANY(${workflowIds}::uuid[]) AND w.status = 'RUNNING' AND w."replanTaskId" IS NULL
        AND NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s."workflowId" = w.id AND s.status IN ('PENDING', 'READY', 'RUNNING'))
      ORDER BY w.id FOR UPDATE
    ),
    ended AS (
      UPDATE workflows w
      SET status = CASE WHEN d.failed THEN 'FAILED'::"WorkflowStatus" ELSE 'SUCCEEDED'::"WorkflowStatus" END,
          error = CASE WHEN d.failed THEN 'steps failed or were cancelled' ELSE NULL END,
          "completedAt" = now(), "lastSequence" = w."lastSequence" + 1, "updatedAt" = now()
      FROM done d WHERE w.id = d.id
      RETURNING w.id, w."lastSequence", w.status
    ),
    events AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT id, "lastSequence", 'WORKFLOW', NULL, status::text, CASE WHEN status = 'SUCCEEDED' THEN 100 ELSE 0 END,
             CASE WHEN status = 'SUCCEEDED' THEN 'every step is done' ELSE 'steps failed or were cancelled' END
      FROM ended
    )
    SELECT id AS "workflowId", "lastSequence", status::text AS status FROM ended`;
}
