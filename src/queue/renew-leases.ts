// The heartbeat: extend this worker's leases and learn which of its tasks were asked to
// stop (the cancel poll that backs up the Redis push).
import { PREPARED, type Queryable } from '../platform/db.js';

/**
 * Only the tasks the worker holds (`taskIds`): a lease in its name it does not know of (a
 * commit whose answer was lost, its claims with it) expires and another worker takes it.
 * Returns each of those still the worker's: renewed, or, its row locked by another transaction
 * at that moment (most often this worker's own turn writing its end), left for the next beat.
 * Those are not waited for: waiting, the heartbeat kept the rows it had locked before them
 * from every other writer, so one long commit (a hook's) held up the ends of the worker's
 * other tasks for as long as it lasted.
 */
export async function renewLeases(
  client: Queryable,
  workerId: string,
  leaseMs: number,
  taskIds: readonly string[],
) {
  return client.$queryRaw<
    Array<{ id: string; cancellationRequested: boolean; renewed: boolean }>
  >`${PREPARED}
    WITH held AS MATERIALIZED (
      SELECT id FROM tasks
      WHERE id = ANY(${taskIds}::uuid[]) AND "lockedBy" = ${workerId} AND status = 'RUNNING'
      FOR UPDATE SKIP LOCKED
    ),
    -- By key alone: the rows are locked as held, so nothing changed them since. Checked again
    -- here, they led the cached generic plan (guessing one running task) to scan the running
    -- tasks and join each to the whole held list: 999,000 rows compared and about 90 ms of
    -- PostgreSQL's CPU a heartbeat for 1,000 held tasks (bench/README.md, "Queue").
    renewed AS (
      UPDATE tasks t SET "lockedUntil" = now() + ${leaseMs} * interval '1 millisecond'
      FROM held WHERE t.id = held.id
      RETURNING t.id, t."cancellationRequested"
    )
    SELECT id, "cancellationRequested", true AS renewed FROM renewed
    UNION ALL
    -- Skipped above: still the worker's as last committed (this statement's snapshot).
    SELECT id, "cancellationRequested", false FROM tasks
    WHERE id = ANY(${taskIds}::uuid[]) AND "lockedBy" = ${workerId} AND status = 'RUNNING'
      AND id NOT IN (SELECT id FROM held)`;
}
