// A replan replaces what has not started: steps still PENDING, or READY without a task.
import type { Queryable } from '../../../platform/db.js';

export async function deleteUnstartedSteps(
  client: Queryable,
  workflowId: string,
): Promise<string[]> {
  const rows = await client.$queryRaw<Array<{ key: string }>>`
    DELETE FROM workflow_steps
    WHERE "workflowId" = ${workflowId}::uuid
      AND (status = 'PENDING' OR (status = 'READY' AND "taskId" IS NULL))
    RETURNING key`;
  return rows.map((row) => row.key);
}
