// Retention: finished tasks (and, by cascade, their events and deliveries) older than the
// retention period of their status: FAILED, TIMEOUT and DEAD ones are kept longer by default
// than COMPLETED and CANCELLED ones (someone may look into them). By (status, completedAt).
import type { Queryable } from '../platform/db.js';

export interface TaskRetention {
  /** COMPLETED and CANCELLED. */
  retentionMs: number;
  /** FAILED and TIMEOUT. */
  failedRetentionMs: number;
  /** DEAD. */
  deadRetentionMs: number;
}

export async function deleteFinishedTasks(
  client: Queryable,
  { retentionMs, failedRetentionMs, deadRetentionMs }: TaskRetention,
): Promise<number> {
  return client.$executeRaw`
    DELETE FROM tasks
    WHERE (status IN ('COMPLETED', 'CANCELLED')
           AND "completedAt" < now() - ${retentionMs} * interval '1 millisecond')
       OR (status IN ('FAILED', 'TIMEOUT')
           AND "completedAt" < now() - ${failedRetentionMs} * interval '1 millisecond')
       OR (status = 'DEAD'
           AND "completedAt" < now() - ${deadRetentionMs} * interval '1 millisecond')`;
}
