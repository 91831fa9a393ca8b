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
      -- Rows locked in id order, as the end of an attempt locks them (write-changes.ts): two
      -- multi-row updates of the same rows in different orders deadlock.
      SELECT id FROM tasks
      WHERE id = ANY(${taskIds}::uuid[]) AND "lockedBy" = ${workerId} AND status = 'RUNNING'
      ORDER BY id FOR UPDATE
    )
    -- By key alone: the rows are locked as held, so nothing changed them since. Checked again
    -- here, they led the cached generic plan (guessing one running task) to scan the running
    -- tasks and join each to the whole held list: 999,000 rows compared and about 90 ms of
    -- PostgreSQL's CPU a heartbeat for 1,000 held tasks (bench/README.md, "Queue").
    UPDATE tasks t SET "lockedUntil" = now() + ${leaseMs} * interval '1 millisecond'
    FROM held WHERE t.id = held.id
    RETURNING t.id, t."cancellationRequested"`;
}
