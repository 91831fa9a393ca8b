// The tasks the given workers run now, by their lease owner (lockedBy): RUNNING and started (a
// task claimed into a worker's local queue has no startedAt until it starts). Off the partial
// index of RUNNING tasks (tasks_lockedUntil_idx): as many rows as slots and local queues hold.
import type { Queryable } from '../../../platform/db.js';

export interface RunningTaskRow {
  id: string;
  type: string;
  workerId: string;
  startedAt: Date;
}

export function selectRunningTasks(
  client: Queryable,
  workerIds: readonly string[],
): Promise<RunningTaskRow[]> {
  return client.$queryRaw<RunningTaskRow[]>`
    SELECT id, type, "lockedBy" AS "workerId", "startedAt"
    FROM tasks
    WHERE status = 'RUNNING' AND "lockedBy" = ANY(${workerIds}::text[]) AND "startedAt" IS NOT NULL
    ORDER BY "startedAt", id`;
}
