// What the reconciler looks for first (what a killed process can leave between commits): live
// steps whose task has ended or is gone (no row, and no lease on the step: requeue-steps-without-
// task.ts).
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
  attempts: number | null;
}

export function selectOrphanedSteps(client: Queryable, limit = 500): Promise<OrphanedStep[]> {
  return client.$queryRaw`
    SELECT s.id AS "stepId", s."workflowId", t.id AS "taskId", t.status, t.result, t.error, t.payload,
           t."startedAt"::timestamptz AS "startedAt", t."completedAt"::timestamptz AS "completedAt", t.attempts
    FROM workflow_steps s LEFT JOIN tasks t ON t.id = s."taskId"
    WHERE s.status IN ('READY', 'RUNNING')
      AND ((s."taskId" IS NULL AND s.status = 'RUNNING')
        OR (s."taskId" IS NOT NULL
            AND ((t.id IS NULL AND (s."leaseUntil" IS NULL OR s."leaseUntil" < now()))
              OR t.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'))))
    LIMIT ${limit}`;
}
