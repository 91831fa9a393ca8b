// SKIP_BRANCH: every step that depends on the failed one, directly or through others, is
// SKIPPED (none of them can have started: they were all waiting on it).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';

export async function skipBranch(
  client: Queryable,
  stepId: string,
  stepKey: string,
): Promise<Array<{ workflowId: string; lastSequence: number }>> {
  return client.$queryRaw`
    WITH RECURSIVE branch AS (
      SELECT e."childId" AS id FROM workflow_step_edges e WHERE e."parentId" = ${stepId}::uuid
      UNION
      SELECT e."childId" FROM workflow_step_edges e JOIN branch b ON e."parentId" = b.id
    ),
    skipped AS (
      UPDATE workflow_steps s SET status = 'SKIPPED', "completedAt" = now(),
             error = 'skipped: it depends on ' || ${stepKey}::text || ', which failed'
      WHERE s.id IN (SELECT id FROM branch) AND s.status IN ('PENDING', 'READY') AND s."taskId" IS NULL
      RETURNING s."workflowId", s.key, s.position
    ),
    ${appendEventsCtes(Prisma.sql`
      SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", 'SKIPPED' AS status, 100 AS "progressPercent",
             'skipped: it depends on ' || ${stepKey}::text || ', which failed' AS message, position AS ord
      FROM skipped`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
