// A workflow starts (or runs again after a retry): it is RUNNING, and its steps waiting on
// nothing become READY, each change in its log.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';

export async function readyWaitingSteps(
  client: Queryable,
  workflowId: string,
): Promise<Array<{ workflowId: string; lastSequence: number }>> {
  return client.$queryRaw`
    WITH ready AS (
      UPDATE workflow_steps s SET status = 'READY'
      WHERE s."workflowId" = ${workflowId}::uuid AND s.status = 'PENDING' AND s."waitingOn" <= 0
      RETURNING s."workflowId", s.key, s.position
    ),
    ${appendEventsCtes(Prisma.sql`
      SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", 'READY' AS status, 0 AS "progressPercent",
             'ready: it waits on nothing' AS message, position AS ord
      FROM ready`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
