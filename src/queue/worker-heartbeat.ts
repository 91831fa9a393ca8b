// A worker's heartbeat row, in one statement: it is alive, how many of its slots are busy, and
// (when there were any) what its claims did since its previous heartbeat, added to
// claim_counts. The row is made again if the clean-up pruned it (a worker frozen for long).
import { PREPARED, type Queryable } from '../platform/db.js';

export interface WorkerBeat {
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
  busySlots: number;
  /** Tasks claimed since the previous heartbeat that wrote. */
  claims: number;
  /** Claims since then that came back short while due tasks remained (src/workers/turns.ts). */
  conflicts: number;
}

export async function writeWorkerHeartbeat(client: Queryable, beat: WorkerBeat): Promise<void> {
  await client.$executeRaw`${PREPARED}
    WITH beat AS (
      INSERT INTO workers (id, hostname, pid, concurrency, "busySlots")
      VALUES (${beat.id}, ${beat.hostname}, ${beat.pid}::int, ${beat.concurrency}::int,
              ${beat.busySlots}::int)
      ON CONFLICT (id) DO UPDATE
      SET "lastHeartbeatAt" = now(), "busySlots" = excluded."busySlots"
    )
    INSERT INTO claim_counts (at, "workerId", claims, conflicts)
    SELECT now(), ${beat.id}, ${beat.claims}::int, ${beat.conflicts}::int
    WHERE ${beat.claims}::int > 0 OR ${beat.conflicts}::int > 0`;
}
