// The clean-up of workers silent for longer than their retention (stopped, or killed and never
// back), and of claim counts as old (the metrics summary reads minutes, not hours).
import type { Queryable } from '../platform/db.js';

/** How long a worker stays listed after its last heartbeat (Query.workers). */
export const WORKER_RETENTION_MS = 3_600_000;

/** Returns how many worker rows went. */
export async function pruneWorkers(client: Queryable, retentionMs: number): Promise<number> {
  const [row] = await client.$queryRaw<Array<{ workers: number }>>`
    WITH counts AS (
      DELETE FROM claim_counts WHERE at < now() - ${retentionMs} * interval '1 millisecond'
    ),
    gone AS (
      DELETE FROM workers
      WHERE "lastHeartbeatAt" < now() - ${retentionMs} * interval '1 millisecond'
      RETURNING 1
    )
    SELECT count(*)::int AS workers FROM gone`;
  return row?.workers ?? 0;
}
