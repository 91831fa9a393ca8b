// The heartbeat: extend this worker's leases and learn which of its tasks were asked to
// stop (the cancel poll that backs up the Redis push).
import { PREPARED, type Queryable } from '../platform/db.js';

/**
 * Only the tasks the worker holds (`taskIds`): a lease in its name it does not know of (a
 * commit whose answer was lost, its claims with it) expires and another worker takes it.
 */
export async function renewLeases(
  client: Queryable,
  workerId: string,
  leaseMs: number,
  taskIds: readonly string[],
) {
  return client.$queryRaw<Array<{ id: string; cancellationRequested: boolean }>>`${PREPARED}
    WITH held AS (
      -- Rows locked in id order, as finishTasks does: two multi-row updates of the same
      -- rows in different orders deadlock.
      SELECT id FROM tasks
      WHERE id = ANY(${taskIds}::uuid[]) AND "lockedBy" = ${workerId} AND status = 'RUNNING'
      ORDER BY id FOR UPDATE
    )
    UPDATE tasks t SET "lockedUntil" = now() + ${leaseMs} * interval '1 millisecond'
    FROM held WHERE t.id = held.id AND t."lockedBy" = ${workerId} AND t.status = 'RUNNING'
    RETURNING t.id, t."cancellationRequested"`;
}
