// The reconciler's repairs that are not a settle: a step whose task is gone runs again (READY,
// no task), and tasks still running for steps that have ended are cancelled.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { cancelTasksCtes, type CancelledTask } from '../../../queue/cancel-tasks.js';

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

export async function cancelTasksOfEndedSteps(client: Queryable): Promise<CancelledTask[]> {
  return client.$queryRaw<CancelledTask[]>`
    WITH ${cancelTasksCtes(
      Prisma.sql`
        SELECT t.id FROM tasks t JOIN workflow_steps s ON s."taskId" = t.id
        WHERE t.type = 'workflow_step' AND t.status IN ('PENDING', 'RUNNING') AND NOT t."cancellationRequested"
          AND s.status IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED')`,
      'cancelled: its workflow step has ended',
    )}
    SELECT id, status::text AS status, "lastSequence" FROM cancelled_tasks`;
}
