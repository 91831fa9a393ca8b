// The hot commit of a workflow (inside the transaction that ends the steps' tasks): steps whose
// task ended well (or whose failure SKIP absorbs) are resolved with their results, every step
// waiting on them counts one dependency less, those left waiting on none become READY, and
// each change is an event of its workflow's log. Only steps still live on that very task
// change, in RUNNING workflows, whose rows are locked in id order first.
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import { appendEventsCtes } from './append-events.js';

export interface StepResolution {
  taskId: string;
  status: 'SUCCEEDED' | 'SKIPPED';
  result: unknown;
  error: string | null;
  actual: unknown;
  message: string;
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
  return client.$queryRaw<ResolvedLog[]>`${PREPARED}
    WITH input AS (
      SELECT * FROM unnest(${taskIds}::uuid[], ${statuses}::"WorkflowStepStatus"[], ${results}::jsonb[],
                           ${errors}::text[], ${actuals}::jsonb[], ${messages}::text[])
        AS i("taskId", status, result, error, actual, message)
    ),
    locked AS (
      SELECT w.id FROM workflows w
      WHERE w.id IN (SELECT s."workflowId" FROM workflow_steps s JOIN input i ON i."taskId" = s."taskId")
        AND w.status = 'RUNNING'
      ORDER BY w.id FOR UPDATE
    ),
    done AS (
      UPDATE workflow_steps s
      SET status = i.status, result = i.result, error = i.error, actual = i.actual, "completedAt" = clock_timestamp()
      FROM input i
      WHERE s."taskId" = i."taskId" AND s.status IN ('READY', 'RUNNING') AND s."workflowId" IN (SELECT id FROM locked)
      RETURNING s.id, s."workflowId", s.key, s.status, i.message
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
    ${appendEventsCtes(Prisma.sql`
      SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", status::text AS status, 100 AS "progressPercent",
             message, 0 AS ord
      FROM done
      UNION ALL
      SELECT "workflowId", 'STEP', key, 'READY', 0, 'ready: its dependencies are done', 1 + position
      FROM children WHERE "becameReady"`)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}
