// Steps resolved where a failure's policy runs (settle.ts, inside the transaction that ends
// the steps' tasks; completed steps commit in commit-steps.ts): steps whose task ended well
// (or whose failure SKIP absorbs) are resolved with their results, every step
// waiting on them counts one dependency less, those left waiting on none become READY, and
// each change is an event of its workflow's log. Only steps still live on that very task
// change, in RUNNING workflows, whose rows are locked in id order first. A step whose start
// was not recorded (it ended before it was due: see tasks/step.ts) gets it here, its RUNNING
// event just before its end's (not when its attempt is unknown: none is made up).
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';
import { startEvents } from './mark-running.js';

export interface StepResolution {
  taskId: string;
  status: 'SUCCEEDED' | 'SKIPPED';
  result: unknown;
  error: string | null;
  actual: unknown;
  message: string;
  /** Its task's attempt and start, for a step whose start was not recorded; null: unknown. */
  attempt: number | null;
  startedAt: Date | null;
}

export interface ResolvedLog {
  workflowId: string;
  lastSequence: number;
}

export async function resolveSteps(
  client: Queryable,
  resolutions: readonly StepResolution[],
): Promise<ResolvedLog[]> {
  if (resolutions.length === 0) return [];
  const taskIds = resolutions.map((each) => each.taskId);
  const statuses = resolutions.map((each) => each.status);
  const results = resolutions.map((each) =>
    each.result === undefined ? null : JSON.stringify(each.result),
  );
  const errors = resolutions.map((each) => each.error);
  const actuals = resolutions.map((each) => JSON.stringify(each.actual ?? null));
  const messages = resolutions.map((each) => each.message);
  const attempts = resolutions.map((each) => each.attempt);
  const startedAts = resolutions.map((each) => each.startedAt?.toISOString() ?? null);
  return client.$queryRaw<ResolvedLog[]>`${PREPARED}
    WITH input AS (
      SELECT * FROM unnest(${taskIds}::uuid[], ${statuses}::"WorkflowStepStatus"[], ${results}::jsonb[],
                           ${errors}::text[], ${actuals}::jsonb[], ${messages}::text[],
                           ${attempts}::int[], ${startedAts}::timestamptz[])
        AS i("taskId", status, result, error, actual, message, attempt, "startedAt")
    ),
    -- Found by task (its index) before anything else: the planner must not reach them from
    -- the workflows' open steps, one workflow at a time.
    target AS (
      SELECT s.id, s."workflowId", s."taskId", s.status = 'READY' AS unstarted, s.attempts FROM workflow_steps s
      WHERE s."taskId" = ANY(${taskIds}::uuid[]) AND s.status IN ('READY', 'RUNNING')
    ),
    locked AS (
      SELECT w.id FROM workflows w
      WHERE w.id IN (SELECT "workflowId" FROM target) AND w.status = 'RUNNING'
      ORDER BY w.id FOR UPDATE
    ),
    done AS (
      UPDATE workflow_steps s
      -- Its task's end, its events' and its workflow's time: the transaction's (commit-steps.ts).
      SET status = i.status, result = i.result, error = i.error, actual = i.actual,
          "completedAt" = now()::timestamptz(3),
          attempts = coalesce(i.attempt, s.attempts),
          "startedAt" = coalesce(s."startedAt", i."startedAt", now()::timestamptz(3))
      FROM target t JOIN input i ON i."taskId" = t."taskId"
      WHERE s.id = t.id AND s."taskId" = t."taskId" AND s.status IN ('READY', 'RUNNING')
        AND t."workflowId" IN (SELECT id FROM locked)
      -- Unstarted: its start (this attempt's, for a retried step) was never written.
      RETURNING s.id, s."workflowId", s.key, s.status, s.attempts, i.message,
                t.unstarted OR t.attempts < i.attempt AS unstarted
    ),
    released AS (
      SELECT e."childId", count(*)::int AS n FROM workflow_step_edges e JOIN done d ON d.id = e."parentId"
      GROUP BY e."childId"
    ),
    children AS (
      UPDATE workflow_steps c
      SET "waitingOn" = c."waitingOn" - r.n,
          status = CASE WHEN c.status = 'PENDING' AND c."waitingOn" - r.n <= 0 THEN 'READY'::"WorkflowStepStatus"
                        ELSE c.status END
      FROM released r
      WHERE c.id = r."childId"
      RETURNING c."workflowId", c.key, c.status, c.position,
                (c.status = 'READY' AND c."waitingOn" + r.n > 0) AS "becameReady"
    ),
    ${appendEventsCtes(Prisma.sql`${startEvents('done', 'WHERE unstarted AND attempts > 0')}
      UNION ALL
      SELECT "workflowId", 'STEP', key, status::text, 100, message, 1
      FROM done
      UNION ALL
      SELECT "workflowId", 'STEP', key, 'READY', 0, 'ready: its dependencies are done', 2 + position
      FROM children WHERE "becameReady"`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
