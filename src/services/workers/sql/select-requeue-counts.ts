// Requeues and dead letters over the window, from the event log: a retry is a failed attempt
// scheduled again (its event PENDING, step 'waiting to retry', written by write-changes.ts);
// a lost lease, a running task taken back from a worker that stopped renewing it (its event's
// message 'lease expired: …', reclaim-expired.ts); a dead letter, a task that reached DEAD
// (attempts or lost leases used up). By task_events_requeued_at_idx, which holds only the
// PENDING and DEAD events past a task's first.
import type { Queryable } from '../../../platform/db.js';

export interface RequeueCounts {
  retries: number;
  leasesLost: number;
  deadLettered: number;
}

export async function selectRequeueCounts(
  client: Queryable,
  windowMs: number,
): Promise<RequeueCounts> {
  const [row] = await client.$queryRaw<RequeueCounts[]>`
    SELECT
      count(*) FILTER (WHERE status = 'PENDING' AND "currentStep" = 'waiting to retry')::int
        AS retries,
      count(*) FILTER (WHERE message LIKE 'lease expired:%')::int AS "leasesLost",
      count(*) FILTER (WHERE status = 'DEAD')::int AS "deadLettered"
    FROM task_events
    WHERE status IN ('PENDING', 'DEAD') AND sequence > 1
      AND at > now() - ${windowMs} * interval '1 millisecond'`;
  return row ?? { retries: 0, leasesLost: 0, deadLettered: 0 };
}
