// What the reconciler looks for (what a killed process can leave between commits): live steps
// whose task has ended or is gone, and running workflows that are stalled (with no replan
// awaited: READY steps without a task, or nothing left to run; or a replan whose task has
// ended without landing).
import { Prisma } from '../../../generated/prisma/client.js';
import type { TaskStatus } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';

export interface OrphanedStep {
  stepId: string;
  workflowId: string;
  taskId: string | null;
  status: TaskStatus | null;
  result: unknown;
  error: string | null;
  payload: unknown;
  startedAt: Date | null;
  completedAt: Date | null;
}

export function selectOrphanedSteps(client: Queryable, limit = 500): Promise<OrphanedStep[]> {
  return client.$queryRaw`
    SELECT s.id AS "stepId", s."workflowId", t.id AS "taskId", t.status, t.result, t.error, t.payload,
           t."startedAt"::timestamptz AS "startedAt", t."completedAt"::timestamptz AS "completedAt"
    FROM workflow_steps s LEFT JOIN tasks t ON t.id = s."taskId"
    WHERE s.status IN ('READY', 'RUNNING')
      AND ((s."taskId" IS NULL AND s.status = 'RUNNING')
        OR (s."taskId" IS NOT NULL AND (t.id IS NULL OR t.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'))))
    LIMIT ${limit}`;
}

/** The workflow `w` awaits a replan whose task has ended without landing it. */
const REPLAN_ENDED = Prisma.sql`(w."replanTaskId" IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM tasks t WHERE t.id = w."replanTaskId" AND t.status IN ('PENDING', 'RUNNING')))`;

export function selectStalledWorkflows(
  client: Queryable,
  quietMs: number,
  limit = 200,
): Promise<Array<{ id: string }>> {
  return client.$queryRaw`
    SELECT w.id FROM workflows w
    WHERE w.status = 'RUNNING' AND w."updatedAt" < now() - ${quietMs} * interval '1 millisecond'
      AND ((w."replanTaskId" IS NULL
            AND (EXISTS (SELECT 1 FROM workflow_steps s WHERE s."workflowId" = w.id AND s.status IN ('PENDING', 'READY')
                           AND s."taskId" IS NULL AND (s.status = 'READY' OR s."waitingOn" <= 0))
              OR NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s."workflowId" = w.id AND s.status IN ('PENDING', 'READY', 'RUNNING'))))
        OR ${REPLAN_ENDED})
    LIMIT ${limit}`;
}

/**
 * A stalled workflow locked for its repair (undefined: no longer running, or a commit holds
 * it), with whether its replan ended read again under the lock: a new replan or a retry may
 * have come between the scan and the repair.
 */
export async function lockStalledWorkflow(
  client: Queryable,
  workflowId: string,
): Promise<{ replanEnded: boolean } | undefined> {
  const rows = await client.$queryRaw<Array<{ replanEnded: boolean }>>`
    SELECT ${REPLAN_ENDED} AS "replanEnded" FROM workflows w
    WHERE w.id = ${workflowId}::uuid AND w.status = 'RUNNING' FOR UPDATE OF w SKIP LOCKED`;
  return rows[0];
}
