// A step whose task ended badly, as its failure policy says: FAILED (FAIL_WORKFLOW), or
// SKIPPED with its error (SKIP_BRANCH, REPLAN). Only while it is live on that task. A start
// never written (its record failed, or its worker died before it was due) is written here,
// its RUNNING event just before the end's, as resolve-steps.ts does.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';
import { startEvents } from './mark-running.js';

export async function endStep(
  client: Queryable,
  step: {
    id: string;
    taskId: string;
    status: 'FAILED' | 'SKIPPED';
    error: string;
    actual: unknown;
    message: string;
    /** The task's attempt and start; null: unknown (no RUNNING event is made up). */
    attempt: number | null;
    startedAt: Date | null;
  },
): Promise<Array<{ workflowId: string; lastSequence: number }>> {
  return client.$queryRaw`
    WITH target AS (
      SELECT s.id, s.status = 'READY' OR s.attempts < ${step.attempt}::int AS unstarted FROM workflow_steps s
      WHERE s.id = ${step.id}::uuid AND s."taskId" = ${step.taskId}::uuid AND s.status IN ('READY', 'RUNNING')
    ),
    ended AS (
      UPDATE workflow_steps s
      SET status = ${step.status}::"WorkflowStepStatus", error = ${step.error},
          actual = ${JSON.stringify(step.actual ?? null)}::jsonb, "completedAt" = now(),
          attempts = coalesce(${step.attempt}::int, s.attempts),
          "startedAt" = coalesce(s."startedAt", ${step.startedAt}::timestamptz)
      FROM target t
      WHERE s.id = t.id
      RETURNING s."workflowId", s.key, s.status, s.attempts, t.unstarted
    ),
    ${appendEventsCtes(Prisma.sql`${startEvents('ended', 'WHERE unstarted AND attempts > 0')}
      UNION ALL
      SELECT "workflowId", 'STEP', key, status::text,
             CASE WHEN status = 'SKIPPED' THEN 100 ELSE 0 END,
             ${step.message}::text, 1
      FROM ended`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
