// Retention: finished tasks (and, by cascade, their events and deliveries) older than the
// retention period.
import type { PrismaClient } from '../generated/prisma/client.js';

export async function deleteFinishedTasks(
  client: Pick<PrismaClient, '$executeRaw'>,
  retentionMs: number,
): Promise<number> {
  return client.$executeRaw`
    DELETE FROM tasks
    WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD')
      AND "completedAt" < now() - ${retentionMs} * interval '1 millisecond'`;
}
