// After steps changed: READY steps get their tasks, up to each workflow's maxParallelSteps
// (counting the steps that already have one), in plan order, unless the workflow awaits a
// replan (what has not started waits for the new tail); and a running workflow with no
// step left to run (and no replan awaited) ends, SUCCEEDED unless a step FAILED or was
// CANCELLED, with its event. One statement: it runs on every commit. The workflows are
// locked first (a commit holds them already); dispatching changes no step's status, so
// "nothing left" reads the same before and after it.

import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import { insertTasksCtes, type TaskBatchSpec } from '../../../queue/insert-tasks.js';
import { workflowStep } from '../tasks/specs.js';

/** The tasks this statement inserts, one per dispatched step. */
export const STEP_TASKS: TaskBatchSpec = {
  type: workflowStep.name,
  priority: 'MEDIUM',
  maxAttempts: workflowStep.maxAttempts,
  timeoutSeconds: workflowStep.timeoutSeconds,
};

/**
 * The columns every step task row is inserted with (STEP_TASKS's, its step in its payload, its
 * workflow's owner and team), before each insert's own (its status and what goes with it);
 * their values: stepTaskValues.
 */
export const STEP_TASK_COLUMNS = Prisma.sql`id, type, priority, payload, "maxAttempts", "timeoutSeconds",
  "ownerId", "teamId"`;

/** The values of STEP_TASK_COLUMNS, each an expression of the insert's own rows. */
export function stepTaskValues(row: {
  taskId: Prisma.Sql;
  workflowId: Prisma.Sql;
  stepId: Prisma.Sql;
  ownerId: Prisma.Sql;
  teamId: Prisma.Sql;
}): Prisma.Sql {
  return Prisma.sql`${row.taskId}, ${STEP_TASKS.type}, ${STEP_TASKS.priority}::"TaskPriority",
    jsonb_build_object('workflowId', ${row.workflowId}, 'stepId', ${row.stepId}),
    ${STEP_TASKS.maxAttempts}, ${STEP_TASKS.timeoutSeconds}, ${row.ownerId}, ${row.teamId}`;
}

export interface AdvancedRow {
  change: 'task' | 'workflow';
  /** A new task's id, or the ended workflow's. */
  id: string;
  lastSequence: number;
  workflowId: string;
}

export async function dispatchAndComplete(
  client: Queryable,
  workflowIds: readonly string[],
): Promise<AdvancedRow[]> {
  if (workflowIds.length === 0) return [];
  return client.$queryRaw<AdvancedRow[]>`${PREPARED}
    WITH live AS (
      SELECT w.id, w."teamId", w."ownerId", w."maxParallelSteps", w."replanTaskId" FROM workflows w
      WHERE w.id = ANY(${workflowIds}::uuid[]) AND w.status = 'RUNNING'
      ORDER BY w.id FOR UPDATE
    ),
    picked AS (
      SELECT s.id, s."workflowId", l."teamId", l."ownerId"
      FROM live l
      CROSS JOIN LATERAL (
        SELECT r.id, r."workflowId" FROM workflow_steps r
        WHERE r."workflowId" = l.id AND r.status = 'READY' AND r."taskId" IS NULL
          AND l."replanTaskId" IS NULL
        ORDER BY r.position
        LIMIT greatest(0, l."maxParallelSteps" - (
          -- A FILTER, not a WHERE: the live-steps index reads the workflow's few open steps, where
          -- "taskId" IS NOT NULL could lead the planner to the taskId index (every step's task).
          SELECT count(*) FILTER (WHERE d."taskId" IS NOT NULL) FROM workflow_steps d
          WHERE d."workflowId" = l.id AND d.status IN ('READY', 'RUNNING')))
      ) s
    ),
    source AS (
      SELECT jsonb_build_object('workflowId', "workflowId", 'stepId', id) AS payload, "ownerId", "teamId" FROM picked
    ),
    ${insertTasksCtes('source', STEP_TASKS)},
    assigned AS (
      UPDATE workflow_steps s SET "taskId" = t.id
      FROM inserted_tasks t WHERE s.id = (t.payload->>'stepId')::uuid
      RETURNING s.id
    ),
    done AS (
      SELECT l.id,
             EXISTS (SELECT 1 FROM workflow_steps s
                     WHERE s."workflowId" = l.id AND s.status IN ('FAILED', 'CANCELLED')) AS failed
      FROM live l
      WHERE l."replanTaskId" IS NULL
        AND NOT EXISTS (SELECT 1 FROM workflow_steps s
                        WHERE s."workflowId" = l.id AND s.status IN ('PENDING', 'READY', 'RUNNING'))
    ),
    ended AS (
      UPDATE workflows w
      SET status = CASE WHEN d.failed THEN 'FAILED'::"WorkflowStatus" ELSE 'SUCCEEDED'::"WorkflowStatus" END,
          error = CASE WHEN d.failed THEN 'steps failed or were cancelled' ELSE NULL END,
          "completedAt" = now(), "lastSequence" = w."lastSequence" + 1, "updatedAt" = now()
      FROM done d WHERE w.id = d.id
      RETURNING w.id, w."lastSequence", w.status
    ),
    end_events AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT id, "lastSequence", 'WORKFLOW', NULL, status::text, CASE WHEN status = 'SUCCEEDED' THEN 100 ELSE 0 END,
             CASE WHEN status = 'SUCCEEDED' THEN 'every step is done' ELSE 'steps failed or were cancelled' END
      FROM ended
    )
    SELECT 'task' AS change, t.id, t."lastSequence", (t.payload->>'workflowId')::uuid AS "workflowId"
    FROM inserted_tasks t
    UNION ALL
    SELECT 'workflow', e.id, e."lastSequence", e.id FROM ended e`;
}
