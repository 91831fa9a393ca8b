// One of the reconciler's repairs that is not a settle: tasks still pending or running for
// steps that have ended are cancelled. The two statuses as an OR: each is a partial index's
// predicate (tasks_claim_order_idx, tasks_lockedUntil_idx), which an OR of them can combine;
// `IN (...)` matched neither, and every run scanned the whole tasks table (33 ms over 40,000).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { cancelTasksCtes, type CancelledTask } from '../../../queue/cancel-tasks.js';

export async function cancelTasksOfEndedSteps(client: Queryable): Promise<CancelledTask[]> {
  return client.$queryRaw<CancelledTask[]>`
    WITH ${cancelTasksCtes(
      Prisma.sql`
        SELECT t.id FROM tasks t JOIN workflow_steps s ON s."taskId" = t.id
        WHERE t.type = 'workflow_step' AND (t.status = 'PENDING' OR t.status = 'RUNNING')
          AND NOT t."cancellationRequested"
          AND s.status IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED')`,
      'cancelled: its workflow step has ended',
    )}
    SELECT id, status::text AS status, "lastSequence" FROM cancelled_tasks`;
}
