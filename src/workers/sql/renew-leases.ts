// The heartbeat: extend this worker's leases and learn which of its tasks were asked to
// stop (the cancel poll that backs up the Redis push).
import type { PrismaClient } from '../../generated/prisma/client.js';

export async function renewLeases(client: Pick<PrismaClient, '$queryRaw'>, workerId: string, leaseMs: number) {
  return client.$queryRaw<Array<{ id: string; cancellationRequested: boolean }>>`
    UPDATE tasks SET "lockedUntil" = now() + ${leaseMs} * interval '1 millisecond'
    WHERE "lockedBy" = ${workerId} AND status = 'RUNNING'
    RETURNING id, "cancellationRequested"`;
}
