// Every worker's claims and claim conflicts over the window, as their heartbeats wrote them
// (src/queue/worker-heartbeat.ts), by claim_counts' key (at, workerId).
import type { Queryable } from '../../../platform/db.js';

export async function selectClaimCounts(
  client: Queryable,
  windowMs: number,
): Promise<{ claims: number; conflicts: number }> {
  const [row] = await client.$queryRaw<Array<{ claims: number; conflicts: number }>>`
    SELECT coalesce(sum(claims), 0)::int AS claims, coalesce(sum(conflicts), 0)::int AS conflicts
    FROM claim_counts WHERE at > now() - ${windowMs} * interval '1 millisecond'`;
  return row ?? { claims: 0, conflicts: 0 };
}
