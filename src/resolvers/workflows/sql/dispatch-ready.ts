// Gives READY steps their tasks, up to each workflow's maxParallelSteps (counting the steps
// that already have one), in plan order: the steps, their tasks and the tasks' first events in
// one statement. The workflows are locked first (a commit holds them already).

import { PREPARED, type Queryable } from '../../../platform/db.js';
import { insertTasksCtes } from '../../../queue/insert-tasks.js';
import { workflowStep } from '../step-task.js';

export interface DispatchedTask {
  id: string;
  lastSequence: number;
  workflowId: string;
}

export async function dispatchReadySteps(
  client: Queryable,
  workflowIds: readonly string[],
): Promise<DispatchedTask[]> {
  if (workflowIds.length === 0) return [];
  return client.$queryRaw<DispatchedTask[]>`${PREPARED}
    WITH live AS (
      SELECT w.id, w."teamId", w."ownerId", w."maxParallelSteps" FROM workflows w
      WHERE w.id = ANY(${workflowIds}::uuid[]) AND w.status = 'RUNNING'
      ORDER BY w.id FOR UPDATE
    ),
    picked AS (
      SELECT s.id, s."workflowId", l."teamId", l."ownerId"
      FROM live l
      CROSS JOIN LATERAL (
        SELECT r.id, r."workflowId" FROM workflow_steps r
        WHERE r."workflowId" = l.id AND r.status = 'READY' AND r."taskId" IS NULL
        ORDER BY r.position
        LIMIT greatest(0, l."maxParallelSteps" - (
          SELECT count(*) FROM workflow_steps d
          WHERE d."workflowId" = l.id AND d.status IN ('READY', 'RUNNING') AND d."taskId" IS NOT NULL))
      ) s
    ),
    source AS (
      SELECT jsonb_build_object('workflowId', "workflowId", 'stepId', id) AS payload, "ownerId", "teamId" FROM picked
    ),
    ${insertTasksCtes('source', { type: workflowStep.name, priority: 'MEDIUM', maxAttempts: workflowStep.maxAttempts, timeoutSeconds: workflowStep.timeoutSeconds })},
    assigned AS (
      UPDATE workflow_steps s SET "taskId" = t.id
      FROM inserted_tasks t WHERE s.id = (t.payload->>'stepId')::uuid
      RETURNING s.id
    )
    SELECT t.id, t."lastSequence", (t.payload->>'workflowId')::uuid AS "workflowId" FROM inserted_tasks t`;
}
