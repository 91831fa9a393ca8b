// A workflow ends before its steps do, in one statement: cancelled by its owner, or failed by
// a step under FAIL_WORKFLOW. Every open step is CANCELLED, their tasks are cancelled (running
// ones flagged, so their workers abort), and the log gets each step's event and then the
// workflow's. A workflow already past `from` is left alone: repeating it changes nothing.
import { Prisma } from '../../../generated/prisma/client.js';
import type { WorkflowStatus } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';
import { cancelTasksCtes, type CancelledTask } from '../../../queue/cancel-tasks.js';

export interface EndedWorkflow {
  /** null: the workflow was not in a `from` status (nothing changed). */
  lastSequence: number | null;
  tasks: CancelledTask[];
  /** Tasks to cancel that another transaction held (cancel-tasks.ts): to be asked again. */
  held: string[];
}

export async function endWorkflow(
  client: Queryable,
  workflowId: string,
  change: {
    from: WorkflowStatus[];
    to: 'CANCELLED' | 'FAILED';
    message: string;
    error: string | null;
  },
): Promise<EndedWorkflow> {
  const rows = await client.$queryRaw<
    Array<{ lastSequence: number | null; tasks: CancelledTask[] | null; held: string[] | null }>
  >`
    WITH target AS (
      SELECT w.id FROM workflows w
      WHERE w.id = ${workflowId}::uuid AND w.status = ANY(${change.from}::"WorkflowStatus"[])
      FOR UPDATE
    ),
    open AS (
      SELECT s.id, s.key, s."taskId", s.position FROM workflow_steps s
      WHERE s."workflowId" IN (SELECT id FROM target) AND s.status IN ('PENDING', 'READY', 'RUNNING')
    ),
    steps_cancelled AS (
      UPDATE workflow_steps s SET status = 'CANCELLED', "completedAt" = now()
      FROM open o WHERE s.id = o.id
      RETURNING s.id
    ),
    ${cancelTasksCtes(Prisma.sql`SELECT "taskId" FROM open WHERE "taskId" IS NOT NULL`, change.message)},
    numbered AS (
      SELECT o.key, row_number() OVER (ORDER BY o.position, o.key)::int AS n, count(*) OVER ()::int AS total
      FROM open o
    ),
    progress AS (
      SELECT CASE WHEN count(*) = 0 THEN 0
                  ELSE (100 * count(*) FILTER (WHERE s.status IN ('SUCCEEDED', 'SKIPPED')) / count(*))::int
             END AS percent
      FROM workflow_steps s WHERE s."workflowId" IN (SELECT id FROM target)
    ),
    ended AS (
      UPDATE workflows w
      SET status = ${change.to}::"WorkflowStatus", "completedAt" = now(), error = ${change.error},
          "replanTaskId" = NULL,
          "lastSequence" = w."lastSequence" + (SELECT count(*) FROM open)::int + 1, "updatedAt" = now()
      FROM target t WHERE w.id = t.id
      RETURNING w.id, w."lastSequence"
    ),
    events AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT e.id, e."lastSequence" - n.total - 1 + n.n, 'STEP', n.key, 'CANCELLED', 0, ${change.message}
      FROM ended e CROSS JOIN numbered n
      UNION ALL
      SELECT e.id, e."lastSequence", 'WORKFLOW', NULL, ${change.to}, (SELECT percent FROM progress), ${change.message}
      FROM ended e
    )
    SELECT (SELECT "lastSequence" FROM ended) AS "lastSequence",
           (SELECT json_agg(json_build_object('id', id, 'status', status, 'lastSequence', "lastSequence"))
            FROM cancelled_tasks) AS tasks,
           (SELECT json_agg(id) FROM held_tasks) AS held`;
  const row = rows[0]!;
  return { lastSequence: row.lastSequence, tasks: row.tasks ?? [], held: row.held ?? [] };
}
