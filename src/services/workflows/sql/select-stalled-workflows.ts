// Running workflows that are stalled (what a killed process can leave between commits): with
// no replan awaited, READY steps without a task, or nothing left to run; or a replan whose task
// has ended without landing.
import type { Queryable } from '../../../platform/db.js';
import { REPLAN_ENDED } from './replan-ended.js';

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
              OR NOT EXISTS (SELECT 1 FROM workflow_steps s
                             WHERE s."workflowId" = w.id AND s.status IN ('PENDING', 'READY', 'RUNNING'))))
        OR ${REPLAN_ENDED})
    LIMIT ${limit}`;
}
