// A step whose task ended badly, as its failure policy says: FAILED (FAIL_WORKFLOW), or
// SKIPPED with its error (SKIP_BRANCH, REPLAN). Only while it is live on that task.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';

export async function endStep(
  client: Queryable,
  step: {
    id: string;
    taskId: string;
    status: 'FAILED' | 'SKIPPED';
    error: string;
    actual: unknown;
    message: string;
  },
): Promise<Array<{ workflowId: string; lastSequence: number }>> {
  return client.$queryRaw`
    WITH ended AS (
      UPDATE workflow_steps s
      SET status = ${step.status}::"WorkflowStepStatus", error = ${step.error},
          actual = ${JSON.stringify(step.actual ?? null)}::jsonb, "completedAt" = now()
      WHERE s.id = ${step.id}::uuid AND s."taskId" = ${step.taskId}::uuid AND s.status IN ('READY', 'RUNNING')
      RETURNING s."workflowId", s.key, s.status
    ),
    ${appendEventsCtes(Prisma.sql`
      SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", status::text AS status,
             CASE WHEN status = 'SKIPPED' THEN 100 ELSE 0 END AS "progressPercent",
             ${step.message}::text AS message, 0 AS ord
      FROM ended`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
