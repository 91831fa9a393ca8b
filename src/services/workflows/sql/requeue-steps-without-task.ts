// One of the reconciler's repairs that is not a settle: a live step whose task is gone runs
// again (READY, no task).
import type { Queryable } from '../../../platform/db.js';

export async function requeueStepsWithoutTask(
  client: Queryable,
  stepIds: readonly string[],
): Promise<number> {
  if (stepIds.length === 0) return 0;
  const rows = await client.$queryRaw<Array<{ n: number }>>`
    WITH requeued AS (
      UPDATE workflow_steps s SET status = 'READY', "taskId" = NULL
      WHERE s.id = ANY(${stepIds}::uuid[]) AND s.status IN ('READY', 'RUNNING')
        AND (s."taskId" IS NULL OR NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s."taskId"))
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM requeued`;
  return rows[0]!.n;
}
