// Retention: finished tasks (and, by cascade, their events and deliveries) older than the
// retention period.
import type { Queryable } from '../platform/db.js';

export async function deleteFinishedTasks(client: Queryable, retentionMs: number): Promise<number> {
  return client.$executeRaw`
    DELETE FROM tasks
    WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD')
      AND "completedAt" < now() - ${retentionMs} * interval '1 millisecond'`;
}
