// retryWorkflow's reset (of a workflow that ended): the step retried from, every step that
// failed or was cancelled, and every step downstream of those (transitively, whatever its status:
// a succeeded one ran on inputs that change, so it runs again) go back to PENDING (no task, no
// result, no error), each waiting on its dependencies that are reset or have not succeeded or
// been skipped; a task of theirs still queued or running is cancelled (the end may have skipped
// one its worker was finishing); the workflow runs again. Every other step keeps its result.
// One statement.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { cancelTasksCtes, type CancelledTask } from '../../../queue/cancel-tasks.js';

export async function resetSteps(
  client: Queryable,
  workflowId: string,
  stepKey: string,
): Promise<
  { lastSequence: number; reset: number; tasks: CancelledTask[]; held: string[] } | undefined
> {
  const rows = await client.$queryRaw<
    Array<{
      lastSequence: number;
      reset: number;
      tasks: CancelledTask[] | null;
      held: string[] | null;
    }>
  >`
    WITH RECURSIVE seeds AS (
      SELECT s.id FROM workflow_steps s
      WHERE s."workflowId" = ${workflowId}::uuid AND (s.key = ${stepKey} OR s.status IN ('FAILED', 'CANCELLED'))
    ),
    downstream AS (
      SELECT id FROM seeds
      UNION
      SELECT e."childId" FROM workflow_step_edges e JOIN downstream d ON e."parentId" = d.id
    ),
    again AS (
      SELECT s.id, s.key, s.position, s."taskId" FROM workflow_steps s
      WHERE s."workflowId" = ${workflowId}::uuid AND s.id IN (SELECT id FROM downstream)
    ),
    ${cancelTasksCtes(Prisma.sql`SELECT "taskId" FROM again WHERE "taskId" IS NOT NULL`, 'its step is retried')},
    waits AS (
      SELECT a.id, count(p.id)::int AS n FROM again a
      LEFT JOIN workflow_step_edges e ON e."childId" = a.id
      LEFT JOIN workflow_steps p ON p.id = e."parentId"
        AND (p.id IN (SELECT id FROM again) OR p.status NOT IN ('SUCCEEDED', 'SKIPPED'))
      GROUP BY a.id
    ),
    reset AS (
      UPDATE workflow_steps s
      SET status = 'PENDING', "taskId" = NULL, result = NULL, error = NULL, actual = NULL, attempts = 0,
          "startedAt" = NULL, "completedAt" = NULL, "waitingOn" = w.n
      FROM waits w WHERE s.id = w.id
      RETURNING s.id
    ),
    numbered AS (
      SELECT a.key, row_number() OVER (ORDER BY a.position, a.key)::int AS n, count(*) OVER ()::int AS total
      FROM again a
    ),
    restarted AS (
      UPDATE workflows w
      SET status = 'RUNNING', "completedAt" = NULL, error = NULL, "replanTaskId" = NULL,
          "lastSequence" = w."lastSequence" + (SELECT count(*) FROM again)::int + 1, "updatedAt" = now()
      WHERE w.id = ${workflowId}::uuid
      RETURNING w.id, w."lastSequence"
    ),
    events AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT r.id, r."lastSequence" - n.total + n.n, 'STEP', n.key, 'PENDING', 0,
             'to run again (retry from ' || ${stepKey}::text || ')'
      FROM restarted r CROSS JOIN numbered n
      UNION ALL
      SELECT r.id, r."lastSequence" - (SELECT count(*) FROM again)::int, 'WORKFLOW', NULL, 'RUNNING', 0,
             'retrying from ' || ${stepKey}::text
      FROM restarted r
    )
    SELECT (SELECT "lastSequence" FROM restarted) AS "lastSequence", (SELECT count(*) FROM reset)::int AS reset,
           (SELECT json_agg(json_build_object('id', id, 'status', status, 'lastSequence', "lastSequence"))
            FROM cancelled_tasks) AS tasks,
           (SELECT json_agg(id) FROM held_tasks) AS held`;
  const row = rows[0];
  return row?.lastSequence == null
    ? undefined
    : { ...row, tasks: row.tasks ?? [], held: row.held ?? [] };
}
