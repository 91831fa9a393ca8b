// One of the reconciler's repairs that is not a settle: tasks still pending or running for
// steps that have ended are cancelled, up to `limit` of each status a pass. Found from the open
// step tasks (the work in flight), each one's step looked up by its task, never from the steps
// (every step ever run). Each status off its partial index in that index's order
// (tasks_claim_order_idx, tasks_lockedUntil_idx), which the order puts first whatever the
// statistics say (as dueTasksRemain); the step through a LATERAL with a LIMIT, which the planner
// cannot turn into a join. Planned freely, with statistics taken while a workflow's steps were
// all PENDING, it guessed ended steps rare and started from them: a scan of the whole steps
// table on every pass of every worker (45-290 ms over 20,000 to 80,000 steps, bench/README.md,
// "Workflows"); with statistics from a burst, it read the whole tasks table.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { cancelTasksCtes, type CancelledTask } from '../../../queue/cancel-tasks.js';

/** The step of task `t`, if it has ended. */
const endedStep = Prisma.sql`
  SELECT 1 FROM workflow_steps s
  WHERE s."taskId" = t.id AND s.status IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED')
  LIMIT 1`;

export async function cancelTasksOfEndedSteps(
  client: Queryable,
  limit = 500,
): Promise<CancelledTask[]> {
  return client.$queryRaw<CancelledTask[]>`
    WITH ${cancelTasksCtes(
      Prisma.sql`
        SELECT id FROM (
          (SELECT t.id FROM tasks t CROSS JOIN LATERAL (${endedStep}) ended
           WHERE t.status = 'PENDING' AND t.type = 'workflow_step' AND NOT t."cancellationRequested"
           ORDER BY t.priority, t."runAt", t."createdAt", t.id LIMIT ${limit})
          UNION ALL
          (SELECT t.id FROM tasks t CROSS JOIN LATERAL (${endedStep}) ended
           WHERE t.status = 'RUNNING' AND t.type = 'workflow_step' AND NOT t."cancellationRequested"
           ORDER BY t."lockedUntil" LIMIT ${limit})
        ) open_tasks_of_ended_steps`,
      'cancelled: its workflow step has ended',
    )}
    SELECT id, status::text AS status, "lastSequence" FROM cancelled_tasks`;
}
