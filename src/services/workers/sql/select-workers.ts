// The worker rows, newest first: alive is a recent heartbeat and no graceful stop, as
// QueueStats.workersAlive counts them (src/queue/queue-stats.ts). A small table: the clean-up
// keeps only the last hour's workers (src/queue/prune-workers.ts).
import type { Queryable } from '../../../platform/db.js';

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  slots: number;
  busySlots: number;
  startedAt: Date;
  lastHeartbeatAt: Date;
  stoppedAt: Date | null;
  alive: boolean;
}

/** At most this many: a deployment restarting often still answers in one page. */
export const MAX_WORKERS_LISTED = 500;

export function selectWorkers(client: Queryable, aliveWithinMs: number): Promise<WorkerRow[]> {
  return client.$queryRaw<WorkerRow[]>`
    SELECT id, hostname AS host, pid, concurrency AS slots, "busySlots", "startedAt",
           "lastHeartbeatAt", "stoppedAt",
           "stoppedAt" IS NULL
             AND "lastHeartbeatAt" > now() - ${aliveWithinMs} * interval '1 millisecond' AS alive
    FROM workers
    ORDER BY "startedAt" DESC, id
    LIMIT ${MAX_WORKERS_LISTED}`;
}
