// A graceful stop: the worker's row stays, marked stopped with no busy slot, so the operator
// still sees it until the clean-up prunes it (pruneWorkers).
import type { Queryable } from '../platform/db.js';

export async function markWorkerStopped(client: Queryable, workerId: string): Promise<void> {
  await client.$executeRaw`
    UPDATE workers SET "stoppedAt" = now(), "busySlots" = 0 WHERE id = ${workerId}`;
}
